package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnx.proto.OnnxMl;
import dev.flinkslm.models.compliance.internal.ComplianceTraining;
import dev.flinkslm.models.compliance.internal.EncoderTokenizer;
import dev.flinkslm.models.compliance.internal.OnnxHeadFusion;
import dev.flinkslm.models.compliance.internal.OrtTextModel;
import dev.flinkslm.models.compliance.internal.Resources;
import dev.flinkslm.models.compliance.internal.SoftmaxHead;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** The fused graph must compute exactly what the unfused encoder plus the plain-Java head compute. */
class FusedGraphTest {

    private static final List<String> TEXTS = List.of(
            "Payment of invoice 4471 for pump spare parts",
            "keep each deposit under 10k pls",
            "Dear Anna, please find attached the signed contract. The first instalment is due on Friday.",
            "the cargo goes to the free zone first and then onwards, you know where",
            "x",
            "buy before the announcement tomorrow, my cousin on the deal team told me, and delete this chat afterwards "
                    + "because compliance reads everything here and we really do not want them to see it at all");

    @Test
    void fusedProbabilitiesAndEmbeddingsMatchUnfusedEncoderPlusJavaHead() {
        SoftmaxHead head =
                SoftmaxHead.fromJson(new String(Resources.read(DefaultModel.HEAD_RESOURCE), StandardCharsets.UTF_8));
        byte[] fused = OnnxHeadFusion.fuse(Precision.INT8.encoderGraph(), head);

        float[][] reference;
        try (OrtTextModel enc = ComplianceTraining.openEncoder(Precision.INT8)) {
            reference = enc.embedUnfused(TEXTS);
        }
        float[][] probs;
        float[][] emb;
        try (OrtTextModel m =
                OrtTextModel.open(fused, EncoderTokenizer.fromResource(Precision.INT8.tokenizerResource()))) {
            assertThat(m.outputNames()).containsExactlyInAnyOrder("probabilities", "sentence_embedding");
            probs = m.runAll(TEXTS, OnnxHeadFusion.PROBABILITIES, 5);
            emb = m.runAll(TEXTS, OnnxHeadFusion.EMBEDDING, 384);
        }
        for (int i = 0; i < TEXTS.size(); i++) {
            double[] expected = head.probabilities(reference[i]);
            double sum = 0;
            for (int k = 0; k < 5; k++) {
                assertThat((double) probs[i][k]).as("text %d label %d", i, k).isCloseTo(expected[k], within(1e-5));
                sum += probs[i][k];
            }
            assertThat(sum).isCloseTo(1.0, within(1e-5));
            for (int d = 0; d < 384; d++) {
                assertThat(emb[i][d]).isCloseTo(reference[i][d], within(1e-5f));
            }
        }
    }

    @Test
    void fusionKeepsOpsetAndUsesAttributeAxesBelowOpset13() {
        SoftmaxHead head =
                SoftmaxHead.fromJson(new String(Resources.read(DefaultModel.HEAD_RESOURCE), StandardCharsets.UTF_8));
        OnnxMl.ModelProto enc = OnnxHeadFusion.parse(Precision.INT8.encoderGraph());
        OnnxMl.ModelProto fused = OnnxHeadFusion.fuse(enc, head);
        assertThat(fused.getOpsetImportList()).isEqualTo(enc.getOpsetImportList());
        long opset = enc.getOpsetImportList().stream()
                .filter(o -> o.getDomain().isEmpty())
                .mapToLong(OnnxMl.OperatorSetIdProto::getVersion)
                .findFirst()
                .orElseThrow();
        if (opset < 13) {
            assertThat(fused.getGraph().getNodeList())
                    .filteredOn(n -> n.getOpType().equals("ReduceSum"))
                    .allSatisfy(n -> assertThat(n.getInputCount()).isEqualTo(1));
        }
        assertThat(fused.getGraph().getOutputList())
                .extracting(OnnxMl.ValueInfoProto::getName)
                .containsExactly("probabilities", "sentence_embedding");
    }
}
