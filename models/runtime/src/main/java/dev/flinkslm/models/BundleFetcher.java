package dev.flinkslm.models;

import java.net.URI;
import java.nio.file.Path;

/**
 * Makes the bundle behind a URI available as a local directory.
 *
 * <p>The runtime handles {@code file:} directories and {@code .zip}/{@code .jar} archives; other
 * schemes (for example {@code s3:} through Flink's FileSystem) are plugged in with
 * {@link BundleLoader.Builder#addFetcher} or registered with {@link java.util.ServiceLoader}, as the
 * compliance model module registers its built-in {@code default:} bundles. Implementations must be
 * thread-safe: several tasks may fetch at once.
 *
 * <p>A fetcher only makes files available; it need not verify them. The loader then checks the
 * directory it returns: only the listed files, every checksum, no link leaving the directory, all
 * within {@link BundleLimits}. A fetcher that copies or unpacks should still stop at the limits it
 * is given ({@link #fetch(URI, Path, BundleLimits)}) so that a huge remote object cannot fill the
 * local disk before the loader gets to refuse it.
 */
public interface BundleFetcher {

    /** Whether this fetcher handles the URI's scheme. */
    boolean supports(URI uri);

    /**
     * Returns a local directory holding the bundle's files.
     *
     * @param uri an allowed, normalised bundle URI
     * @param cacheDirectory a directory this fetcher may use to store copies
     */
    Path fetch(URI uri, Path cacheDirectory) throws BundleException;

    /**
     * Returns a local directory holding the bundle's files, copying or unpacking no more than
     * {@code limits} allow. The default ignores the limits and calls {@link #fetch(URI, Path)}.
     *
     * @throws BundleException {@code LIMIT_EXCEEDED} when the bundle is larger than the limits
     */
    default Path fetch(URI uri, Path cacheDirectory, BundleLimits limits) throws BundleException {
        return fetch(uri, cacheDirectory);
    }

    /**
     * The scheme of bundles this fetcher builds from what ships inside the process (a model packaged
     * in a jar), or null (the default) for bundles stored somewhere. URIs of such a scheme are names,
     * not locations: {@link ModelRoots} allows them without a root. Only fetchers registered with
     * {@link java.util.ServiceLoader} are asked.
     */
    default String builtInScheme() {
        return null;
    }
}
