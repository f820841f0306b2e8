package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import dev.flinkslm.models.Digests;
import dev.flinkslm.models.compliance.internal.EncoderPatch;
import dev.flinkslm.models.compliance.internal.OnnxHeadFusion;
import dev.flinkslm.models.compliance.internal.Resources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The built-in model's tuned encoder layers were tuned on the committed corpus without {@code model build}'s
 * holdout: the digest of the texts they were tuned on (recorded by {@code tools/tune_top_layers.py}) is the
 * digest of every text outside the holdout that {@code model build} makes. So the holdout that calibrates the
 * head and gives the golden examples is unseen by the whole model, and a changed corpus fails here until the
 * layers are tuned again.
 */
class TunedLayersTest {

    @Test
    void theLayersWereTunedOnTheCommittedCorpusWithoutTheHoldout(@TempDir Path dir) throws Exception {
        Map<String, String> meta =
                OnnxHeadFusion.parse(Resources.read(EncoderPatch.BUILT_IN_RESOURCE)).getMetadataPropsList().stream()
                        .collect(Collectors.toMap(StringStringEntryProto::getKey, StringStringEntryProto::getValue));
        byte[] corpus = Resources.read(DefaultModel.AUTHORED_RESOURCE);
        assertThat(meta).containsEntry("corpusSha256", Digests.sha256(corpus));

        Path data = dir.resolve("corpus.jsonl");
        Files.write(data, corpus);
        ModelTrain.Data d = ModelTrain.Data.read(DefaultModel.trainingOptions(data, dir.resolve("out")));
        List<String> digests = new ArrayList<>();
        for (int i : d.indices("train")) {
            digests.add(Digests.sha256(d.texts.get(i).strip().getBytes(StandardCharsets.UTF_8)));
        }
        digests.sort(null);
        assertThat(meta)
                .containsEntry("trainingTexts", Integer.toString(digests.size()))
                .containsEntry(
                        "trainingTextsSha256",
                        Digests.sha256(String.join("\n", digests).getBytes(StandardCharsets.US_ASCII)));
        assertThat(d.indices("holdout")).hasSize(d.texts.size() - digests.size());
    }
}
