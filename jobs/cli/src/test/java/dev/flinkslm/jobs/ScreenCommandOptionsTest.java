package dev.flinkslm.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.screening.ScreeningConfig;
import dev.flinkslm.screening.ScreeningOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The flags of {@code screen} and the library options they set are tied in one table, and checked against it. */
class ScreenCommandOptionsTest {

    private static ScreenCommand parse(String... args) {
        CommandLine cli = FlinkSlmCli.commandLine();
        String[] all = new String[args.length + 1];
        all[0] = "screen";
        System.arraycopy(args, 0, all, 1, args.length);
        cli.parseArgs(all);
        return cli.getSubcommands().get("screen").getCommand();
    }

    private static Configuration options(String... args) {
        return parse(args).config().options();
    }

    @Test
    void everyFlagOfTheTableIsAnOptionOfTheCommandAndShowsTheKeysDefault() {
        CommandLine screen = FlinkSlmCli.commandLine().getSubcommands().get("screen");
        for (Map.Entry<String, ConfigOption<?>> e : ScreenCommand.FLAG_OPTIONS.entrySet()) {
            CommandLine.Model.OptionSpec option = screen.getCommandSpec().findOption(e.getKey());
            assertThat(option).as(e.getKey()).isNotNull();
            assertThat(ScreenCommand.ALL_OPTIONS)
                    .as(e.getKey())
                    .containsEntry(e.getValue().key(), e.getValue());
            Object defaultValue = e.getValue().hasDefaultValue() ? e.getValue().defaultValue() : null;
            if (defaultValue != null && !(defaultValue instanceof Map) && !(defaultValue instanceof List)) {
                assertThat(new ScreenCommand.OptionDefaults().defaultValue(option))
                        .as("default of %s", e.getKey())
                        .isNotNull();
            }
        }
        StringWriter help = new StringWriter();
        screen.usage(new PrintWriter(help));
        assertThat(help.toString().replaceAll("\\s+", " "))
                .contains("--batch-size")
                .contains("(default: " + ScoringOptions.MAX_BATCH_SIZE.defaultValue() + ")")
                .contains("(default: " + ConnectorOptions.EVENTS_TOPIC.defaultValue() + ")");
    }

    @Test
    void everyOptionKeyIsDocumented() throws Exception {
        String doc = Files.readString(Path.of("../../docs/screening-job.md"));
        assertThat(ScreenCommand.ALL_OPTIONS).hasSizeGreaterThan(50);
        for (String key : ScreenCommand.ALL_OPTIONS.keySet()) {
            assertThat(doc).as("docs/screening-job.md lists %s", key).contains("`" + key + "`");
        }
        for (String flag : ScreenCommand.FLAG_OPTIONS.keySet()) {
            assertThat(doc)
                    .as("docs/screening-job.md lists %s", flag)
                    .containsAnyOf("`" + flag, "`--[no-]" + flag.substring(2));
        }
    }

    @Test
    void flagsGivenSetTheirKeysAndFlagsNotGivenLeaveTheDefaults() {
        Configuration o = options(
                "--batch-size",
                "7",
                "--max-wait",
                "3ms",
                "--provider",
                "CPU",
                "--no-group-by-length",
                "--label-threshold",
                "fraud=0.9",
                "--max-event-size",
                "64kb",
                "--model-root",
                "file:///opt/models",
                "--model",
                "file:///opt/models/m/1");
        assertThat(o.get(ScoringOptions.MAX_BATCH_SIZE)).isEqualTo(7);
        assertThat(o.get(ScoringOptions.MAX_WAIT)).isEqualTo(Duration.ofMillis(3));
        assertThat(o.get(ScoringOptions.PROVIDER)).isEqualTo(ExecutionProvider.CPU);
        assertThat(o.get(ScoringOptions.GROUP_BY_LENGTH)).isFalse();
        assertThat(o.get(ScreeningOptions.ALERT_LABEL_THRESHOLDS)).isEqualTo(Map.of("fraud", "0.9"));
        assertThat(o.get(ConnectorOptions.MAX_EVENT_SIZE)).isEqualTo(MemorySize.parse("64kb"));
        assertThat(o.get(ScoringOptions.MODEL_ROOTS)).isEqualTo(List.of("file:///opt/models"));
        assertThat(o.get(ScoringOptions.MODEL)).isEqualTo("file:///opt/models/m/1");

        Configuration defaults = options();
        assertThat(defaults.containsKey(ScoringOptions.MAX_BATCH_SIZE.key())).isFalse();
        assertThat(defaults.get(ScoringOptions.MAX_BATCH_SIZE)).isEqualTo(ScoringOptions.MAX_BATCH_SIZE.defaultValue());
        assertThat(defaults.get(ScoringOptions.MODEL)).isEqualTo(ScreeningConfig.DEFAULT_MODEL);
    }

    @Test
    void confSetsAnyKeyParsedByItsType() {
        Configuration o = options(
                "--conf", "slm.versions.load-timeout=5min",
                "--conf", "events.max-nesting-depth=12",
                "--conf", "slm.batch.max-size=9");
        assertThat(o.get(ScoringOptions.LOAD_TIMEOUT)).isEqualTo(Duration.ofMinutes(5));
        assertThat(o.get(ScreeningOptions.MAX_NESTING_DEPTH)).isEqualTo(12);
        assertThat(o.get(ScoringOptions.MAX_BATCH_SIZE)).isEqualTo(9);
    }

    @Test
    void badFlagsAndConfsAreAllReportedInFlagTerms() {
        assertThatThrownBy(() -> options(
                        "--conf", "slm.no-such-key=1",
                        "--conf", "slm.batch.max-wait",
                        "--conf", "slm.batch.max-size=many",
                        "--batch-size", "4",
                        "--max-wait", "3 parsecs",
                        "--conf", "slm.batch.max-wait=1s"))
                .hasMessageContaining("--conf 'slm.no-such-key' is not an option key")
                .hasMessageContaining("--conf 'slm.batch.max-wait' has no value")
                .hasMessageContaining("--conf slm.batch.max-size 'many' is not a valid whole number")
                .hasMessageContaining("--batch-size and --conf slm.batch.max-size both given")
                .hasMessageContaining("--max-wait '3 parsecs' is not a duration");
    }

    @Test
    void libraryMessagesNameTheFlags() {
        assertThat(ScreenCommand.inFlagTerms("`maxEvents` must be at least 1, was 0"))
                .isEqualTo("--max-events must be at least 1, was 0");
        assertThat(ScreenCommand.inFlagTerms(
                        "`kafka.transaction-timeout` (PT1S) must be longer than" + " `checkpointInterval` (PT10S)"))
                .isEqualTo("--transaction-timeout (PT1S) must be longer than --checkpoint-interval (PT10S)");
        assertThat(ScreenCommand.inFlagTerms("set alerts.threshold to a probability; not alerts.threshold-x"))
                .isEqualTo("set alerts.threshold (--alert-threshold) to a probability; not alerts.threshold-x");

        CliRun run = CliRun.of("screen", "--max-events", "0", "--alert-threshold", "1.5");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err())
                .contains("--max-events must be at least 1")
                .contains("(--alert-threshold)")
                .doesNotContain("`");
    }
}
