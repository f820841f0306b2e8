package dev.flinkslm.models.compliance.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.compliance.ComplianceLabels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The committed training corpus is what the committed generator writes from the committed fragments. */
class CorpusGeneratorTest {

    @TempDir
    Path tmp;

    @Test
    void regeneratesTheCommittedCorpusByteForByte() throws Exception {
        List<LabeledText> corpus =
                new CorpusGenerator(CorpusGenerator.DEFAULT_SEED).generate(CorpusGenerator.DEFAULT_PER_LABEL);
        Path written = tmp.resolve("corpus.jsonl");
        CorpusGenerator.write(corpus, written);
        byte[] committed;
        try (InputStream in = CorpusGenerator.class
                .getClassLoader()
                .getResourceAsStream("dev/flinkslm/models/compliance/compliance-corpus.jsonl")) {
            assertThat(in).as("committed corpus on the class path").isNotNull();
            committed = in.readAllBytes();
        }
        assertThat(Files.readAllBytes(written))
                .as("rerun CorpusGenerator.main and commit the corpus (and retrain the head) after changing it")
                .isEqualTo(committed);

        Map<String, Long> perLabel =
                corpus.stream().collect(Collectors.groupingBy(LabeledText::label, Collectors.counting()));
        assertThat(perLabel.keySet()).containsExactlyInAnyOrderElementsOf(ComplianceLabels.ALL);
        assertThat(perLabel.values())
                .allSatisfy(n -> assertThat(n).isEqualTo((long) CorpusGenerator.DEFAULT_PER_LABEL));
    }

    @Test
    void anotherSeedWritesAnotherCorpus() {
        List<LabeledText> a = new CorpusGenerator(1L).generate(50);
        List<LabeledText> b = new CorpusGenerator(2L).generate(50);
        assertThat(a).hasSize(b.size()).isNotEqualTo(b);
        assertThat(new CorpusGenerator(1L).generate(50)).isEqualTo(a);
    }
}
