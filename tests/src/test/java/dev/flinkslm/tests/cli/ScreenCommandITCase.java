package dev.flinkslm.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.jobs.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The {@code screen} command in process: the embedded default run (synthetic events, built-in
 * int8 model, local cluster) stops by itself with {@code --max-events}, prints live status lines
 * and a summary whose counts add up; bad flags fail fast with exit code 2 and say what to fix.
 */
class ScreenCommandITCase {

    private static final int EVENTS = 300;

    @Test
    @Timeout(120)
    void embeddedRunPrintsStatusAndSummaryAndExitsZero() {
        CliRun run = run(
                "screen",
                "--max-events",
                String.valueOf(EVENTS),
                "--events-per-second",
                "0",
                "--status-interval",
                "200ms");

        assertThat(run.code()).as("exit code; stderr:%n%s", run.err()).isZero();
        List<String> lines = Arrays.asList(run.out().split("\\R"));
        assertThat(lines.get(0)).startsWith("screening " + EVENTS + " synthetic events with default:int8");
        List<String> live = lines.stream()
                .filter(l -> l.startsWith("[screen ") && l.contains("events/s"))
                .collect(Collectors.toList());
        assertThat(live).as("live status lines in:%n%s", run.out()).isNotEmpty();
        assertThat(live)
                .allSatisfy(
                        l -> assertThat(l)
                                .matches(
                                        "\\[screen \\d\\d:\\d\\d:\\d\\d] +\\d+ events/s \\| scored [\\d,]+ \\| dead letters \\d+ \\| processing"
                                                + " p50 (\\d+ ms|-) p99 (\\d+ ms|-) \\| age p50 (\\d+ ms|-) p99 (\\d+ ms|-)"
                                                + " \\| alerts .+ \\| models compliance-minilm:\\S+( \\(idle\\)|=[\\d,]+ \\([\\d,]+ keys\\))"));
        assertThat(run.out()).contains("== screening summary (finished) ==");
        Matcher inputs = Pattern.compile("inputs: +([\\d,]+) \\(scored ([\\d,]+) \\+ dead letters (\\d+)")
                .matcher(run.out());
        assertThat(inputs.find()).as("summary inputs line in:%n%s", run.out()).isTrue();
        assertThat(inputs.group(1)).isEqualTo(String.valueOf(EVENTS));
        assertThat(inputs.group(2)).isEqualTo(String.valueOf(EVENTS));
        assertThat(inputs.group(3)).isEqualTo("0");
        assertThat(run.out())
                .containsPattern("model versions: compliance-minilm:[^=]+=" + EVENTS + " \\([\\d,]+ keys\\)");
        assertThat(run.out()).containsPattern("alerts: +[1-9]");
    }

    @Test
    void badConfigurationFailsFastAndSaysWhatToFix() {
        assertFails(
                new String[] {"screen", "--events-file", "/no/such/events.jsonl"},
                "--events-file /no/such/events.jsonl does not exist");
        assertFails(
                new String[] {"screen", "--bootstrap-servers", "127.0.0.1:9", "--alert-threshold", "1.5"},
                "outside [0,1]");
        assertFails(new String[] {"screen", "--label-threshold", "fraud=lots"}, "not a number");
        assertFails(new String[] {"screen", "--label-threshold", "bribery=0.4"}, "unknown label 'bribery'");
        assertFails(
                new String[] {"screen", "--bootstrap-servers", "127.0.0.1:9", "--max-events", "10"},
                "--max-events applies to the synthetic generator only");
        assertFails(new String[] {"screen", "--max-wait", "soon"}, "--max-wait 'soon' is not a duration");
        assertFails(
                new String[] {"screen", "--bootstrap-servers", "127.0.0.1:9", "--kafka-property", "acks"},
                "is not key=value");
        assertFails(new String[] {"screen", "--batch-size", "0"}, "slm.batch.max-size");
        assertFails(
                new String[] {"screen", "--bootstrap-servers", "127.0.0.1:9", "--checkpoint-interval", "20min"},
                "must be longer than --checkpoint-interval");
    }

    @Test
    void helpListsEveryOptionWithItsDefault() {
        CliRun run = run("screen", "--help");
        assertThat(run.code()).isZero();
        // picocli wraps long descriptions; compare with single spaces.
        assertThat(run.out().replaceAll("\\s+", " "))
                .contains(
                        "--batch-size",
                        "(default: 32)",
                        "--max-wait",
                        "(default: 20 ms)",
                        "--delivery-guarantee",
                        "(default: EXACTLY_ONCE)",
                        "--events-topic",
                        "(default: slm-events)",
                        "--model",
                        "(default: default:int8)",
                        "--kafka-property",
                        "--checkpoint-interval",
                        "(default: 10 s with Kafka, 2 s otherwise)",
                        "--max-event-size",
                        "(default: 1mb)");
    }

    private static void assertFails(String[] args, String message) {
        CliRun run = run(args);
        assertThat(run.code()).as("exit code of %s", Arrays.toString(args)).isEqualTo(2);
        assertThat(run.err()).as("error of %s", Arrays.toString(args)).contains(message);
    }

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }
}
