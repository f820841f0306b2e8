package dev.flinkslm.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.models.ExecutionProvider;
import dev.flinkslm.operators.ScoringOptions;
import dev.flinkslm.screening.ScreeningConfig;
import dev.flinkslm.screening.ScreeningJob;
import dev.flinkslm.screening.ScreeningOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
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

    /** A value other than the default for every flag of the table, and the value it must set. */
    private static Object nonDefault(String flag, ConfigOption<?> option, List<String> args) {
        Object d = option.hasDefaultValue() ? option.defaultValue() : null;
        switch (flag) {
            case "--model" -> {
                args.addAll(List.of(flag, "default:fp32"));
                return "default:fp32";
            }
            case "--model-root" -> {
                args.addAll(List.of(flag, "file:///opt/models", flag, "file:///srv/models"));
                return List.of("file:///opt/models", "file:///srv/models");
            }
            case "--label-threshold" -> {
                args.addAll(List.of(flag, "fraud=0.9"));
                return Map.of("fraud", "0.9");
            }
            case "--bootstrap-servers" -> {
                args.addAll(List.of(flag, "broker-1:9092"));
                return "broker-1:9092";
            }
            case "--group-by-length" -> {
                args.add(Boolean.TRUE.equals(d) ? "--no-group-by-length" : "--group-by-length");
                return !Boolean.TRUE.equals(d);
            }
            default -> {}
        }
        if (d instanceof Integer i) {
            args.addAll(List.of(flag, String.valueOf(i + 1)));
            return i + 1;
        } else if (d instanceof Double x) {
            args.addAll(List.of(flag, "0.7"));
            return 0.7;
        } else if (d instanceof Duration t) {
            Duration other = t.plusMillis(7);
            args.addAll(List.of(flag, other.toMillis() + "ms"));
            return other;
        } else if (d instanceof MemorySize m) {
            args.addAll(List.of(flag, (m.getBytes() * 2) + "b"));
            return new MemorySize(m.getBytes() * 2);
        } else if (d instanceof String text) {
            args.addAll(List.of(flag, text + "-x"));
            return text + "-x";
        }
        throw new AssertionError("no non-default value for " + flag + " (default " + d + ")");
    }

    @Test
    void everyFlagSetsItsKey() {
        List<String> args = new java.util.ArrayList<>();
        Map<ConfigOption<?>, Object> expected = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, ConfigOption<?>> e : ScreenCommand.FLAG_OPTIONS.entrySet()) {
            if (e.getValue().hasDefaultValue() && e.getValue().defaultValue() instanceof Enum<?>) {
                continue; // every constant of every enum flag: below
            }
            expected.put(e.getValue(), nonDefault(e.getKey(), e.getValue(), args));
        }
        Configuration o = options(args.toArray(new String[0]));
        expected.forEach((option, value) ->
                assertThat((Object) o.get(option)).as(option.key()).isEqualTo(value));
        assertThat(expected).hasSize(ScreenCommand.FLAG_OPTIONS.size() - 4);
    }

    @Test
    void everyEnumFlagTakesEveryConstantByNameInAnyCaseAndSoDoesConf() {
        int flags = 0;
        for (Map.Entry<String, ConfigOption<?>> e : ScreenCommand.FLAG_OPTIONS.entrySet()) {
            if (!(e.getValue().hasDefaultValue() && e.getValue().defaultValue() instanceof Enum<?> d)) {
                continue;
            }
            flags++;
            for (Object constant : d.getDeclaringClass().getEnumConstants()) {
                String name = ((Enum<?>) constant).name();
                List<String> base = List.of("--bootstrap-servers", "broker-1:9092");
                String[] viaFlag = java.util.stream.Stream.concat(
                                base.stream(), java.util.stream.Stream.of(e.getKey(), name))
                        .toArray(String[]::new);
                assertThat((Object) options(viaFlag).get(e.getValue()))
                        .as("%s %s", e.getKey(), name)
                        .isEqualTo(constant);
                String[] lower = java.util.stream.Stream.concat(
                                base.stream(), java.util.stream.Stream.of(e.getKey(), name.toLowerCase()))
                        .toArray(String[]::new);
                assertThat((Object) options(lower).get(e.getValue()))
                        .as("%s %s", e.getKey(), name.toLowerCase())
                        .isEqualTo(constant);
                String[] viaConf = java.util.stream.Stream.concat(
                                base.stream(),
                                java.util.stream.Stream.of(
                                        "--conf", e.getValue().key() + "=" + name))
                        .toArray(String[]::new);
                assertThat((Object) options(viaConf).get(e.getValue()))
                        .as("--conf %s=%s", e.getValue().key(), name)
                        .isEqualTo(constant);
            }
        }
        assertThat(flags).isEqualTo(4); // provider, failure policy, starting offsets, delivery guarantee
    }

    @Test
    void aSecretInAConfValueIsMaskedEvenWhenItLooksLikeASettingName() {
        CliRun run = CliRun.of("screen", "--conf", "kafka.transaction-timeout=Hunter2Secret`seed`");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("--conf kafka.transaction-timeout").doesNotContain("Hunter2");
    }

    @Test
    void kafkaPropertyAndConfOfTheSameKeyAreNotBothTaken() {
        assertThatThrownBy(() -> options(
                        "--conf", "kafka.properties=security.protocol:SASL_SSL", "--kafka-property", "client.id=abc"))
                .hasMessageContaining("--kafka-property and --conf kafka.properties both given");
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

    @Test
    void theBufferTimeoutIsLowByDefaultAndFlinkOptionsPassThroughOverTheJobsOwn() {
        Configuration flink = ScreeningJob.flinkConfiguration(parse().config());
        assertThat(flink.get(ExecutionOptions.BUFFER_TIMEOUT)).isEqualTo(Duration.ofMillis(5));
        assertThat(flink.get(ExecutionOptions.BUFFER_TIMEOUT_ENABLED)).isTrue();

        flink = ScreeningJob.flinkConfiguration(parse(
                        "--buffer-timeout",
                        "0 ms",
                        "--flink-conf",
                        "taskmanager.numberOfTaskSlots=4",
                        "--flink-conf",
                        " state.backend.type = hashmap ")
                .config());
        assertThat(flink.get(ExecutionOptions.BUFFER_TIMEOUT)).isEqualTo(Duration.ZERO);
        assertThat(flink.get(TaskManagerOptions.NUM_TASK_SLOTS)).isEqualTo(4);
        // given by key, it overrides the job's own RocksDB setting
        assertThat(flink.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap");

        flink = ScreeningJob.flinkConfiguration(
                parse("--flink-conf", "execution.buffer-timeout.interval=50 ms").config());
        assertThat(flink.get(ExecutionOptions.BUFFER_TIMEOUT)).isEqualTo(Duration.ofMillis(50));
    }

    @Test
    void badFlinkOptionsAndBufferTimeoutsSayWhatToFix() {
        assertThatThrownBy(() ->
                        parse("--flink-conf", "taskmanager.numberOfTaskSlots").config())
                .hasMessageContaining("--flink-conf 'taskmanager.numberOfTaskSlots' is not KEY=VALUE");
        assertThatThrownBy(() -> parse("--flink-conf", "=4").config()).hasMessageContaining("is not KEY=VALUE");
        assertThatThrownBy(() -> parse("--flink-conf", ScoringOptions.MAX_BATCH_SIZE.key() + "=8")
                        .config())
                .hasMessageContaining(
                        "is a flink-slm option; give it as --conf " + ScoringOptions.MAX_BATCH_SIZE.key());
        assertThatThrownBy(() ->
                        parse("--flink-conf", "a.b=1", "--flink-conf", "a.b=2").config())
                .hasMessageContaining("--flink-conf a.b given twice");
        assertThatThrownBy(() -> parse(
                                "--buffer-timeout", "1 ms", "--flink-conf", "execution.buffer-timeout.interval=2 ms")
                        .config())
                .hasMessageContaining("set the same option; give one");
        assertThatThrownBy(() -> parse("--buffer-timeout", "soon").config())
                .hasMessageContaining("--buffer-timeout 'soon' is not a duration");
        assertThatThrownBy(() -> ScreeningConfig.builder()
                        .bufferTimeout(Duration.ofMillis(-1))
                        .build())
                .hasMessageContaining("`bufferTimeout` must be 0 or more");
        assertThatThrownBy(() -> ScreeningConfig.builder()
                        .flinkConf("slm.batch.max-size", "8")
                        .build())
                .hasMessageContaining("is a flink-slm option");
    }

    @Test
    void theSavepointDirectoryIsWhereResumeLatestLooksAndTwoOfThemAreRefused() {
        assertThat(parse("--savepoint-dir", "file:///sp").config().flinkConf())
                .containsEntry("execution.checkpointing.savepoint-dir", "file:///sp");
        assertThat(parse(
                                "--savepoint-dir",
                                "file:///sp",
                                "--flink-conf",
                                "execution.checkpointing.savepoint-dir=file:///sp")
                        .config()
                        .flinkConf())
                .containsEntry("execution.checkpointing.savepoint-dir", "file:///sp");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> parse(
                                "--savepoint-dir",
                                "file:///sp",
                                "--flink-conf",
                                "execution.checkpointing.savepoint-dir=file:///other")
                        .config())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("name two savepoint directories; give one");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> parse(
                                "--savepoint-dir", "file:///sp", "--flink-conf", "state.savepoints.dir=file:///other")
                        .config())
                .hasMessageContaining("state.savepoints.dir=file:///other");
        // the same directory in another spelling
        assertThat(parse("--savepoint-dir", "file:///sp", "--flink-conf", "state.savepoints.dir=file:/sp/")
                        .config()
                        .flinkConf())
                .containsEntry("execution.checkpointing.savepoint-dir", "file:///sp");
    }
}
