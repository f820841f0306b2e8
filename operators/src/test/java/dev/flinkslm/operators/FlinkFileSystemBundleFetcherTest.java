package dev.flinkslm.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.models.BundleLimits;
import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.TinyBundles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;

class FlinkFileSystemBundleFetcherTest {

    @TempDir
    Path tmp;

    @Test
    void copiesABundleThroughFlinksFileSystemsAndTheLoaderVerifiesIt() throws Exception {
        Path source = TinyBundles.write(tmp.resolve("remote/bundle"), new TinyBundles.Spec().id("remote"));
        Path cache = tmp.resolve("cache");
        Path copied = FlinkFileSystemBundleFetcher.copy(source.toUri(), cache, BundleLimits.defaults());
        assertThat(copied).startsWith(cache);
        ModelBundle bundle = BundleLoader.verify(source.toUri(), copied, null);
        assertThat(bundle.id()).isEqualTo("remote");
        assertThat(FlinkFileSystemBundleFetcher.copy(source.toUri(), cache, BundleLimits.defaults()))
                .isEqualTo(copied);

        // a changed artifact is fetched again
        TinyBundles.write(source, new TinyBundles.Spec().id("remote").version("2"));
        Path again = FlinkFileSystemBundleFetcher.copy(source.toUri(), cache, BundleLimits.defaults());
        assertThat(again).isNotEqualTo(copied);
        assertThat(BundleLoader.verify(source.toUri(), again, null).version()).isEqualTo("2");
    }

    @Test
    void copiesOnlyListedFilesWithinTheLimits() throws Exception {
        Path source = TinyBundles.write(tmp.resolve("remote/stray"), new TinyBundles.Spec().id("remote"));
        java.nio.file.Files.writeString(source.resolve("notes.txt"), "not part of the bundle");
        Path copied = FlinkFileSystemBundleFetcher.copy(source.toUri(), tmp.resolve("cache"), BundleLimits.defaults());
        assertThat(copied.resolve("notes.txt")).doesNotExist();
        assertThat(BundleLoader.verify(source.toUri(), copied, null).id()).isEqualTo("remote");

        Path big = TinyBundles.write(tmp.resolve("remote/big"), new TinyBundles.Spec().id("big"));
        BundleLimits tight = BundleLimits.defaults()
                .withMaxBundleBytes(java.nio.file.Files.size(big.resolve("manifest.json")) + 1000);
        assertThatThrownBy(() -> FlinkFileSystemBundleFetcher.copy(big.toUri(), tmp.resolve("cache2"), tight))
                .hasMessageContaining("LIMIT_EXCEEDED");
        assertThat(tmp.resolve("cache2/remote")).isEmptyDirectory();
    }

    @Test
    void claimsEveryRemoteSchemeButNotLocalOnes() {
        FlinkFileSystemBundleFetcher fetcher = new FlinkFileSystemBundleFetcher();
        assertThat(fetcher.supports(URI.create("s3://bucket/models/x"))).isTrue();
        assertThat(fetcher.supports(URI.create("hdfs://nn/models/x"))).isTrue();
        assertThat(fetcher.supports(URI.create("file:///models/x"))).isFalse();
        assertThat(fetcher.supports(URI.create("default:int8"))).isFalse();
    }

    @Test
    void aMissingPluginIsAClearError() {
        assertThatThrownBy(() -> FlinkFileSystemBundleFetcher.copy(
                        URI.create("s3://bucket/models/x"), tmp, BundleLimits.defaults()))
                .hasMessageContaining("UNRESOLVABLE_URI")
                .hasMessageContaining("s3");
    }
}
