package dev.flinkslm.models.compliance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkslm.models.Digests;
import dev.flinkslm.models.compliance.internal.Resources;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The independent evaluation set stays what it is: frozen (its bytes do not change), at least 250 texts of which
 * at least a third are {@code clear} hard negatives, every label present, and apart from everything the models
 * train on (no text shares half its words with a text of the authored corpus or the template corpus).
 */
class IndependentEvalSetTest {

    /** SHA-256 of the frozen file; a change of the set is a new set, with a new name. */
    static final String FROZEN_SHA256 = "a76572338005945e6459c0652d20a0f4a33c71cdce2d3696e271ecb3c984ec43";

    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<JsonNode> read(String resource) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : new String(Resources.read(resource), StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    private static Set<String> words(String text) {
        Set<String> w = new HashSet<>();
        for (String t : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (!t.isEmpty()) {
                w.add(t);
            }
        }
        return w;
    }

    @Test
    void theSetIsFrozenLargeEnoughAndHalfHardNegativesOfClear() throws Exception {
        assertThat(Digests.sha256(Resources.read(DefaultModel.INDEPENDENT_EVAL_RESOURCE)))
                .isEqualTo(FROZEN_SHA256);
        List<JsonNode> eval = read(DefaultModel.INDEPENDENT_EVAL_RESOURCE);
        Map<String, Integer> perLabel = new TreeMap<>();
        int hard = 0;
        for (JsonNode n : eval) {
            perLabel.merge(n.get("label").asText(), 1, Integer::sum);
            if ("hard_negative".equals(n.get("kind").asText())) {
                assertThat(n.get("label").asText()).isEqualTo(ComplianceLabels.CLEAR);
                hard++;
            }
        }
        assertThat(eval).hasSizeGreaterThanOrEqualTo(250);
        assertThat(hard * 3).as("hard negatives: %d of %d", hard, eval.size()).isGreaterThanOrEqualTo(eval.size());
        assertThat(perLabel.keySet()).containsExactlyInAnyOrderElementsOf(ComplianceLabels.ALL);
    }

    @Test
    void noEvaluationTextIsCloseToATrainingText() throws Exception {
        List<Set<String>> train = new ArrayList<>();
        for (String resource : List.of(DefaultModel.AUTHORED_RESOURCE, DefaultModel.CORPUS_RESOURCE)) {
            for (JsonNode n : read(resource)) {
                train.add(words(n.get("text").asText()));
            }
        }
        List<String> close = new ArrayList<>();
        for (JsonNode n : read(DefaultModel.INDEPENDENT_EVAL_RESOURCE)) {
            Set<String> e = words(n.get("text").asText());
            for (Set<String> t : train) {
                int common = 0;
                for (String w : e) {
                    common += t.contains(w) ? 1 : 0;
                }
                if (common * 2 >= e.size() + t.size() - common) { // Jaccard >= 0.5
                    close.add(n.get("text").asText());
                    break;
                }
            }
        }
        assertThat(close)
                .as("evaluation texts that a training text nearly repeats")
                .isEmpty();
    }
}
