package dev.flinkslm.models.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.flinkslm.models.BundleException;

import java.io.IOException;

/**
 * Checks an ONNX graph's bytes before ONNX Runtime sees them: the graph must be one self-contained
 * {@code ModelProto}.
 *
 * <p>A tensor whose data lives in an external file ({@code data_location: EXTERNAL} or an
 * {@code external_data} entry) is refused wherever it appears: graph initializers, sparse
 * initializers, tensor attributes of nodes, subgraphs of control-flow nodes and model-local
 * functions. Such a file would be read by ONNX Runtime from a path the manifest does not check
 * (and, for a session created from bytes, relative to the process's working directory).
 *
 * <p>The walk reads the protobuf wire format directly, by the field numbers of {@code onnx.proto}
 * (only the messages that can hold a tensor are entered; tensor data is skipped, not copied), so the
 * runtime needs no generated ONNX classes. Stateless.
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
        try {
            CodedInputStream in = CodedInputStream.newInstance(graph);
            in.setSizeLimit(Integer.MAX_VALUE);
            in.enableAliasing(true); // nested messages stay views on the caller's array
            boolean hasGraph = false;
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                int field = WireFormat.getTagFieldNumber(tag);
                if (field == MODEL_GRAPH && isMessage(tag)) {
                    hasGraph = true;
                    graph(in.readBytes(), name, "graph", 0);
                } else if (field == MODEL_FUNCTIONS && isMessage(tag)) {
                    function(in.readBytes(), name);
                } else if (!in.skipField(tag)) {
                    break;
                }
            }
            if (!hasGraph) {
                throw new BundleException(
                        BundleException.Reason.UNREADABLE_MODEL, name + " is an ONNX model without a graph");
            }
        } catch (InvalidProtocolBufferException e) {
            throw new BundleException(
                    BundleException.Reason.UNREADABLE_MODEL,
                    name + " is not an ONNX model (protobuf ModelProto): " + e.getMessage(),
                    e);
        } catch (IOException e) {
            throw new BundleException(BundleException.Reason.UNREADABLE_MODEL, name + " cannot be parsed: " + e, e);
        }
    }

    // Field numbers of onnx.proto (ONNX IR version 10).
    private static final int MODEL_GRAPH = 7;
    private static final int MODEL_FUNCTIONS = 25;
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_SPARSE_INITIALIZER = 15;
    private static final int NODE_NAME = 3;
    private static final int NODE_OP_TYPE = 4;
    private static final int NODE_ATTRIBUTE = 5;
    private static final int ATTRIBUTE_NAME = 1;
    private static final int ATTRIBUTE_T = 5;
    private static final int ATTRIBUTE_G = 6;
    private static final int ATTRIBUTE_TENSORS = 10;
    private static final int ATTRIBUTE_GRAPHS = 11;
    private static final int ATTRIBUTE_SPARSE_TENSOR = 22;
    private static final int ATTRIBUTE_SPARSE_TENSORS = 23;
    private static final int FUNCTION_NAME = 1;
    private static final int FUNCTION_NODE = 7;
    private static final int SPARSE_VALUES = 1;
    private static final int SPARSE_INDICES = 2;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_EXTERNAL_DATA = 13;
    private static final int TENSOR_DATA_LOCATION = 14;
    private static final int DATA_LOCATION_EXTERNAL = 1;
    private static final int ENTRY_KEY = 1;
    private static final int ENTRY_VALUE = 2;

    /** Deepest nesting of subgraphs (control-flow bodies) that is walked. */
    private static final int MAX_DEPTH = 64;

    private static CodedInputStream open(ByteString bytes) {
        CodedInputStream in = bytes.newCodedInput();
        in.enableAliasing(true); // tensors are skipped or viewed, never copied
        return in;
    }

    private static boolean isMessage(int tag) {
        return WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
    }

    private static void function(ByteString bytes, String file) throws IOException, BundleException {
        String name = "";
        java.util.List<ByteString> nodes = new java.util.ArrayList<>();
        CodedInputStream in = open(bytes);
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == FUNCTION_NAME && isMessage(tag)) {
                name = in.readString();
            } else if (field == FUNCTION_NODE && isMessage(tag)) {
                nodes.add(in.readBytes());
            } else if (!in.skipField(tag)) {
                break;
            }
        }
        for (ByteString node : nodes) {
            node(node, file, "function '" + name + "'", 0);
        }
    }

    private static void graph(ByteString bytes, String file, String where, int depth)
            throws IOException, BundleException {
        if (depth > MAX_DEPTH) {
            throw new BundleException(
                    BundleException.Reason.UNREADABLE_MODEL,
                    file + ": subgraphs nested deeper than " + MAX_DEPTH + " levels (" + where + ")");
        }
        CodedInputStream in = open(bytes);
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == GRAPH_INITIALIZER && isMessage(tag)) {
                tensor(in.readBytes(), file, "initializer", where);
            } else if (field == GRAPH_SPARSE_INITIALIZER && isMessage(tag)) {
                sparse(in.readBytes(), file, "sparse initializer", where);
            } else if (field == GRAPH_NODE && isMessage(tag)) {
                node(in.readBytes(), file, where, depth);
            } else if (!in.skipField(tag)) {
                break;
            }
        }
    }

    private static void node(ByteString bytes, String file, String where, int depth)
            throws IOException, BundleException {
        String name = "";
        String opType = "";
        java.util.List<ByteString> attributes = new java.util.ArrayList<>();
        CodedInputStream in = open(bytes);
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == NODE_NAME && isMessage(tag)) {
                name = in.readString();
            } else if (field == NODE_OP_TYPE && isMessage(tag)) {
                opType = in.readString();
            } else if (field == NODE_ATTRIBUTE && isMessage(tag)) {
                attributes.add(in.readBytes());
            } else if (!in.skipField(tag)) {
                break;
            }
        }
        String owner = "attribute of node '" + name + "' (" + opType + ")";
        for (ByteString attribute : attributes) {
            attribute(attribute, file, owner, name, where, depth);
        }
    }

    private static void attribute(ByteString bytes, String file, String owner, String node, String where, int depth)
            throws IOException, BundleException {
        String name = "";
        java.util.List<ByteString> graphs = new java.util.ArrayList<>();
        CodedInputStream in = open(bytes);
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == ATTRIBUTE_NAME && isMessage(tag)) {
                name = in.readString();
            } else if ((field == ATTRIBUTE_T || field == ATTRIBUTE_TENSORS) && isMessage(tag)) {
                tensor(in.readBytes(), file, owner, where);
            } else if ((field == ATTRIBUTE_SPARSE_TENSOR || field == ATTRIBUTE_SPARSE_TENSORS) && isMessage(tag)) {
                sparse(in.readBytes(), file, owner, where);
            } else if ((field == ATTRIBUTE_G || field == ATTRIBUTE_GRAPHS) && isMessage(tag)) {
                graphs.add(in.readBytes());
            } else if (!in.skipField(tag)) {
                break;
            }
        }
        for (ByteString g : graphs) {
            graph(g, file, "subgraph '" + name + "' of node '" + node + "' in " + where, depth + 1);
        }
    }

    private static void sparse(ByteString bytes, String file, String owner, String where)
            throws IOException, BundleException {
        CodedInputStream in = open(bytes);
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == SPARSE_VALUES && isMessage(tag)) {
                tensor(in.readBytes(), file, owner + " values", where);
            } else if (field == SPARSE_INDICES && isMessage(tag)) {
                tensor(in.readBytes(), file, owner + " indices", where);
            } else if (!in.skipField(tag)) {
                break;
            }
        }
    }

    private static void tensor(ByteString bytes, String file, String owner, String where)
            throws IOException, BundleException {
        String name = "";
        boolean external = false;
        String location = "";
        CodedInputStream in = open(bytes);
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == TENSOR_NAME && isMessage(tag)) {
                name = in.readString();
            } else if (field == TENSOR_DATA_LOCATION && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                external |= in.readEnum() == DATA_LOCATION_EXTERNAL;
            } else if (field == TENSOR_EXTERNAL_DATA && isMessage(tag)) {
                external = true;
                String value = entryValue(in.readBytes(), "location");
                if (value != null) {
                    location = " in '" + value + "'";
                }
            } else if (!in.skipField(tag)) {
                break;
            }
        }
        if (!external) {
            return;
        }
        throw new BundleException(
                BundleException.Reason.UNSUPPORTED_GRAPH,
                file + ": tensor '" + name + "' (" + owner + " in " + where + ") keeps its data in an external"
                        + " file" + location + "; bundles must hold one self-contained graph, so save the model with"
                        + " all tensors inside it (for example onnx.save_model(model, path,"
                        + " save_as_external_data=False)), which works for graphs under 2 GB");
    }

    /** The value of a {@code StringStringEntryProto} whose key is {@code key}, or null. */
    private static String entryValue(ByteString bytes, String key) throws IOException {
        String k = null;
        String v = null;
        CodedInputStream in = open(bytes);
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == ENTRY_KEY && isMessage(tag)) {
                k = in.readString();
            } else if (field == ENTRY_VALUE && isMessage(tag)) {
                v = in.readString();
            } else if (!in.skipField(tag)) {
                break;
            }
        }
        return key.equals(k) ? v : null;
    }
}
