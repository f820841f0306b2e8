package dev.flinkslm.models.internal;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.flinkslm.models.BundleException;

/**
 * Checks an ONNX graph's bytes before ONNX Runtime sees them: the graph must be one self-contained
 * {@code ModelProto}.
 *
 * <p>A tensor whose data lives in an external file ({@code data_location: EXTERNAL} or an
 * {@code external_data} entry) is refused wherever it appears: graph initializers, sparse
 * initializers, tensor attributes of nodes, subgraphs of control-flow nodes and model-local
 * functions. Such a file would be read by ONNX Runtime from a path the manifest does not check
 * (and, for a session created from bytes, relative to the process's working directory).
 * Stateless.
 */
public final class GraphCheck {

    private GraphCheck() {}

    /**
     * Parses the graph and refuses external data.
     *
     * @param name the graph's file name, for messages
     * @throws BundleException {@code UNREADABLE_MODEL} when the bytes are not an ONNX model,
     *     {@code UNSUPPORTED_GRAPH} when a tensor keeps its data outside the graph
     */
    public static void requireSelfContained(byte[] graph, String name) throws BundleException {
        OnnxMl.ModelProto model;
        try {
            CodedInputStream in = CodedInputStream.newInstance(graph);
            in.setSizeLimit(Integer.MAX_VALUE);
            // Tensor data stays a view on the caller's array instead of a second copy of the weights.
            in.enableAliasing(true);
            model = OnnxMl.ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new BundleException(BundleException.Reason.UNREADABLE_MODEL,
                    name + " is not an ONNX model (protobuf ModelProto): " + e.getMessage(), e);
        } catch (java.io.IOException e) {
            throw new BundleException(BundleException.Reason.UNREADABLE_MODEL, name + " cannot be parsed: " + e, e);
        }
        if (!model.hasGraph()) {
            throw new BundleException(BundleException.Reason.UNREADABLE_MODEL, name + " is an ONNX model without a graph");
        }
        graph(model.getGraph(), name, "graph");
        for (OnnxMl.FunctionProto function : model.getFunctionsList()) {
            for (OnnxMl.NodeProto node : function.getNodeList()) {
                node(node, name, "function '" + function.getName() + "'");
            }
        }
    }

    private static void graph(OnnxMl.GraphProto graph, String file, String where) throws BundleException {
        for (OnnxMl.TensorProto t : graph.getInitializerList()) {
            tensor(t, file, "initializer", where);
        }
        for (OnnxMl.SparseTensorProto t : graph.getSparseInitializerList()) {
            sparse(t, file, "sparse initializer", where);
        }
        for (OnnxMl.NodeProto node : graph.getNodeList()) {
            node(node, file, where);
        }
    }

    private static void node(OnnxMl.NodeProto node, String file, String where) throws BundleException {
        String owner = "attribute of node '" + node.getName() + "' (" + node.getOpType() + ")";
        for (OnnxMl.AttributeProto a : node.getAttributeList()) {
            if (a.hasT()) {
                tensor(a.getT(), file, owner, where);
            }
            for (OnnxMl.TensorProto t : a.getTensorsList()) {
                tensor(t, file, owner, where);
            }
            if (a.hasSparseTensor()) {
                sparse(a.getSparseTensor(), file, owner, where);
            }
            for (OnnxMl.SparseTensorProto t : a.getSparseTensorsList()) {
                sparse(t, file, owner, where);
            }
            String sub = "subgraph '" + a.getName() + "' of node '" + node.getName() + "' in " + where;
            if (a.hasG()) {
                graph(a.getG(), file, sub);
            }
            for (OnnxMl.GraphProto g : a.getGraphsList()) {
                graph(g, file, sub);
            }
        }
    }

    private static void sparse(OnnxMl.SparseTensorProto t, String file, String owner, String where)
            throws BundleException {
        if (t.hasValues()) {
            tensor(t.getValues(), file, owner + " values", where);
        }
        if (t.hasIndices()) {
            tensor(t.getIndices(), file, owner + " indices", where);
        }
    }

    private static void tensor(OnnxMl.TensorProto t, String file, String owner, String where) throws BundleException {
        boolean external = t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL
                || t.getExternalDataCount() > 0;
        if (!external) {
            return;
        }
        String location = "";
        for (OnnxMl.StringStringEntryProto e : t.getExternalDataList()) {
            if ("location".equals(e.getKey())) {
                location = " in '" + e.getValue() + "'";
            }
        }
        throw new BundleException(BundleException.Reason.UNSUPPORTED_GRAPH,
                file + ": tensor '" + t.getName() + "' (" + owner + " in " + where + ") keeps its data in an external"
                        + " file" + location + "; bundles must hold one self-contained graph, so save the model with"
                        + " all tensors inside it (for example onnx.save_model(model, path,"
                        + " save_as_external_data=False)), which works for graphs under 2 GB");
    }
}
