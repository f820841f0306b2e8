package dev.flinkslm.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.TinyBundles;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;

class FlinkFileSystemBundleFetcherTest {

    @TempDir Path tmp;

    @Test
    void copiesABundleThroughFlinksFileSystemsAndTheLoaderVerifiesIt() throws Exception {
        Path source = TinyBundles.write(tmp.resolve("remote/bundle"), new TinyBundles.Spec().id("remote"));
        Path cache = tmp.resolve("cache");
        Path copied = FlinkFileSystemBundleFetcher.copy(source.toUri(), cache);
        assertThat(copied).startsWith(cache);
        ModelBundle bundle = BundleLoader.verify(source.toUri(), copied, null);
        assertThat(bundle.id()).isEqualTo("remote");
        assertThat(FlinkFileSystemBundleFetcher.copy(source.toUri(), cache)).isEqualTo(copied);

        // a changed artifact is fetched again
        TinyBundles.write(source, new TinyBundles.Spec().id("remote").version("2"));
        Path again = FlinkFileSystemBundleFetcher.copy(source.toUri(), cache);
        assertThat(again).isNotEqualTo(copied);
        assertThat(BundleLoader.verify(source.toUri(), again, null).version()).isEqualTo("2");
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
        assertThatThrownBy(() -> FlinkFileSystemBundleFetcher.copy(URI.create("s3://bucket/models/x"), tmp))
                .hasMessageContaining("UNRESOLVABLE_URI")
                .hasMessageContaining("s3");
    }
}
