package dev.flinkslm.models.internal;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleFetcher;
import dev.flinkslm.models.ModelManifest;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * {@code file:} bundles: a directory as it is, or a {@code .zip}/{@code .jar} archive unpacked once
 * into the cache (keyed by the archive's SHA-256, so a replaced archive is unpacked again).
 */
public final class LocalBundleFetcher implements BundleFetcher {

    @Override
    public boolean supports(URI uri) {
        return "file".equalsIgnoreCase(uri.getScheme());
    }

    @Override
    public Path fetch(URI uri, Path cacheDirectory) throws BundleException {
        Path path = Path.of(uri);
        if (Files.isDirectory(path)) {
            return path;
        }
        if (!Files.isRegularFile(path)) {
            throw new BundleException(
                    BundleException.Reason.MISSING_FILE, "no bundle directory or archive at " + uri);
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".zip") && !name.endsWith(".jar")) {
            throw new BundleException(
                    BundleException.Reason.UNRESOLVABLE_URI,
                    uri + " is a file but not a .zip or .jar bundle archive; point at the bundle directory");
        }
        try {
            String digest = Digests.sha256(path);
            Path target = cacheDirectory.resolve("archives").resolve(digest);
            if (!Files.isDirectory(target)) {
                unpack(path, target);
            }
            return bundleRoot(target, uri);
        } catch (IOException e) {
            throw new BundleException(
                    BundleException.Reason.UNRESOLVABLE_URI, "cannot unpack bundle archive " + uri + ": " + e, e);
        }
    }

    private static void unpack(Path archive, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Path temp = Files.createTempDirectory(target.getParent(), ".unpack-");
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(archive))) {
            ZipEntry entry;
            while ((entry = zip.getNextEntry()) != null) {
                Path out = temp.resolve(entry.getName()).normalize();
                if (!out.startsWith(temp)) {
                    throw new IOException("archive entry " + entry.getName() + " escapes the archive root");
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else {
                    Files.createDirectories(out.getParent());
                    copy(zip, out);
                }
            }
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
            // Another process unpacked the same archive first; its copy is identical.
            FileTrees.deleteRecursively(temp);
        } catch (IOException e) {
            if (Files.isDirectory(target)) {
                FileTrees.deleteRecursively(temp);
            } else {
                throw e;
            }
        }
    }

    private static void copy(InputStream in, Path out) throws IOException {
        Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
    }

    private static Path bundleRoot(Path unpacked, URI uri) throws IOException, BundleException {
        if (Files.isRegularFile(unpacked.resolve(ModelManifest.FILE_NAME))) {
            return unpacked;
        }
        try (Stream<Path> children = Files.list(unpacked)) {
            Path[] dirs = children.filter(Files::isDirectory).toArray(Path[]::new);
            if (dirs.length == 1 && Files.isRegularFile(dirs[0].resolve(ModelManifest.FILE_NAME))) {
                return dirs[0];
            }
        }
        throw new BundleException(
                BundleException.Reason.MISSING_FILE,
                "archive " + uri + " has no manifest.json at its root or in a single top-level folder");
    }
}
