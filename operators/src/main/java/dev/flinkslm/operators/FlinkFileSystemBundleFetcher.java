package dev.flinkslm.operators;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleFetcher;
import dev.flinkslm.models.BundleLimits;
import dev.flinkslm.models.Digests;
import dev.flinkslm.models.FileTrees;
import dev.flinkslm.models.ModelManifest;
import org.apache.flink.annotation.Internal;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;

/**
 * Fetches bundles from any file system Flink knows ({@code s3://}, {@code gs://}, {@code hdfs://},
 * {@code abfs://}, ...) through Flink's {@link FileSystem} plugins into the local cache, once per
 * manifest content. Registered with {@link java.util.ServiceLoader}, so {@code BundleLoader} uses it
 * for every scheme other than {@code file:} and {@code default:}.
 *
 * <p>Only {@code manifest.json} and the files it lists are copied, each read with a bound (the
 * manifest within {@link BundleLimits#maxManifestBytes()}, all files together within {@link
 * BundleLimits#maxBundleBytes()}), so a remote directory with stray or oversized content cannot fill
 * the disk. The copy is keyed by the URI and the manifest's SHA-256; the loader then verifies every
 * file's checksum from the bytes it reads, as for local bundles. Thread-safe: concurrent fetches of
 * one bundle race on an atomic rename and agree on the result.
 */
@Internal
public final class FlinkFileSystemBundleFetcher implements BundleFetcher {

    private static final Set<String> LOCAL_SCHEMES = Set.of("file", "default");

    @Override
    public boolean supports(URI uri) {
        return uri.getScheme() != null && !LOCAL_SCHEMES.contains(uri.getScheme());
    }

    @Override
    public Path fetch(URI uri, Path cacheDirectory) throws BundleException {
        return fetch(uri, cacheDirectory, BundleLimits.defaults());
    }

    @Override
    public Path fetch(URI uri, Path cacheDirectory, BundleLimits limits) throws BundleException {
        return copy(uri, cacheDirectory, limits);
    }

    /** Copies the bundle at {@code uri} (any Flink file system, {@code file:} included). */
    static Path copy(URI uri, Path cacheDirectory, BundleLimits limits) throws BundleException {
        org.apache.flink.core.fs.Path root = new org.apache.flink.core.fs.Path(uri);
        try {
            FileSystem fs = root.getFileSystem();
            org.apache.flink.core.fs.Path manifestPath =
                    new org.apache.flink.core.fs.Path(root, ModelManifest.FILE_NAME);
            if (!fs.exists(manifestPath)) {
                throw new BundleException(BundleException.Reason.MISSING_FILE, "no manifest.json at " + uri);
            }
            byte[] manifestBytes = readBounded(fs, manifestPath, limits.maxManifestBytes(), "manifest.json of " + uri);
            ModelManifest manifest = ModelManifest.parse(manifestBytes, limits);
            FileTrees.requirePrivateDirectory(cacheDirectory);
            String key = Digests.sha256((uri + "\n" + Digests.sha256(manifestBytes)).getBytes(StandardCharsets.UTF_8));
            Path target = cacheDirectory.resolve("remote").resolve(key);
            if (Files.isRegularFile(target.resolve(ModelManifest.FILE_NAME))) {
                // The cached copy must be this manifest's (it pins every file the loader then verifies):
                // a copy planted or corrupted in the cache is fetched again, never served.
                if (java.util.Arrays.equals(
                        Files.readAllBytes(target.resolve(ModelManifest.FILE_NAME)), manifestBytes)) {
                    return target;
                }
                FileTrees.deleteRecursively(target);
            }
            Files.createDirectories(target.getParent());
            Path temp = Files.createTempDirectory(target.getParent(), ".fetch-");
            try {
                Files.write(temp.resolve(ModelManifest.FILE_NAME), manifestBytes);
                long budget = limits.maxBundleBytes() - manifestBytes.length;
                for (String name : manifest.sha256().keySet()) {
                    Path local = temp.resolve(name).normalize();
                    if (!local.startsWith(temp)) {
                        throw new BundleException(
                                BundleException.Reason.INVALID_MANIFEST,
                                "file " + name + " points outside the bundle directory");
                    }
                    Files.createDirectories(local.getParent());
                    budget -= copyBounded(fs, new org.apache.flink.core.fs.Path(root, name), local, budget, uri);
                }
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                FileTrees.deleteRecursively(temp); // another task fetched the same content first
            } catch (IOException | BundleException | RuntimeException e) {
                FileTrees.deleteRecursively(temp);
                if (!(e instanceof IOException) || !Files.isDirectory(target)) {
                    throw e;
                }
            }
            return target;
        } catch (IOException e) {
            throw new BundleException(
                    BundleException.Reason.UNRESOLVABLE_URI,
                    "cannot copy bundle " + uri + " through Flink's file systems: " + e.getMessage()
                            + " (is the file system plugin for '" + uri.getScheme() + "' installed?)",
                    e);
        }
    }

    private static byte[] readBounded(FileSystem fs, org.apache.flink.core.fs.Path path, long max, String what)
            throws IOException, BundleException {
        try (FSDataInputStream in = fs.open(path)) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (bytes.length > max) {
                throw new BundleException(
                        BundleException.Reason.LIMIT_EXCEEDED, what + " is larger than " + max + " bytes");
            }
            return bytes;
        }
    }

    /** Copies one listed file, counting the bytes actually read; returns how many. */
    private static long copyBounded(FileSystem fs, org.apache.flink.core.fs.Path from, Path to, long budget, URI uri)
            throws IOException, BundleException {
        if (!fs.exists(from)) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE,
                    "bundle " + uri + " lists " + from.getName() + " but the file does not exist");
        }
        long copied = 0;
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = fs.open(from);
                OutputStream out = Files.newOutputStream(to)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                copied += n;
                if (copied > budget) {
                    throw new BundleException(
                            BundleException.Reason.LIMIT_EXCEEDED,
                            "bundle " + uri
                                    + " is larger than the bundle size limit; its files exceed the remaining " + budget
                                    + " bytes at " + from.getName());
                }
                out.write(buffer, 0, n);
            }
        }
        return copied;
    }
}
