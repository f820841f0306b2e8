package dev.flinkslm.connectors;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

class RedactionTest {

    private static final String JAAS = "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
            + " required username=\"svc\" password=\"s3cret-pw\";";

    @ParameterizedTest
    @CsvSource({
        "sasl.jaas.config",
        "ssl.key.password",
        "ssl.truststore.password",
        "ssl.keystore.password",
        "basic.auth.user.info",
        "sasl.oauthbearer.token.endpoint.url",
        "sasl.oauthbearer.client.credentials.client.secret",
        "SASL.JAAS.CONFIG",
        "ssl.keystore.key",
        "schema.registry.basic.auth.user.info",
        "--ssl-password",
        "api_token",
        "AWS_SECRET_ACCESS_KEY",
        "private.key"
    })
    void secretLookingKeys(String key) {
        assertThat(Redaction.looksSecret(key)).isTrue();
    }

    @ParameterizedTest
    @CsvSource({"security.protocol", "sasl.mechanism", "bootstrap.servers", "acks", "--events-topic", "client.id"})
    void ordinaryKeys(String key) {
        assertThat(Redaction.looksSecret(key)).isFalse();
    }

    @Test
    void propertiesKeepKeysAndOrderAndMaskSecretValues() {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("security.protocol", "SASL_SSL");
        props.put("sasl.jaas.config", JAAS.substring(JAAS.indexOf('=') + 1));
        props.put("ssl.truststore.password", "changeit");
        assertThat(Redaction.properties(props))
                .containsExactly(
                        Map.entry("security.protocol", "SASL_SSL"),
                        Map.entry("sasl.jaas.config", Redaction.MASK),
                        Map.entry("ssl.truststore.password", Redaction.MASK));
        assertThat(Redaction.properties(props).toString())
                .doesNotContain("s3cret")
                .doesNotContain("changeit");
    }

    @Test
    void commandLineMasksKafkaSecretsInBothForms() {
        List<String> shown = Redaction.commandLine(
                "screen",
                "--bootstrap-servers",
                "b:9092",
                "--kafka-property",
                JAAS,
                "--kafka-property=ssl.key.password=pk",
                "--kafka-property",
                "acks=all",
                "--kafka-property",
                "no-key-at-all");
        assertThat(shown)
                .containsExactly(
                        "screen",
                        "--bootstrap-servers",
                        "b:9092",
                        "--kafka-property",
                        "sasl.jaas.config=****",
                        "--kafka-property=ssl.key.password=****",
                        "--kafka-property",
                        "acks=all",
                        "--kafka-property",
                        "****");
    }

    @Test
    void commandLineMasksSecretOptionsAndSecretPairsAnywhere() {
        List<String> shown = Redaction.commandLine(
                "screen",
                "--kafka-propety",
                JAAS,
                "--ssl-password",
                "pw123",
                "--token=abc123",
                "--events-file",
                "/data/in.jsonl",
                "-Dsasl.jaas.config=x");
        assertThat(shown)
                .containsExactly(
                        "screen",
                        "--kafka-propety",
                        "sasl.jaas.config=****",
                        "--ssl-password",
                        "****",
                        "--token=****",
                        "--events-file",
                        "/data/in.jsonl",
                        "-Dsasl.jaas.config=****");
        assertThat(String.join(" ", shown))
                .doesNotContain("s3cret")
                .doesNotContain("pw123")
                .doesNotContain("abc123");
    }

    @Test
    void scrubRemovesEverySecretOfTheArgumentsFromAText() {
        String[] args = {"screen", "--kafka-property", JAAS, "--kafka-propety=ssl.key.password=pk-9999"};
        String text = "failed: " + JAAS + " / password=\"s3cret-pw\" / bare s3cret-pw / pk-9999";
        String scrubbed = Redaction.scrub(text, args);
        assertThat(scrubbed)
                .doesNotContain("s3cret-pw")
                .doesNotContain("pk-9999")
                .doesNotContain("PlainLoginModule")
                .isEqualTo("failed: **** / password=\"****\" / bare **** / ****");
        assertThat(Redaction.scrub("nothing secret here", "screen", "--events-file", "x.jsonl"))
                .isEqualTo("nothing secret here");
        assertThat(Redaction.scrub(null, args)).isNull();
    }

    @Test
    void valuesThatStartWithADashAreStillValues() {
        assertThat(Redaction.isOption("--bounded", "screen")).isTrue();
        assertThat(Redaction.isOption("--kafka-propety=x", null)).isTrue();
        assertThat(Redaction.isOption("-0.5", "--alert-threshold")).isFalse();
        assertThat(Redaction.isOption("-Xk8#pw", "--ssl-password"))
                .as("after a secret option")
                .isFalse();
        assertThat(Redaction.isOption("-Xk8pw", "--ssl-password=x")).isTrue();
        assertThat(Redaction.isOption("-Xk8#pw", null))
                .as("not shaped like an option")
                .isFalse();
        assertThat(Redaction.commandLine("screen", "--ssl-password", "-Xk8#pw", "--bounded"))
                .containsExactly("screen", "--ssl-password", "****", "--bounded");
    }

    @Test
    void optionNameDropsTheValue() {
        assertThat(Redaction.optionName("--kafka-propety=sasl.jaas.config=x")).isEqualTo("--kafka-propety");
        assertThat(Redaction.optionName("--bounded")).isEqualTo("--bounded");
        assertThat(Redaction.optionName("value")).isEqualTo("value");
    }

    @Test
    void entryWithoutAKeyIsMaskedWhole() {
        assertThat(Redaction.entry("=s3cret")).isEqualTo(Redaction.MASK);
        assertThat(Redaction.entry("s3cret")).isEqualTo(Redaction.MASK);
        assertThat(Redaction.entry("client.id=app")).isEqualTo("client.id=app");
        assertThat(Redaction.entry("client.id=password=x")).isEqualTo("client.id=" + Redaction.MASK);
    }
}
