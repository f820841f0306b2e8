package dev.flinkslm.operators;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleFetcher;
import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.internal.Digests;
import dev.flinkslm.models.internal.FileTrees;

import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FSDataInputStream;

import java.io.IOException;
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
 * {@code abfs://}, ...) through Flink's {@link FileSystem} plugins, copying the bundle directory
 * into the local cache once per manifest content. Registered with {@link java.util.ServiceLoader},
 * so {@code BundleLoader} uses it for every scheme other than {@code file:} and {@code default:}.
 *
 * <p>The copy is keyed by the URI and the SHA-256 of the remote manifest, so a changed artifact is
 * fetched again; checksums of every file are then verified by the loader as for local bundles.
 * Thread-safe: concurrent fetches of one bundle race on an atomic rename and agree on the result.
 */
public final class FlinkFileSystemBundleFetcher implements BundleFetcher {

    private static final Set<String> LOCAL_SCHEMES = Set.of("file", "default");

    @Override
    public boolean supports(URI uri) {
        return uri.getScheme() != null && !LOCAL_SCHEMES.contains(uri.getScheme());
    }

    @Override
    public Path fetch(URI uri, Path cacheDirectory) throws BundleException {
        return copy(uri, cacheDirectory);
    }

    /** Copies the bundle directory at {@code uri} (any Flink file system, {@code file:} included). */
    static Path copy(URI uri, Path cacheDirectory) throws BundleException {
        org.apache.flink.core.fs.Path root = new org.apache.flink.core.fs.Path(uri);
        try {
            FileSystem fs = root.getFileSystem();
            org.apache.flink.core.fs.Path manifest = new org.apache.flink.core.fs.Path(root, ModelManifest.FILE_NAME);
            if (!fs.exists(manifest)) {
                throw new BundleException(BundleException.Reason.MISSING_FILE, "no manifest.json at " + uri);
            }
            byte[] manifestBytes;
            try (FSDataInputStream in = fs.open(manifest)) {
                manifestBytes = in.readAllBytes();
            }
            String key = Digests.sha256((uri + "\n" + Digests.sha256(manifestBytes)).getBytes(StandardCharsets.UTF_8));
            Path target = cacheDirectory.resolve("remote").resolve(key);
            if (Files.isRegularFile(target.resolve(ModelManifest.FILE_NAME))) {
                return target;
            }
            Files.createDirectories(target.getParent());
            Path temp = Files.createTempDirectory(target.getParent(), ".fetch-");
            for (FileStatus status : fs.listStatus(root)) {
                if (status.isDir()) {
                    continue; // bundles are flat: manifest, graph, tokenizer
                }
                String name = status.getPath().getName();
                try (FSDataInputStream in = fs.open(status.getPath())) {
                    Files.copy(in, temp.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                FileTrees.deleteRecursively(temp);
            } catch (IOException e) {
                if (!Files.isDirectory(target)) {
                    throw e;
                }
                FileTrees.deleteRecursively(temp);
            }
            return target;
        } catch (IOException e) {
            throw new BundleException(BundleException.Reason.UNRESOLVABLE_URI,
                    "cannot copy bundle " + uri + " through Flink's file systems: " + e.getMessage()
                            + " (is the file system plugin for '" + uri.getScheme() + "' installed?)", e);
        }
    }
}
