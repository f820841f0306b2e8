package dev.flinkslm.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.flinkslm.connectors.ConnectorOptions;
import dev.flinkslm.screening.ScreeningConfig;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * No secret given on the command line ever leaves: not in the exception of a failed submission
 * inside Flink ({@link Launcher}, the only thing a REST submission shows), not in picocli's error
 * messages for mistyped options, not in configuration summaries that are logged.
 */
class SecretRedactionTest {

    private static final String PASSWORD = "s3cret-pw-4711";
    private static final String JAAS = "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
            + " required username=\"svc-user\" password=\"" + PASSWORD + "\";";
    private static final String TRUSTSTORE_PASSWORD = "truststore-pw-0815";
    private static final List<String> SECRETS = List.of(PASSWORD, TRUSTSTORE_PASSWORD, "PlainLoginModule", "svc-user");

    @Test
    void failingLauncherInsideFlinkNeverPrintsThePassword() {
        Captured c = launch(
                "screen",
                "--bootstrap-servers",
                "127.0.0.1:9",
                "--kafka-property",
                JAAS,
                "--kafka-property",
                "ssl.truststore.password=" + TRUSTSTORE_PASSWORD,
                "--kafka-property",
                "security.protocol=SASL_SSL",
                "--alert-threshold",
                "1.5");
        assertThat(c.thrown).isInstanceOf(IllegalArgumentException.class);
        assertThat(c.thrown.getMessage())
                .startsWith("flink-slm screen --bootstrap-servers ... --kafka-property ... --kafka-property ...")
                .contains("failed with exit code 2")
                .contains("outside [0,1]"); // the error itself travels with the exception
        assertNoSecret(c);
    }

    @Test
    void mistypedOptionIsReportedByNameOnly() {
        for (String[] args : List.of(
                new String[] {"screen", "--bootstrap-servers", "127.0.0.1:9", "--kafka-propety", JAAS},
                new String[] {"screen", "--bootstrap-servers", "127.0.0.1:9", "--kafka-propety=" + JAAS},
                new String[] {"screen", "--kafka-property", "security.protocol=SASL_SSL", PASSWORD},
                new String[] {"screen", "--ssl-password", "-" + PASSWORD})) {
            CliRun run = run(args);
            assertThat(run.code()).as(Arrays.toString(args)).isEqualTo(2);
            assertThat(run.err())
                    .as(Arrays.toString(args))
                    .containsAnyOf("Unknown option: '--kafka-propety'", "1 unexpected argument (values are not shown");
            assertThat(run.out() + run.err()).as(Arrays.toString(args)).doesNotContain(SECRETS);

            Captured c = launch(args);
            assertThat(c.thrown).isInstanceOf(IllegalArgumentException.class);
            assertThat(c.thrown.getMessage()).contains("failed with exit code 2");
            assertNoSecret(c);
        }
        CliRun typo = run("screen", "--kafka-propety=" + JAAS);
        assertThat(typo.err())
                .contains("Unknown option: '--kafka-propety'")
                .contains("Did you mean")
                .contains("--kafka-property");
    }

    @Test
    void libraryMessagesQuotingAValueAreScrubbed() {
        // Each of these makes some parser quote the value it got.
        List<String[]> cases = List.of(
                new String[] {"screen", "--batch-size", JAAS}, // picocli: not an int
                new String[] {"screen", "--label-threshold", "password=" + PASSWORD}, // AlertPolicy: not a number
                new String[] {"screen", "--bootstrap-servers", "127.0.0.1:9", "--kafka-property", PASSWORD},
                new String[] {"screen", "--bootstrap-servers", "127.0.0.1:9", "--kafka-property", "=" + PASSWORD});
        for (String[] args : cases) {
            CliRun run = run(args);
            assertThat(run.code()).as(Arrays.toString(args)).isEqualTo(2);
            assertThat(run.err()).as(Arrays.toString(args)).isNotBlank();
            assertThat(run.out() + run.err()).as(Arrays.toString(args)).doesNotContain(SECRETS);
            assertNoSecret(launch(args));
        }
    }

    @Test
    void screeningConfigSummaryMasksKafkaSecrets() {
        Map<String, String> kafka = new LinkedHashMap<>();
        kafka.put("security.protocol", "SASL_SSL");
        kafka.put("sasl.jaas.config", JAAS.substring(JAAS.indexOf('=') + 1));
        kafka.put("ssl.truststore.password", TRUSTSTORE_PASSWORD);
        kafka.put("basic.auth.user.info", "user:" + PASSWORD);
        ScreeningConfig config = ScreeningConfig.builder()
                .option(ConnectorOptions.BOOTSTRAP_SERVERS, "127.0.0.1:9")
                .option(ConnectorOptions.KAFKA_PROPERTIES, kafka)
                .build();
        assertThat(config.toString())
                .contains(
                        "security.protocol=SASL_SSL",
                        "sasl.jaas.config=****",
                        "ssl.truststore.password=****",
                        "basic.auth.user.info=****")
                .doesNotContain(SECRETS);
    }

    @Test
    void helpShowsNoValues() {
        CliRun run = run("screen", "--kafka-property", JAAS, "--help");
        assertThat(run.code()).isZero();
        assertThat(run.out() + run.err()).contains("--kafka-property").doesNotContain(SECRETS);
    }

    private static void assertNoSecret(Captured c) {
        List<String> texts = new ArrayList<>(List.of(c.out, c.err));
        for (Throwable t = c.thrown; t != null; t = t.getCause()) {
            texts.add(String.valueOf(t.getMessage()));
            texts.add(t.toString());
        }
        for (String text : texts) {
            assertThat(text).doesNotContain(SECRETS);
        }
    }

    /** Runs {@link Launcher#main} (Flink is on the test classpath: the inside-Flink path). */
    private static Captured launch(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        Throwable thrown;
        try {
            System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            thrown = catchThrowable(() -> Launcher.main(args));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Captured(
                outBytes.toString(StandardCharsets.UTF_8), errBytes.toString(StandardCharsets.UTF_8), thrown);
    }

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private record Captured(String out, String err, Throwable thrown) {}
}
