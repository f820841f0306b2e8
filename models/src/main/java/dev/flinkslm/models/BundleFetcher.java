package dev.flinkslm.models;

import java.net.URI;
import java.nio.file.Path;

/**
 * Makes the bundle behind a URI available as a local directory.
 *
 * <p>The models module handles {@code file:} directories and {@code .zip}/{@code .jar} archives
 * and the built-in {@code default:} bundles; other schemes (for example {@code s3:} through Flink's
 * FileSystem) are plugged in with {@link BundleLoader.Builder#addFetcher}. Implementations must be
 * thread-safe: several tasks may fetch at once.
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
}
