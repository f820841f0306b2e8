package dev.flinkslm.models;

import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The allowlist of locations that bundles may be loaded from.
 *
 * <p>Model commands arrive on a stream; without an allowlist a command could make a job read any
 * path its process can reach. A URI is allowed only when, after normalisation (and, for local
 * files, after resolving symbolic links), it lies under one of the configured roots. Built-in
 * bundles ({@code default:} URIs) are always allowed.
 *
 * <pre>{@code
 * ModelRoots roots = ModelRoots.of("file:///opt/models/", "s3://bank-models/prod/");
 * roots.check(URI.create("file:///opt/models/fraud/v7"));   // ok
 * roots.check(URI.create("file:///etc/passwd"));            // BundleException URI_NOT_ALLOWED
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class ModelRoots implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Scheme of the bundles that ship with flink-slm. */
    public static final String BUILT_IN_SCHEME = "default";

    private final List<String> roots;
    private final boolean allowAll;

    private ModelRoots(List<String> roots, boolean allowAll) {
        this.roots = List.copyOf(roots);
        this.allowAll = allowAll;
    }

    /**
     * Roots given as URIs or local paths. A plain path such as {@code /opt/models} means
     * {@code file:/opt/models/}.
     */
    public static ModelRoots of(String... roots) {
        return of(List.of(roots));
    }

    public static ModelRoots of(List<String> roots) {
        List<String> normalised = new ArrayList<>();
        for (String root : roots) {
            if (root == null || root.isBlank()) {
                continue;
            }
            normalised.add(asDirectoryPrefix(normalise(toUri(root.trim()))));
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

    /** Returns the normalised URI when it is allowed, else throws {@code URI_NOT_ALLOWED}. */
    public URI check(URI uri) throws BundleException {
        if (BUILT_IN_SCHEME.equals(uri.getScheme())) {
            return uri;
        }
        URI normalised = normalise(uri);
        if (allowAll) {
            return normalised;
        }
        String candidate = normalised.toString();
        String candidateDir = asDirectoryPrefix(normalised);
        for (String root : roots) {
            if (candidateDir.startsWith(root) || candidate.equals(root)) {
                return normalised;
            }
        }
        throw new BundleException(
                BundleException.Reason.URI_NOT_ALLOWED,
                "model URI " + uri + " is outside the allowed model roots " + roots
                        + "; add its parent to the model roots option if it should be loadable");
    }

    /** Parses a URI or a local path. */
    public static URI toUri(String location) {
        if (location.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") && !location.matches("^[a-zA-Z]:\\\\.*")) {
            return URI.create(location);
        }
        return Path.of(location).toAbsolutePath().toUri();
    }

    private static URI normalise(URI uri) {
        String scheme = uri.getScheme() == null ? "file" : uri.getScheme().toLowerCase(Locale.ROOT);
        if ("file".equals(scheme)) {
            Path path = Path.of(uri.getScheme() == null ? URI.create("file:" + uri.getPath()) : uri)
                    .toAbsolutePath()
                    .normalize();
            // Resolve links so that a link inside a root cannot point outside it.
            try {
                if (Files.exists(path)) {
                    path = path.toRealPath();
                }
            } catch (IOException ignored) {
                // keep the normalised path; loading will report the real problem
            }
            return path.toUri();
        }
        return uri.normalize();
    }

    private static String asDirectoryPrefix(URI uri) {
        String s = uri.toString();
        return s.endsWith("/") ? s : s + "/";
    }

    @Override
    public String toString() {
        return allowAll ? "ModelRoots[any]" : "ModelRoots" + roots;
    }
}
