package dev.flinkslm.models;

import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The allowlist of locations that bundles may be loaded from.
 *
 * <p>Model commands arrive on a stream; without an allowlist a command could make a job read any
 * path its process can reach. A URI is allowed only when, after normalisation, it lies under one of
 * the configured roots:
 *
 * <ul>
 *   <li>{@code file:} URIs are compared as real paths (symbolic links resolved), component by
 *       component; a {@code file:} URI with a host ({@code file://host/x}) is refused.
 *   <li>Other schemes ({@code s3:}, {@code gs:}, ...) are compared after their path is decoded and
 *       its {@code .}/{@code ..} segments are resolved. Encoded dots, slashes and backslashes
 *       ({@code %2e}, {@code %2f}, {@code %5c} in any case), a {@code ..} that climbs above the
 *       top of the path, user info, queries and fragments are refused, so what is compared is what
 *       a file system would open.
 *   <li>Bundles of a built-in scheme ({@link BundleFetcher#builtInScheme()}, such as the compliance
 *       model's {@code default:}) are always allowed.
 * </ul>
 *
 * <pre>{@code
 * ModelRoots roots = ModelRoots.of("file:///opt/models/", "s3://bank-models/prod/");
 * roots.check(URI.create("file:///opt/models/fraud/v7"));            // ok
 * roots.check(URI.create("file:///etc/passwd"));                     // BundleException URI_NOT_ALLOWED
 * roots.check(URI.create("s3://bank-models/prod/%2e%2e/secret/x"));  // BundleException INVALID_URI
 * }</pre>
 *
 * <p>Errors: a malformed bundle location is {@link BundleException.Reason#INVALID_URI}, one outside
 * the roots {@link BundleException.Reason#URI_NOT_ALLOWED}. Roots themselves are configuration and
 * are rejected with {@link IllegalArgumentException} when {@link #of} is called. Immutable and
 * thread-safe.
 */
public final class ModelRoots implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Schemes of built-in bundles, from the fetchers registered with {@link ServiceLoader}. */
    private static volatile Set<String> builtInSchemes;

    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:.*", Pattern.DOTALL);
    private static final Pattern WINDOWS_DRIVE = Pattern.compile("^[a-zA-Z]:\\\\.*", Pattern.DOTALL);
    private static final Pattern ENCODED_SEPARATOR = Pattern.compile("%(2e|2f|5c|00)", Pattern.CASE_INSENSITIVE);

    private final List<String> roots;
    private final boolean allowAll;

    private ModelRoots(List<String> roots, boolean allowAll) {
        this.roots = List.copyOf(roots);
        this.allowAll = allowAll;
    }

    /**
     * Roots given as URIs or local paths. A plain path such as {@code /opt/models} means
     * {@code file:/opt/models/}.
     *
     * @throws IllegalArgumentException when a root is not a valid location (configuration error)
     */
    public static ModelRoots of(String... roots) {
        return of(List.of(roots));
    }

    /** See {@link #of(String...)}. */
    public static ModelRoots of(List<String> roots) {
        List<String> normalised = new ArrayList<>();
        for (String root : roots) {
            if (root == null || root.isBlank()) {
                continue;
            }
            try {
                normalised.add(asDirectoryPrefix(normalise(parse(root.trim()))));
            } catch (BundleException e) {
                throw new IllegalArgumentException(
                        "model root '" + redact(root) + "' is not usable: " + e.getMessage(), e);
            }
        }
        return new ModelRoots(normalised, false);
    }

    /** Allows every location: for command-line tools where the user names the bundle directly. */
    public static ModelRoots allowAll() {
        return new ModelRoots(List.of(), true);
    }

    public List<String> roots() {
        return roots;
    }

    /** Whether every location is allowed ({@link #allowAll()}). */
    public boolean allowsAll() {
        return allowAll;
    }

    /**
     * Returns the normalised URI when it is well formed and allowed.
     *
     * @throws BundleException {@code INVALID_URI} when the URI is malformed, {@code URI_NOT_ALLOWED}
     *     when it lies outside every root
     */
    public URI check(URI uri) throws BundleException {
        if (uri == null) {
            throw new BundleException(BundleException.Reason.INVALID_URI, "model URI is missing");
        }
        if (isBuiltIn(uri)) {
            return uri;
        }
        URI normalised = normalise(uri);
        if (allowAll) {
            return normalised;
        }
        if ("file".equals(normalised.getScheme())) {
            Path candidate = Path.of(normalised);
            for (String root : roots) {
                Path rootPath = fileRoot(root);
                if (rootPath != null && candidate.startsWith(rootPath)) {
                    return normalised;
                }
            }
        } else {
            String candidateDir = asDirectoryPrefix(normalised);
            for (String root : roots) {
                if (candidateDir.startsWith(root)) {
                    return normalised;
                }
            }
        }
        throw new BundleException(
                BundleException.Reason.URI_NOT_ALLOWED,
                "model URI " + display(uri) + " is outside the allowed model roots " + roots
                        + "; add its parent to the model roots option if it should be loadable");
    }

    /**
     * Whether a real local path (symbolic links resolved) lies under one of the {@code file:} roots.
     * Always true for {@link #allowAll()}.
     */
    public boolean containsRealPath(Path realPath) {
        if (allowAll) {
            return true;
        }
        for (String root : roots) {
            Path rootPath = fileRoot(root);
            if (rootPath != null && realPath.startsWith(rootPath)) {
                return true;
            }
        }
        return false;
    }

    /** The real path of a {@code file:} root now (links may differ between hosts), or null for other schemes. */
    private static Path fileRoot(String root) {
        if (!root.startsWith("file:")) {
            return null;
        }
        Path path = Path.of(URI.create(root));
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path;
        }
    }

    /**
     * Parses a URI or a local path.
     *
     * @throws IllegalArgumentException when the location is malformed; use {@link #parse} where a
     *     malformed location is data (a model command) rather than configuration
     */
    public static URI toUri(String location) {
        try {
            return parse(location);
        } catch (BundleException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /**
     * Parses a URI or a local path, refusing malformed locations.
     *
     * @throws BundleException {@code INVALID_URI} when the location cannot be parsed or is not a
     *     plain bundle location (see the class comment)
     */
    public static URI parse(String location) throws BundleException {
        if (location == null || location.isBlank()) {
            throw new BundleException(BundleException.Reason.INVALID_URI, "model location is empty");
        }
        URI uri;
        try {
            if (SCHEME.matcher(location).matches()
                    && !WINDOWS_DRIVE.matcher(location).matches()) {
                uri = new URI(location);
            } else {
                uri = Path.of(location).toAbsolutePath().toUri();
            }
        } catch (URISyntaxException | InvalidPathException e) {
            throw new BundleException(
                    BundleException.Reason.INVALID_URI,
                    "model location '" + redact(location) + "' cannot be parsed: " + e.getMessage(),
                    e);
        }
        validate(uri);
        return uri;
    }

    /** Refuses URIs whose meaning depends on who decodes them. */
    private static void validate(URI uri) throws BundleException {
        if (isBuiltIn(uri)) {
            return;
        }
        if (uri.isOpaque()) {
            throw invalid(uri, "is not a hierarchical URI (expected scheme:/path or scheme://host/path)");
        }
        if (uri.getRawQuery() != null) {
            throw invalid(uri, "has a query (?...); bundle locations are plain paths");
        }
        if (uri.getRawFragment() != null) {
            throw invalid(uri, "has a fragment (#...); bundle locations are plain paths");
        }
        if (uri.getRawUserInfo() != null) {
            throw invalid(uri, "carries user information; configure credentials in the file system, not the URI");
        }
        String rawPath = uri.getRawPath();
        if (rawPath == null || rawPath.isEmpty()) {
            throw invalid(uri, "has no path");
        }
        if (ENCODED_SEPARATOR.matcher(rawPath).find()) {
            throw invalid(
                    uri, "encodes '.', '/', '\\' or NUL in its path (%2e, %2f, %5c, %00); write the path plainly");
        }
        String path = uri.getPath();
        if (path.indexOf('\\') >= 0 || path.indexOf('%') >= 0 || path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw invalid(uri, "has a backslash, a '%' after decoding or a control character in its path");
        }
        String scheme = uri.getScheme() == null ? "file" : uri.getScheme().toLowerCase(Locale.ROOT);
        if ("file".equals(scheme)) {
            if (uri.getRawAuthority() != null && !uri.getRawAuthority().isEmpty()) {
                throw invalid(uri, "names a host; file: URIs must be local (file:///path)");
            }
        } else {
            resolveDots(uri);
        }
    }

    private static URI normalise(URI uri) throws BundleException {
        validate(uri);
        String scheme = uri.getScheme() == null ? "file" : uri.getScheme().toLowerCase(Locale.ROOT);
        if ("file".equals(scheme)) {
            Path path;
            try {
                path = uri.getPath().startsWith("/")
                        ? Path.of(new URI("file", null, uri.getPath(), null, null))
                        : Path.of(uri.getPath());
                path = path.toAbsolutePath().normalize();
            } catch (URISyntaxException | IllegalArgumentException e) {
                throw invalid(uri, "is not a local path: " + e.getMessage());
            }
            return realPath(path).toUri();
        }
        String path = resolveDots(uri);
        // Host names (bucket names) are case-insensitive; the authority is kept whole so that
        // registry-style names (gs://my_bucket) survive.
        String authority =
                uri.getAuthority() == null ? null : uri.getAuthority().toLowerCase(Locale.ROOT);
        try {
            return new URI(scheme, authority, path, null, null);
        } catch (URISyntaxException e) {
            throw invalid(uri, "cannot be normalised: " + e.getMessage());
        }
    }

    /** Resolves links so that a link inside a root cannot point outside it; a missing tail is kept as written. */
    private static Path realPath(Path path) {
        Path existing = path;
        Deque<Path> missing = new ArrayDeque<>();
        while (existing != null) {
            try {
                Path real = existing.toRealPath();
                for (Path name : missing) {
                    real = real.resolve(name);
                }
                return real;
            } catch (NoSuchFileException e) {
                if (existing.getFileName() == null) {
                    return path;
                }
                missing.addFirst(existing.getFileName());
                existing = existing.getParent();
            } catch (IOException e) {
                return path; // loading reports the real problem
            }
        }
        return path;
    }

    /** The decoded path with {@code .} and {@code ..} resolved; a {@code ..} above the top is an error. */
    private static String resolveDots(URI uri) throws BundleException {
        String path = uri.getPath();
        boolean trailingSlash = path.endsWith("/");
        Deque<String> segments = new ArrayDeque<>();
        for (String segment : path.split("/")) {
            if (segment.isEmpty() || segment.equals(".")) {
                continue;
            }
            if (segment.equals("..")) {
                if (segments.isEmpty()) {
                    throw invalid(uri, "climbs above the top of its path with '..'");
                }
                segments.removeLast();
            } else {
                segments.addLast(segment);
            }
        }
        String joined = "/" + String.join("/", segments);
        return trailingSlash && !segments.isEmpty() ? joined + "/" : joined;
    }

    private static BundleException invalid(URI uri, String problem) {
        return new BundleException(BundleException.Reason.INVALID_URI, "model URI " + display(uri) + " " + problem);
    }

    /** The URI without user information, which may hold credentials. */
    private static String display(URI uri) {
        if (uri.getRawUserInfo() == null) {
            return uri.toString();
        }
        return redact(uri.toString());
    }

    /**
     * A location as it may be shown: user information (which may hold credentials) and the query
     * (a presigned URL's signature) replaced by {@code ***}. For messages and audit records.
     */
    public static String redact(String location) {
        if (location == null) {
            return null;
        }
        String s = location.replaceAll("(?<=://)[^/@?#]*@", "***@");
        int query = s.indexOf('?');
        return query < 0 ? s : s.substring(0, query + 1) + "***";
    }

    private static String asDirectoryPrefix(URI uri) {
        String s = uri.toString();
        return s.endsWith("/") ? s : s + "/";
    }

    @Override
    public String toString() {
        return allowAll ? "ModelRoots[any]" : "ModelRoots" + roots;
    }

    /** Whether the URI names a built-in bundle ({@link BundleFetcher#builtInScheme()}). */
    public static boolean isBuiltIn(URI uri) {
        return uri.getScheme() != null
                && builtInSchemes().contains(uri.getScheme().toLowerCase(Locale.ROOT));
    }

    private static Set<String> builtInSchemes() {
        Set<String> schemes = builtInSchemes;
        if (schemes == null) {
            Set<String> found = new HashSet<>();
            for (BundleFetcher f : ServiceLoader.load(BundleFetcher.class, ModelRoots.class.getClassLoader())) {
                String scheme = f.builtInScheme();
                if (scheme != null) {
                    found.add(scheme.toLowerCase(Locale.ROOT));
                }
            }
            schemes = Set.copyOf(found);
            builtInSchemes = schemes;
        }
        return schemes;
    }
}
