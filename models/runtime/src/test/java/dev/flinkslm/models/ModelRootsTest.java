package dev.flinkslm.models;

import static dev.flinkslm.models.BundleAssertions.reasonOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.nio.file.Path;

/** Root checks compare what a file system would open, and malformed locations are BundleExceptions. */
class ModelRootsTest {

    private static final ModelRoots S3 = ModelRoots.of("s3://bank-models/prod/");

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(
            strings = {
                "s3://bank-models/prod/%2e%2e/secret/x",
                "s3://bank-models/prod/%2E%2E/secret/x",
                "s3://bank-models/prod/%2e./secret/x",
                "s3://bank-models/prod/.%2E/secret/x",
                "s3://bank-models/prod%2f..%2fsecret/x",
                "s3://bank-models/prod/..%2Fsecret/x",
                "s3://bank-models/prod/..%5csecret/x",
                "s3://bank-models/prod/..%5Csecret/x",
                "s3://bank-models/prod/x%00",
                "s3://bank-models/prod/%252e%252e/secret/x",
                "s3://bank-models/../prod/x",
            })
    void encodedTraversalIsRejected(String uri) {
        assertThat(reasonOf(() -> S3.check(URI.create(uri)))).isEqualTo(BundleException.Reason.INVALID_URI);
        assertThat(reasonOf(() -> ModelRoots.parse(uri))).isEqualTo(BundleException.Reason.INVALID_URI);
    }

    @Test
    void plainTraversalIsResolvedBeforeTheRootCheck() {
        assertThat(reasonOf(() -> S3.check(URI.create("s3://bank-models/prod/../secret/x"))))
                .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
        assertThat(reasonOf(() -> S3.check(URI.create("s3://bank-models/production/x"))))
                .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
        assertThat(reasonOf(() -> S3.check(URI.create("s3://other-bucket/prod/x"))))
                .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
    }

    @Test
    void aCleanUriUnderTheRootIsAccepted() throws Exception {
        assertThat(S3.check(URI.create("s3://bank-models/prod/fraud/v7")))
                .isEqualTo(URI.create("s3://bank-models/prod/fraud/v7"));
        assertThat(S3.check(URI.create("S3://Bank-Models/prod/./fraud/x/../v7/")))
                .isEqualTo(URI.create("s3://bank-models/prod/fraud/v7/"));
        assertThat(ModelRoots.of("gs://my_bucket/models").check(URI.create("gs://my_bucket/models/a")))
                .isEqualTo(URI.create("gs://my_bucket/models/a"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "file://host/opt/models/x",
                "file://localhost/opt/models/x",
                "file:///opt/models/x?version=2",
                "file:///opt/models/x#frag",
                "s3://bank-models/prod/x?versionId=3",
                "s3://bank-models/prod/x#a",
                "s3://key:secret@bank-models/prod/x",
                "s3://bank models/prod/x",
                "s3:bank-models",
                "file:opaque",
                " ",
            })
    void malformedLocationsAreBundleExceptionsEverywhere(String location) {
        BundleLoader loader = BundleLoader.builder()
                .roots(ModelRoots.of("/opt/models", "s3://bank-models/prod/"))
                .cacheDirectory(tmp)
                .build();
        assertThat(reasonOf(() -> loader.load(location))).isEqualTo(BundleException.Reason.INVALID_URI);
        assertThat(reasonOf(() -> loader.load(ModelRef.of(location)))).isEqualTo(BundleException.Reason.INVALID_URI);
        assertThat(reasonOf(() -> ModelRoots.parse(location))).isEqualTo(BundleException.Reason.INVALID_URI);
        BundleLoader any = BundleLoader.builder()
                .roots(ModelRoots.allowAll())
                .cacheDirectory(tmp)
                .build();
        assertThat(reasonOf(() -> any.load(location))).isEqualTo(BundleException.Reason.INVALID_URI);
        URI uri;
        try {
            uri = new URI(location);
        } catch (Exception e) {
            return; // not even a java.net.URI
        }
        assertThat(reasonOf(() -> loader.load(uri))).isEqualTo(BundleException.Reason.INVALID_URI);
        assertThat(reasonOf(() -> loader.roots().check(uri))).isEqualTo(BundleException.Reason.INVALID_URI);
    }

    @Test
    void credentialsInAUriAreNotRepeatedInTheMessage() {
        assertThatThrownBy(() -> ModelRoots.parse("s3://AKIAX:hunter2@bank-models/prod/x"))
                .isInstanceOf(BundleException.class)
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void fileRootsCompareRealPathsComponentByComponent() throws Exception {
        Path root = java.nio.file.Files.createDirectories(tmp.resolve("models"));
        ModelRoots roots = ModelRoots.of(root.toString());
        assertThat(roots.check(root.resolve("a/b").toUri()))
                .isEqualTo(root.toRealPath().resolve("a/b").toUri());
        assertThat(reasonOf(() -> roots.check(tmp.resolve("models-evil/a").toUri())))
                .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
        // a path that does not exist yet below a link is resolved through the link
        java.nio.file.Files.createSymbolicLink(root.resolve("link"), tmp);
        assertThat(reasonOf(() -> roots.check(root.resolve("link/elsewhere/x").toUri())))
                .isEqualTo(BundleException.Reason.URI_NOT_ALLOWED);
        assertThat(roots.containsRealPath(root.toRealPath().resolve("x"))).isTrue();
        assertThat(roots.containsRealPath(tmp.toRealPath())).isFalse();
    }

    @Test
    void rootsAreConfigurationAndFailFast() {
        assertThatThrownBy(() -> ModelRoots.of("s3://bank-models/prod/?x=1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model root");
        // the configuration-time parser keeps its IllegalArgumentException
        assertThatThrownBy(() -> ModelRoots.toUri("file://host/x")).isInstanceOf(IllegalArgumentException.class);
        assertThat(ModelRoots.toUri("builtin-test:tiny")).isEqualTo(URI.create("builtin-test:tiny"));
    }

    /** A scheme a registered fetcher declares built in is a name, allowed without a root; others are not. */
    @Test
    void builtInSchemesComeFromTheRegisteredFetchers() throws Exception {
        ModelRoots roots = ModelRoots.of("file:///opt/models/");
        assertThat(ModelRoots.isBuiltIn(URI.create("builtin-test:tiny"))).isTrue();
        assertThat(ModelRoots.isBuiltIn(URI.create("BUILTIN-TEST:tiny"))).isTrue();
        assertThat(roots.check(URI.create("builtin-test:tiny"))).isEqualTo(URI.create("builtin-test:tiny"));
        assertThat(ModelRoots.isBuiltIn(URI.create("default:int8")))
                .as("no compliance model here")
                .isFalse();
        assertThatThrownBy(() -> roots.check(ModelRoots.parse("default:int8")))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("default:int8");
    }
}
