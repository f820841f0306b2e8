package dev.flinkslm.models;

import dev.flinkslm.models.internal.Digests;
import dev.flinkslm.models.internal.LocalBundleFetcher;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;

/**
 * Resolves a bundle URI to a verified local {@link ModelBundle}.
 *
 * <p>Loading checks, in order: the URI is inside the allowed {@link ModelRoots}; a fetcher exists
 * for its scheme; {@code manifest.json} exists, parses and has a supported version; every file the
 * manifest lists exists and matches its SHA-256; and, when the caller pins one, the manifest itself
 * matches the expected digest. Each failure is a {@link BundleException} with its own
 * {@link BundleException.Reason}.
 *
 * <pre>{@code
 * BundleLoader loader = BundleLoader.builder().roots(ModelRoots.of("/opt/models")).build();
 * ModelBundle bundle = loader.load(URI.create("file:///opt/models/compliance/1.0.0"));
 * }</pre>
 *
 * <p>Fetchers for extra schemes are found with {@link ServiceLoader} ({@code
 * META-INF/services/dev.flinkslm.models.BundleFetcher}) or added on the builder. Thread-safe.
 */
public final class BundleLoader {

    private static final Logger LOG = LoggerFactory.getLogger(BundleLoader.class);

    /** System property that overrides where fetched and generated bundles are cached. */
    public static final String CACHE_DIR_PROPERTY = "flinkslm.cache.dir";

    /** Environment variable that overrides where fetched and generated bundles are cached. */
    public static final String CACHE_DIR_ENV = "FLINK_SLM_CACHE_DIR";

    private final ModelRoots roots;
    private final List<BundleFetcher> fetchers;
    private final Path cacheDirectory;

    private BundleLoader(ModelRoots roots, List<BundleFetcher> fetchers, Path cacheDirectory) {
        this.roots = roots;
        this.fetchers = List.copyOf(fetchers);
        this.cacheDirectory = cacheDirectory;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The cache root: {@value #CACHE_DIR_PROPERTY}, else {@value #CACHE_DIR_ENV}, else ~/.cache/flink-slm. */
    public static Path defaultCacheDirectory() {
        String property = System.getProperty(CACHE_DIR_PROPERTY);
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        String env = System.getenv(CACHE_DIR_ENV);
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "flink-slm");
    }

    public ModelRoots roots() {
        return roots;
    }

    public Path cacheDirectory() {
        return cacheDirectory;
    }

    /** Loads and verifies the bundle at {@code location} (a URI or a local path). */
    public ModelBundle load(String location) throws BundleException {
        return load(ModelRoots.toUri(location), null);
    }

    public ModelBundle load(URI uri) throws BundleException {
        return load(uri, null);
    }

    /** Loads a referenced version; when the reference pins a manifest digest it must match. */
    public ModelBundle load(ModelRef ref) throws BundleException {
        ModelBundle bundle = load(ModelRoots.toUri(ref.uri()), ref.sha256());
        if (ref.id() != null && !ref.id().equals(bundle.id())
                || ref.version() != null && !ref.version().equals(bundle.version())) {
            throw new BundleException(
                    BundleException.Reason.CHECKSUM_MISMATCH,
                    "bundle at " + ref.uri() + " is " + bundle.id() + ":" + bundle.version() + " but "
                            + ref.displayName() + " was expected; the artifact was replaced");
        }
        return bundle;
    }

    /**
     * Loads and verifies a bundle.
     *
     * @param expectedManifestSha256 hex digest the manifest must have, or null
     */
    public ModelBundle load(URI uri, String expectedManifestSha256) throws BundleException {
        URI allowed = roots.check(uri);
        BundleFetcher fetcher = fetchers.stream()
                .filter(f -> f.supports(allowed))
                .findFirst()
                .orElseThrow(() -> new BundleException(
                        BundleException.Reason.UNRESOLVABLE_URI,
                        "no bundle fetcher handles scheme '" + allowed.getScheme() + "' of " + allowed
                                + "; use a file: URI or register a BundleFetcher for the scheme"));
        Path directory = fetcher.fetch(allowed, cacheDirectory);
        return verify(allowed, directory, expectedManifestSha256);
    }

    /** Verifies a bundle that is already a local directory. */
    public static ModelBundle verify(URI uri, Path directory, String expectedManifestSha256)
            throws BundleException {
        long start = System.nanoTime();
        Path manifestFile = directory.resolve(ModelManifest.FILE_NAME);
        if (!Files.isRegularFile(manifestFile)) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    "bundle " + uri + " has no " + ModelManifest.FILE_NAME
                            + "; a bundle is a directory with manifest.json, the ONNX graph and the tokenizer");
        }
        byte[] manifestBytes;
        try {
            manifestBytes = Files.readAllBytes(manifestFile);
        } catch (IOException e) {
            throw new BundleException(BundleException.Reason.MISSING_FILE, "cannot read " + manifestFile, e);
        }
        String manifestSha = Digests.sha256(manifestBytes);
        if (expectedManifestSha256 != null && !expectedManifestSha256.equalsIgnoreCase(manifestSha)) {
            throw new BundleException(
                    BundleException.Reason.CHECKSUM_MISMATCH,
                    "manifest.json of " + uri + " has SHA-256 " + manifestSha + " but " + expectedManifestSha256
                            + " was expected; the bundle was changed after it was registered");
        }
        ModelManifest manifest = ModelManifest.parse(manifestBytes);
        for (Map.Entry<String, String> entry : manifest.sha256().entrySet()) {
            Path file = directory.resolve(entry.getKey()).normalize();
            if (!file.startsWith(directory.normalize())) {
                throw new BundleException(
                        BundleException.Reason.INVALID_MANIFEST,
                        "file " + entry.getKey() + " points outside the bundle directory");
            }
            if (!Files.isRegularFile(file)) {
                throw new BundleException(
                        BundleException.Reason.MISSING_FILE,
                        "bundle " + uri + " lists " + entry.getKey() + " but the file does not exist");
            }
            String actual;
            try {
                actual = Digests.sha256(file);
            } catch (IOException e) {
                throw new BundleException(BundleException.Reason.MISSING_FILE, "cannot read " + file, e);
            }
            if (!actual.equalsIgnoreCase(entry.getValue())) {
                throw new BundleException(
                        BundleException.Reason.CHECKSUM_MISMATCH,
                        "file " + entry.getKey() + " of " + uri + " has SHA-256 " + actual + " but the manifest says "
                                + entry.getValue() + "; the file is corrupt or was replaced");
            }
        }
        LOG.debug("Verified bundle {}:{} at {} in {} ms", manifest.id(), manifest.version(), directory,
                (System.nanoTime() - start) / 1_000_000);
        return new ModelBundle(uri, directory, manifest, manifestSha);
    }

    /** Builder for {@link BundleLoader}. */
    public static final class Builder {
        private ModelRoots roots = ModelRoots.of();
        private final List<BundleFetcher> fetchers = new ArrayList<>();
        private Path cacheDirectory;

        /** Which locations may be loaded. Default: none but the built-in bundles. */
        public Builder roots(ModelRoots roots) {
            this.roots = Objects.requireNonNull(roots, "roots");
            return this;
        }

        /** Adds a fetcher, consulted before the service-loaded and built-in ones. */
        public Builder addFetcher(BundleFetcher fetcher) {
            fetchers.add(Objects.requireNonNull(fetcher, "fetcher"));
            return this;
        }

        /** Where archives and remote bundles are unpacked. Default: {@link #defaultCacheDirectory()}. */
        public Builder cacheDirectory(Path directory) {
            this.cacheDirectory = directory;
            return this;
        }

        public BundleLoader build() {
            List<BundleFetcher> all = new ArrayList<>(fetchers);
            for (BundleFetcher f : ServiceLoader.load(BundleFetcher.class, BundleLoader.class.getClassLoader())) {
                all.add(f);
            }
            all.add(new LocalBundleFetcher());
            return new BundleLoader(roots, all, cacheDirectory != null ? cacheDirectory : defaultCacheDirectory());
        }
    }
}
