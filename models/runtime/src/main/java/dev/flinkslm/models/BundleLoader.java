package dev.flinkslm.models;

import dev.flinkslm.models.internal.GraphCheck;
import dev.flinkslm.models.internal.LocalBundleFetcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * Resolves a bundle URI to a verified {@link ModelBundle}.
 *
 * <p>Loading checks, in order: the URI is well formed and inside the allowed {@link ModelRoots}; a
 * fetcher exists for its scheme; {@code manifest.json} exists, is within {@link BundleLimits},
 * parses strictly and has a supported version; when the caller pins one, the manifest matches the
 * expected digest; the bundle directory holds nothing but the manifest and the files it lists
 * (no other file, folder, link or executable); every listed file really lies inside the bundle
 * directory (and, for a bundle directory under a {@code file:} root, inside that root) after
 * symbolic links are resolved; and every listed file, read once into memory within the limits,
 * matches its SHA-256. The graph is then parsed and refused if it keeps tensors in external files.
 * Each failure is a {@link BundleException} with its own {@link BundleException.Reason}.
 *
 * <p>The bytes that were hashed are the bytes a {@link ScoringSession} runs: {@link
 * ScoringSession#open} creates the ONNX Runtime session and the tokenizer from them, never from
 * the paths, so replacing a file after verification cannot change what answers.
 *
 * <pre>{@code
 * BundleLoader loader = BundleLoader.builder().roots(ModelRoots.of("/opt/models")).build();
 * ModelBundle bundle = loader.load(URI.create("file:///opt/models/compliance/1.0.0"));
 * }</pre>
 *
 * <p>Fetchers for extra schemes are found with {@link ServiceLoader} ({@code
 * META-INF/services/dev.flinkslm.models.BundleFetcher}) or added on the builder. Every public entry
 * reports problems as {@link BundleException}, malformed locations included ({@code INVALID_URI}).
 * Thread-safe.
 */
public final class BundleLoader {

    private static final Logger LOG = LoggerFactory.getLogger(BundleLoader.class);

    /** System property that overrides where fetched and generated bundles are cached. */
    public static final String CACHE_DIR_PROPERTY = "flinkslm.cache.dir";

    /** Environment variable that overrides where fetched and generated bundles are cached. */
    public static final String CACHE_DIR_ENV = "FLINK_SLM_CACHE_DIR";

    /** Deepest folder nesting inside a bundle directory that is inspected. */
    private static final int MAX_DEPTH = 16;

    private final ModelRoots roots;
    private final List<BundleFetcher> fetchers;
    private final Path cacheDirectory;
    private final BundleLimits limits;

    private BundleLoader(ModelRoots roots, List<BundleFetcher> fetchers, Path cacheDirectory, BundleLimits limits) {
        this.roots = roots;
        this.fetchers = List.copyOf(fetchers);
        this.cacheDirectory = cacheDirectory;
        this.limits = limits;
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

    public BundleLimits limits() {
        return limits;
    }

    /**
     * Everything besides the URI and digest that decides what {@link #load(URI, String)} returns or
     * refuses: roots, limits, cache directory and fetchers (by class). Loaders with equal settings read
     * any bundle alike, so one read can serve them all.
     */
    public String settings() {
        StringBuilder s = new StringBuilder()
                .append(roots)
                .append('|')
                .append(limits)
                .append('|')
                .append(cacheDirectory);
        for (BundleFetcher f : fetchers) {
            s.append('|').append(f.getClass().getName());
        }
        return s.toString();
    }

    /** Refuses a bundle that is not the version {@code ref} names (when it names one). */
    public static void requireVersion(ModelBundle bundle, ModelRef ref) throws BundleException {
        if (ref.id() != null && !ref.id().equals(bundle.id())
                || ref.version() != null && !ref.version().equals(bundle.version())) {
            throw new BundleException(
                    BundleException.Reason.CHECKSUM_MISMATCH,
                    "bundle at " + ref.uri() + " is " + bundle.id() + ":" + bundle.version() + " but "
                            + ref.displayName() + " was expected; the artifact was replaced");
        }
    }

    /** Loads and verifies the bundle at {@code location} (a URI or a local path). */
    public ModelBundle load(String location) throws BundleException {
        return load(ModelRoots.parse(location), null);
    }

    public ModelBundle load(URI uri) throws BundleException {
        return load(uri, null);
    }

    /** Loads a referenced version; when the reference pins a manifest digest it must match. */
    public ModelBundle load(ModelRef ref) throws BundleException {
        ModelBundle bundle = load(ModelRoots.parse(ref.uri()), ref.sha256());
        requireVersion(bundle, ref);
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
        Path directory;
        try {
            directory = fetcher.fetch(allowed, cacheDirectory, limits);
        } catch (RuntimeException e) {
            throw new BundleException(
                    BundleException.Reason.UNRESOLVABLE_URI, "fetching " + allowed + " failed: " + e, e);
        }
        // A bundle directory named by a file: URI is read in place, so its files must stay under the
        // roots too; fetched copies (archives, remote bundles, built-ins) live in the fetcher's cache.
        boolean inPlace = "file".equals(allowed.getScheme())
                && directory
                        .toAbsolutePath()
                        .normalize()
                        .equals(Path.of(allowed).toAbsolutePath().normalize());
        return verify(allowed, directory, expectedManifestSha256, limits, inPlace ? roots : null);
    }

    /**
     * Verifies a bundle that is already a local directory, within the {@linkplain
     * BundleLimits#defaults() default limits} and without a root check.
     */
    public static ModelBundle verify(URI uri, Path directory, String expectedManifestSha256) throws BundleException {
        return verify(uri, directory, expectedManifestSha256, BundleLimits.defaults(), null);
    }

    /** Verifies a local bundle directory; when {@code roots} is not null every file must really lie under one. */
    static ModelBundle verify(
            URI uri, Path directory, String expectedManifestSha256, BundleLimits limits, ModelRoots roots)
            throws BundleException {
        Verified verified = readVerified(uri, directory, expectedManifestSha256, limits, roots);
        return new ModelBundle(
                uri, directory, verified.manifest(), verified.manifestSha256(), limits, roots, verified.files());
    }

    /** A verified manifest and the bytes of the files it lists. */
    record Verified(ModelManifest manifest, String manifestSha256, Map<String, byte[]> files) {}

    static Verified readVerified(
            URI uri, Path directory, String expectedManifestSha256, BundleLimits limits, ModelRoots roots)
            throws BundleException {
        long start = System.nanoTime();
        Path realDir;
        try {
            realDir = directory.toRealPath();
        } catch (IOException e) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    "bundle directory " + directory + " of " + uri + " does not exist or cannot be read: " + e,
                    e);
        }
        if (!Files.isDirectory(realDir)) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    "bundle " + uri + " is not a directory; a bundle is a directory with manifest.json, the ONNX"
                            + " graph and the tokenizer");
        }
        if (roots != null && !roots.containsRealPath(realDir)) {
            throw new BundleException(
                    BundleException.Reason.FILE_OUTSIDE_BUNDLE,
                    "bundle directory of " + uri + " resolves to " + realDir + ", outside the model roots "
                            + roots.roots());
        }
        if (!Files.exists(realDir.resolve(ModelManifest.FILE_NAME), LinkOption.NOFOLLOW_LINKS)) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    "bundle " + uri + " has no " + ModelManifest.FILE_NAME
                            + "; a bundle is a directory with manifest.json, the ONNX graph and the tokenizer");
        }
        byte[] manifestBytes = readContained(
                uri,
                realDir,
                ModelManifest.FILE_NAME,
                roots,
                limits.maxManifestBytes(),
                "BundleLimits.maxManifestBytes");
        String manifestSha = Digests.sha256(manifestBytes);
        if (expectedManifestSha256 != null && !expectedManifestSha256.equalsIgnoreCase(manifestSha)) {
            throw new BundleException(
                    BundleException.Reason.CHECKSUM_MISMATCH,
                    "manifest.json of " + uri + " has SHA-256 " + manifestSha + " but " + expectedManifestSha256
                            + " was expected; the bundle was changed after it was registered");
        }
        ModelManifest manifest = ModelManifest.parse(manifestBytes, limits);
        requireOnlyListedFiles(uri, realDir, manifest);
        long budget = limits.maxBundleBytes() - manifestBytes.length;
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : manifest.sha256().entrySet()) {
            byte[] bytes = readContained(uri, realDir, entry.getKey(), roots, budget, "BundleLimits.maxBundleBytes");
            budget -= bytes.length;
            String actual = Digests.sha256(bytes);
            if (!actual.equalsIgnoreCase(entry.getValue())) {
                throw new BundleException(
                        BundleException.Reason.CHECKSUM_MISMATCH,
                        "file " + entry.getKey() + " of " + uri + " has SHA-256 " + actual + " but the manifest says "
                                + entry.getValue() + "; the file is corrupt or was replaced");
            }
            files.put(entry.getKey(), bytes);
        }
        GraphCheck.requireSelfContained(files.get(manifest.model()), manifest.model());
        LOG.debug(
                "Verified bundle {}:{} at {} in {} ms",
                manifest.id(),
                manifest.version(),
                realDir,
                (System.nanoTime() - start) / 1_000_000);
        return new Verified(manifest, manifestSha, files);
    }

    /**
     * Reads one bundle file whole, refusing links that leave the bundle directory (or the roots),
     * anything but a regular non-executable file, and more than {@code maxBytes}.
     */
    private static byte[] readContained(
            URI uri, Path realDir, String name, ModelRoots roots, long maxBytes, String limitName)
            throws BundleException {
        Path file = realDir.resolve(name);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    "bundle " + uri + " lists " + name + " but the file does not exist");
        }
        Path real;
        try {
            real = file.toRealPath();
        } catch (IOException e) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    "file " + name + " of bundle " + uri + " is a link to a file that does not exist: " + e,
                    e);
        }
        if (!real.startsWith(realDir)) {
            throw new BundleException(
                    BundleException.Reason.FILE_OUTSIDE_BUNDLE,
                    "file " + name + " of bundle " + uri + " resolves to " + real + ", outside the bundle directory "
                            + realDir + "; a bundle must hold its files itself (a link elsewhere, even into another"
                            + " model root, lets the file change without the bundle changing), so copy the file in");
        }
        if (roots != null && !roots.containsRealPath(real)) {
            throw new BundleException(
                    BundleException.Reason.FILE_OUTSIDE_BUNDLE,
                    "file " + name + " of bundle " + uri + " resolves to " + real + ", outside the model roots "
                            + roots.roots());
        }
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new BundleException(BundleException.Reason.MISSING_FILE, "cannot read " + name + " of " + uri, e);
        }
        if (!attributes.isRegularFile()) {
            throw new BundleException(
                    BundleException.Reason.UNEXPECTED_FILE, name + " of bundle " + uri + " is not a regular file");
        }
        requireNotExecutable(uri, real, name);
        long limit = Math.min(maxBytes, BundleLimits.MAX_FILE_BYTES);
        if (attributes.size() > limit) {
            throw tooLarge(uri, name, attributes.size(), maxBytes, limitName);
        }
        // NOFOLLOW_LINKS: if the file was swapped for a link since toRealPath, opening fails.
        try (SeekableByteChannel channel =
                        Files.newByteChannel(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
                InputStream in = Channels.newInputStream(channel)) {
            byte[] bytes = new byte[(int) attributes.size()];
            int read = in.readNBytes(bytes, 0, bytes.length);
            if (read != bytes.length || in.read() != -1) {
                throw new BundleException(
                        BundleException.Reason.CHECKSUM_MISMATCH,
                        "file " + name + " of bundle " + uri + " changed size while it was read; it is being replaced,"
                                + " load the bundle again once it is complete");
            }
            return bytes;
        } catch (IOException e) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE, "cannot read " + name + " of " + uri + ": " + e, e);
        }
    }

    private static BundleException tooLarge(URI uri, String name, long size, long maxBytes, String limitName) {
        return new BundleException(
                BundleException.Reason.LIMIT_EXCEEDED,
                "file " + name + " of bundle " + uri + " has " + size + " bytes, more than the " + maxBytes
                        + " bytes left within " + limitName + "; raise the limit on the BundleLoader builder if the"
                        + " bundle is legitimately this large");
    }

    private static void requireNotExecutable(URI uri, Path real, String name) throws BundleException {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(real, LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IOException e) {
            return; // not a POSIX file system: there is no execute bit to check
        }
        if (permissions.contains(PosixFilePermission.OWNER_EXECUTE)
                || permissions.contains(PosixFilePermission.GROUP_EXECUTE)
                || permissions.contains(PosixFilePermission.OTHERS_EXECUTE)) {
            throw new BundleException(
                    BundleException.Reason.UNEXPECTED_FILE,
                    "file " + name + " of bundle " + uri + " is executable; bundle files are data (chmod a-x " + name
                            + ")");
        }
    }

    /** The bundle directory holds manifest.json, the listed files and the folders leading to them; nothing else. */
    private static void requireOnlyListedFiles(URI uri, Path realDir, ModelManifest manifest) throws BundleException {
        Set<String> files = new HashSet<>(manifest.sha256().keySet());
        files.add(ModelManifest.FILE_NAME);
        Set<String> folders = new HashSet<>();
        for (String name : files) {
            for (int slash = name.indexOf('/'); slash > 0; slash = name.indexOf('/', slash + 1)) {
                folders.add(name.substring(0, slash));
            }
        }
        BundleException[] problem = new BundleException[1];
        try {
            Files.walkFileTree(realDir, EnumSet.noneOf(FileVisitOption.class), MAX_DEPTH, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (dir.equals(realDir)) {
                        return FileVisitResult.CONTINUE;
                    }
                    String rel = relative(realDir, dir);
                    if (!folders.contains(rel)) {
                        problem[0] = unexpected(uri, "folder " + rel + " holds no file the manifest lists; remove it");
                        return FileVisitResult.TERMINATE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    String rel = relative(realDir, file);
                    if (attrs.isDirectory()) {
                        // deeper than MAX_DEPTH: a listed file cannot be there, since names are short
                        problem[0] = unexpected(uri, "folder " + rel + " is nested too deeply");
                        return FileVisitResult.TERMINATE;
                    }
                    if (!files.contains(rel)) {
                        problem[0] = unexpected(
                                uri,
                                (attrs.isSymbolicLink() ? "link " : attrs.isOther() ? "special file " : "file ") + rel
                                        + " is not listed in manifest.json; a bundle holds"
                                        + " only the files its manifest lists and checks, so that nothing unverified lies"
                                        + " next to the graph (remove it, or list it with its SHA-256)");
                        return FileVisitResult.TERMINATE;
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    "cannot list bundle directory " + realDir + " of " + uri + ": " + e,
                    e);
        }
        if (problem[0] != null) {
            throw problem[0];
        }
    }

    private static String relative(Path root, Path p) {
        StringBuilder sb = new StringBuilder();
        for (Path part : root.relativize(p)) {
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(part);
        }
        return sb.toString();
    }

    private static BundleException unexpected(URI uri, String what) {
        return new BundleException(BundleException.Reason.UNEXPECTED_FILE, "bundle " + uri + ": " + what);
    }

    /** Builder for {@link BundleLoader}. */
    public static final class Builder {
        private ModelRoots roots = ModelRoots.of();
        private final List<BundleFetcher> fetchers = new ArrayList<>();
        private Path cacheDirectory;
        private BundleLimits limits = BundleLimits.defaults();

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

        /** Size and count limits for every bundle. Default: {@link BundleLimits#defaults()}. */
        public Builder limits(BundleLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        public BundleLoader build() {
            List<BundleFetcher> all = new ArrayList<>(fetchers);
            for (BundleFetcher f : ServiceLoader.load(BundleFetcher.class, BundleLoader.class.getClassLoader())) {
                all.add(f);
            }
            all.add(new LocalBundleFetcher());
            return new BundleLoader(
                    roots, all, cacheDirectory != null ? cacheDirectory : defaultCacheDirectory(), limits);
        }
    }
}
