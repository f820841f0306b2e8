package dev.flinkslm.screening;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
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

    private static final Pattern CHECKPOINT = Pattern.compile("chk-\\d+");
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
                        long n = Long.parseLong(chk.getPath().getName().substring(4));
                        // the same millisecond: the later checkpoint of the job has the higher number
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
            throw new UncheckedIOException("Cannot list the checkpoints under " + dir, e);
        }
    }

    /** When the checkpoint's metadata was written, or {@code Long.MIN_VALUE} if it was never completed. */
    private static long completedAt(FileSystem fs, Path checkpoint) throws IOException {
        Path metadata = new Path(checkpoint, METADATA);
        return fs.exists(metadata) ? fs.getFileStatus(metadata).getModificationTime() : Long.MIN_VALUE;
    }
}
