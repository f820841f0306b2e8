package dev.flinkslm.screening;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

import java.io.IOException;
import java.util.regex.Pattern;

/**
 * Finds what a crashed or stopped screening job can be resumed from: the newest complete checkpoint
 * ({@code <dir>/<job id>/chk-<n>/_metadata}) or savepoint ({@code <dir>/savepoint-*}/_metadata) under a directory,
 * on any Flink file system. A checkpoint without its {@code _metadata} file was not completed and is skipped.
 *
 * <p>Threading: stateless.
 */
@PublicEvolving
public final class RetainedCheckpoints {

    private static final Pattern CHECKPOINT = Pattern.compile("chk-\\d{1,18}");
    private static final String METADATA = "_metadata";

    private RetainedCheckpoints() {}

    /**
     * The newest complete checkpoint or savepoint under {@code dir}, by the time its metadata was written.
     *
     * @throws IllegalArgumentException when there is none, with a message that says where it looked
     */
    public static String latest(String dir) {
        try {
            Path root = new Path(dir);
            FileSystem fs = root.getFileSystem();
            if (!fs.exists(root)) {
                throw new IllegalArgumentException("--resume latest: the checkpoint directory " + dir
                        + " does not exist; give --checkpoint-dir of the run to resume, or a checkpoint path");
            }
            Path best = null;
            long bestTime = Long.MIN_VALUE;
            long bestNumber = -1;
            for (FileStatus entry : fs.listStatus(root)) {
                if (!entry.isDir()) {
                    continue;
                }
                String name = entry.getPath().getName();
                if (name.startsWith("savepoint-")) {
                    long t = completedAt(fs, entry.getPath());
                    if (t > bestTime) {
                        best = entry.getPath();
                        bestTime = t;
                        bestNumber = -1;
                    }
                    continue;
                }
                FileStatus[] checkpoints = fs.listStatus(entry.getPath());
                for (FileStatus chk : checkpoints == null ? new FileStatus[0] : checkpoints) {
                    if (chk.isDir()
                            && CHECKPOINT.matcher(chk.getPath().getName()).matches()) {
                        long t = completedAt(fs, chk.getPath());
                        long n = checkpointNumber(chk.getPath().getName());
                        // the same millisecond: prefer the higher checkpoint number (within one job, the later one)
                        if (t > bestTime || (t == bestTime && t != Long.MIN_VALUE && n > bestNumber)) {
                            best = chk.getPath();
                            bestTime = t;
                            bestNumber = n;
                        }
                    }
                }
            }
            if (best == null) {
                throw new IllegalArgumentException("--resume latest: no complete checkpoint (chk-<n>/_metadata) or"
                        + " savepoint under " + dir + "; give --checkpoint-dir of the run to resume");
            }
            return best.toString();
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "--resume latest: cannot list the checkpoints under " + dir + " (" + e + ")", e);
        }
    }

    /**
     * Checks that {@code path} is a complete checkpoint or savepoint (it holds {@code _metadata}) and returns it.
     *
     * @throws IllegalArgumentException when it is not, with what was found
     */
    public static String requireComplete(String path) {
        try {
            Path p = new Path(path);
            FileSystem fs = p.getFileSystem();
            if (!fs.exists(p)) {
                throw new IllegalArgumentException("--resume " + path + ": no such checkpoint or savepoint");
            }
            if (!fs.exists(new Path(p, METADATA))) {
                throw new IllegalArgumentException("--resume " + path + ": not a complete checkpoint or savepoint"
                        + " (it has no " + METADATA + " file); give its chk-<n> or savepoint-* directory, or latest");
            }
            return path;
        } catch (IOException e) {
            throw new IllegalArgumentException("--resume " + path + ": cannot read it (" + e + ")", e);
        }
    }

    private static long checkpointNumber(String name) {
        try {
            return Long.parseLong(name.substring(4));
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    /** When the checkpoint's metadata was written, or {@code Long.MIN_VALUE} if it was never completed. */
    private static long completedAt(FileSystem fs, Path checkpoint) throws IOException {
        Path metadata = new Path(checkpoint, METADATA);
        return fs.exists(metadata) ? fs.getFileStatus(metadata).getModificationTime() : Long.MIN_VALUE;
    }
}
