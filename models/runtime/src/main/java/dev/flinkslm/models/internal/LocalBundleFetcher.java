package dev.flinkslm.models.internal;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleFetcher;
import dev.flinkslm.models.BundleLimits;
import dev.flinkslm.models.Digests;
import dev.flinkslm.models.FileTrees;
import dev.flinkslm.models.ModelManifest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * {@code file:} bundles: a directory as it is, or a {@code .zip}/{@code .jar} archive unpacked once
 * into the cache (keyed by the archive's SHA-256, so a replaced archive is unpacked again).
 *
 * <p>Unpacking stops at the {@link BundleLimits}: entry count, bytes per entry and bytes in total
 * are counted as they are written, whatever the entries' headers claim, so a zip bomb fills at most
 * the limit before it is refused. The digest naming the cache folder is computed from the same
 * bytes that are unpacked, so an archive replaced while it is being read cannot land under the
 * old archive's name.
 */
public final class LocalBundleFetcher implements BundleFetcher {

    @Override
    public boolean supports(URI uri) {
        return "file".equalsIgnoreCase(uri.getScheme());
    }

    @Override
    public Path fetch(URI uri, Path cacheDirectory) throws BundleException {
        return fetch(uri, cacheDirectory, BundleLimits.defaults());
    }

    @Override
    public Path fetch(URI uri, Path cacheDirectory, BundleLimits limits) throws BundleException {
        Path path = Path.of(uri);
        if (Files.isDirectory(path)) {
            return path;
        }
        if (!Files.isRegularFile(path)) {
            throw new BundleException(BundleException.Reason.MISSING_FILE, "no bundle directory or archive at " + uri);
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".zip") && !name.endsWith(".jar")) {
            throw new BundleException(
                    BundleException.Reason.UNRESOLVABLE_URI,
                    uri + " is a file but not a .zip or .jar bundle archive; point at the bundle directory");
        }
        try {
            long size = Files.size(path);
            if (size > limits.maxArchiveBytes()) {
                throw new BundleException(
                        BundleException.Reason.LIMIT_EXCEEDED,
                        "bundle archive " + uri + " has " + size + " bytes, more than the " + limits.maxArchiveBytes()
                                + " it may unpack to (BundleLimits.maxArchiveBytes)");
            }
            FileTrees.requirePrivateDirectory(cacheDirectory);
            String digest = Digests.sha256(path);
            Path target = cacheDirectory.resolve("archives").resolve(digest);
            if (Files.isDirectory(target) && !matchesArchive(target, path, uri, limits)) {
                // A copy that is not what this archive unpacks to (tampered or half-written): unpack anew.
                FileTrees.deleteRecursively(target);
            }
            if (!Files.isDirectory(target)) {
                unpack(path, target, digest, uri, limits);
            }
            return bundleRoot(target, uri);
        } catch (IOException e) {
            throw new BundleException(
                    BundleException.Reason.UNRESOLVABLE_URI, "cannot unpack bundle archive " + uri + ": " + e, e);
        }
    }

    private static void unpack(Path archive, Path target, String digest, URI uri, BundleLimits limits)
            throws IOException, BundleException {
        Files.createDirectories(target.getParent());
        Path temp = Files.createTempDirectory(target.getParent(), ".unpack-");
        try {
            MessageDigest sha = Digests.newDigest();
            try (DigestInputStream hashed = new DigestInputStream(Files.newInputStream(archive), sha);
                    ZipInputStream zip = new ZipInputStream(hashed)) {
                extract(zip, temp, uri, limits);
                // ZipInputStream stops before the central directory: read the rest so the digest covers the file.
                hashed.transferTo(OutputStream.nullOutputStream());
            }
            String unpackedDigest = HexFormat.of().formatHex(sha.digest());
            if (!unpackedDigest.equals(digest)) {
                throw new BundleException(
                        BundleException.Reason.UNRESOLVABLE_URI,
                        "bundle archive " + uri + " changed while it was being unpacked; load it again once it is"
                                + " no longer being written");
            }
        } catch (IOException | BundleException | RuntimeException e) {
            FileTrees.deleteRecursively(temp);
            throw e;
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

    private static void extract(ZipInputStream zip, Path temp, URI uri, BundleLimits limits)
            throws IOException, BundleException {
        int entries = 0;
        long total = 0;
        Set<Path> seen = new HashSet<>();
        ZipEntry entry;
        while ((entry = zip.getNextEntry()) != null) {
            if (++entries > limits.maxArchiveEntries()) {
                throw new BundleException(
                        BundleException.Reason.LIMIT_EXCEEDED,
                        "bundle archive " + uri + " has more than " + limits.maxArchiveEntries()
                                + " entries (BundleLimits.maxArchiveEntries); a bundle is a manifest, a graph and a"
                                + " tokenizer");
            }
            Path out = temp.resolve(entry.getName()).normalize();
            if (!out.startsWith(temp) || out.equals(temp)) {
                throw new IOException("archive entry " + entry.getName() + " escapes the archive root");
            }
            if (!seen.add(out)) {
                throw new BundleException(
                        BundleException.Reason.UNEXPECTED_FILE,
                        "bundle archive " + uri + " has two entries named " + entry.getName());
            }
            if (entry.isDirectory()) {
                Files.createDirectories(out);
                continue;
            }
            Files.createDirectories(out.getParent());
            long entryLimit = Math.min(limits.maxArchiveEntryBytes(), limits.maxArchiveBytes() - total);
            String overLimit = "bundle archive " + uri
                    + (entryLimit == limits.maxArchiveEntryBytes()
                            ? ": entry " + entry.getName() + " unpacks to more than " + limits.maxArchiveEntryBytes()
                                    + " bytes (BundleLimits.maxArchiveEntryBytes)"
                            : " unpacks to more than " + limits.maxArchiveBytes() + " bytes in total"
                                    + " (BundleLimits.maxArchiveBytes)")
                    + "; it may be a zip bomb, or raise the limit for a legitimately large bundle";
            total += copyAtMost(zip, out, entryLimit, overLimit);
        }
    }

    /** Copies at most {@code limit} bytes, counting what is actually written; more is LIMIT_EXCEEDED. */
    private static long copyAtMost(InputStream in, Path out, long limit, String overLimit)
            throws IOException, BundleException {
        byte[] buffer = new byte[1 << 16];
        long written = 0;
        try (OutputStream os = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                if (written + n > limit) {
                    throw new BundleException(BundleException.Reason.LIMIT_EXCEEDED, overLimit);
                }
                os.write(buffer, 0, n);
                written += n;
            }
        }
        return written;
    }

    /**
     * Whether a cached copy is this archive's: its manifest has the bytes of the archive's own
     * manifest entry. The manifest pins every file by SHA-256 and the loader verifies them, so a copy
     * planted in the cache under the archive's digest cannot be served in its place.
     */
    private static boolean matchesArchive(Path cached, Path archive, URI uri, BundleLimits limits)
            throws IOException, BundleException {
        Path root;
        try {
            root = bundleRoot(cached, uri);
        } catch (BundleException e) {
            return false;
        }
        String entryName = cached.relativize(root.resolve(ModelManifest.FILE_NAME))
                .toString()
                .replace('\\', '/');
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(archive.toFile())) {
            ZipEntry entry = zip.getEntry(entryName);
            if (entry == null) {
                return false;
            }
            byte[] expected;
            try (InputStream in = zip.getInputStream(entry)) {
                expected = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limits.maxManifestBytes() + 1));
            }
            Path manifest = root.resolve(ModelManifest.FILE_NAME);
            if (Files.size(manifest) != expected.length) {
                return false;
            }
            return java.util.Arrays.equals(Files.readAllBytes(manifest), expected);
        }
    }

    private static Path bundleRoot(Path unpacked, URI uri) throws IOException, BundleException {
        if (Files.isRegularFile(unpacked.resolve(ModelManifest.FILE_NAME))) {
            return unpacked;
        }
        try (Stream<Path> children = Files.list(unpacked)) {
            Path[] all = children.toArray(Path[]::new);
            if (all.length == 1
                    && Files.isDirectory(all[0])
                    && Files.isRegularFile(all[0].resolve(ModelManifest.FILE_NAME))) {
                return all[0];
            }
        }
        throw new BundleException(
                BundleException.Reason.MISSING_FILE,
                "archive " + uri + " has no manifest.json at its root or in a single top-level folder"
                        + " (with nothing beside it)");
    }
}
