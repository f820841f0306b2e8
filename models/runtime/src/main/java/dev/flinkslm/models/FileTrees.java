package dev.flinkslm.models;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * File-tree helpers for {@link BundleFetcher} implementations and model tooling: a cache directory
 * no other user can write, a bundle target that holds nothing yet, and recursive deletion.
 *
 * <p>Threading: stateless.
 */
public final class FileTrees {

    private FileTrees() {}

    /**
     * Creates {@code dir} if needed (owner-only permissions on POSIX file systems) and refuses it
     * when other users may write it: bundle copies kept there are only re-verified against their own
     * manifest, so a cache others can write would let them plant a bundle. Checked on the directory
     * itself and on every existing parent up to the file system root that is not sticky
     * (a sticky /tmp is fine as a parent).
     *
     * @throws IOException naming the directory and what to do
     */
    public static void requirePrivateDirectory(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(absolute)) {
            Files.createDirectories(absolute);
            try {
                Files.setPosixFilePermissions(
                        absolute, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            } catch (UnsupportedOperationException notPosix) {
                return;
            }
        }
        java.util.Set<java.nio.file.attribute.PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(absolute);
        } catch (UnsupportedOperationException notPosix) {
            return;
        }
        if (perms.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
                || perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException("the bundle cache " + absolute + " is writable by other users ("
                    + java.nio.file.attribute.PosixFilePermissions.toString(perms) + "): a bundle copied there could be"
                    + " replaced. Run 'chmod go-w " + absolute + "' or point FLINK_SLM_CACHE_DIR (flinkslm.cache.dir)"
                    + " at a private directory");
        }
        java.nio.file.attribute.UserPrincipal owner = Files.getOwner(absolute);
        String me = System.getProperty("user.name");
        if (me != null
                && !me.isBlank()
                && !owner.getName().equals(me)
                && !owner.getName().matches("\\d+")) {
            throw new IOException("the bundle cache " + absolute + " belongs to " + owner.getName() + ", not to "
                    + me + " who runs this process: point FLINK_SLM_CACHE_DIR (flinkslm.cache.dir) at a directory of"
                    + " your own");
        }
    }

    /**
     * Refuses to write a bundle into {@code dir} when something is already there: bundles are immutable, a
     * version is written once. A missing directory or an empty one is fine.
     *
     * @param tool the verb for the message ({@code "import"}, {@code "train"})
     * @throws FileAlreadyExistsException when {@code dir} has entries, is a file or is a symbolic link (dangling
     *     or not), saying what to do
     */
    public static void requireNoBundleAt(Path dir, String tool) throws IOException {
        if (Files.isSymbolicLink(dir)) {
            throw new FileAlreadyExistsException(
                    dir.toString(),
                    null,
                    "is a symbolic link; " + tool + " into a real directory (a link may point at another bundle)");
        }
        if (Files.isDirectory(dir)) {
            try (Stream<Path> entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new FileAlreadyExistsException(
                            dir.toString(),
                            null,
                            "is not empty; " + tool + " into a new directory (bundles are immutable)");
                }
            }
        } else if (Files.exists(dir)) {
            throw new FileAlreadyExistsException(dir.toString(), null, "is a file, not a directory");
        }
    }

    /** Deletes a directory and everything below it; a missing directory is not an error. */
    public static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
