package dev.flinkslm.screening;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Finds what a crashed or stopped screening job can be resumed from: the newest complete checkpoint
 * ({@code <dir>/<job id>/chk-<n>/_metadata}) or savepoint ({@code <dir>/savepoint-*}/_metadata) under the checkpoint
 * directory, or savepoint under the savepoint directory, on any Flink file system. A checkpoint without its {@code
 * _metadata} file was not completed and is skipped.
 *
 * <p>Threading: stateless.
 */
@PublicEvolving
public final class RetainedCheckpoints {

    private static final Logger LOG = LoggerFactory.getLogger(RetainedCheckpoints.class);
    private static final Pattern CHECKPOINT = Pattern.compile("chk-\\d{1,18}");
    private static final String METADATA = "_metadata";
    private static final String SAVEPOINT_PREFIX = "savepoint-";

    private RetainedCheckpoints() {}

    /** {@link #latest(String, String)} without a savepoint directory. */
    public static String latest(String dir) {
        return latest(dir, null);
    }

    /**
     * The newest complete checkpoint or savepoint under {@code dir}, or savepoint under {@code savepointDir}, by
     * the time its metadata was written. A job stopped with a savepoint ends FINISHED and Flink deletes its
     * checkpoints, so its savepoint is found only in the savepoint directory; without it, the newest checkpoint
     * is that of an earlier job. When a job directory written after the chosen checkpoint holds no complete
     * checkpoint, that is logged as a warning (it is also what a job killed before its first checkpoint leaves).
     *
     * @param savepointDir where savepoints are written ({@code --savepoint-dir}, or {@code
     *     execution.checkpointing.savepoint-dir}); null or a directory that does not exist yet: none
     * @throws IllegalArgumentException when there is none, with a message that says where it looked
     */
    public static String latest(String dir, String savepointDir) {
        Choice choice = choose(dir, savepointDir);
        for (String laterJob : choice.laterJobsWithoutCheckpoint()) {
            LOG.warn(
                    "--resume latest: {} was written after {} and holds no complete checkpoint. If its job was"
                            + " stopped with a savepoint, resume from that savepoint's path instead (--resume PATH):"
                            + " resuming from the older checkpoint writes that job's results again.",
                    laterJob,
                    choice.path());
        }
        return choice.path();
    }

    /**
     * What {@link #latest(String, String)} resumes from, and the job directories written after it (when it is a
     * checkpoint) that hold no complete checkpoint.
     */
    record Choice(String path, List<String> laterJobsWithoutCheckpoint) {}

    static Choice choose(String dir, String savepointDir) {
        try {
            Path root = new Path(dir);
            FileSystem fs = root.getFileSystem();
            if (!fs.exists(root)) {
                throw new IllegalArgumentException("--resume latest: the checkpoint directory " + dir
                        + " does not exist; give --checkpoint-dir of the run to resume, or a checkpoint path");
            }
            Candidate best = null;
            List<FileStatus> jobsWithoutCheckpoint = new ArrayList<>();
            for (FileStatus entry : fs.listStatus(root)) {
                if (!entry.isDir()) {
                    continue;
                }
                if (entry.getPath().getName().startsWith(SAVEPOINT_PREFIX)) {
                    best = newer(best, new Candidate(entry.getPath(), completedAt(fs, entry.getPath()), -1));
                    continue;
                }
                boolean complete = false;
                FileStatus[] checkpoints = fs.listStatus(entry.getPath());
                for (FileStatus chk : checkpoints == null ? new FileStatus[0] : checkpoints) {
                    if (chk.isDir()
                            && CHECKPOINT.matcher(chk.getPath().getName()).matches()) {
                        Candidate c = new Candidate(
                                chk.getPath(),
                                completedAt(fs, chk.getPath()),
                                checkpointNumber(chk.getPath().getName()));
                        complete |= c.completedAt != Long.MIN_VALUE;
                        best = newer(best, c);
                    }
                }
                if (!complete) {
                    jobsWithoutCheckpoint.add(entry);
                }
            }
            if (savepointDir != null && !new Path(savepointDir).equals(root)) {
                best = newer(best, newestSavepoint(new Path(savepointDir)));
            }
            if (best == null || best.completedAt == Long.MIN_VALUE) {
                throw new IllegalArgumentException("--resume latest: no complete checkpoint (chk-<n>/_metadata) or"
                        + " savepoint under " + dir + (savepointDir == null ? "" : " or " + savepointDir)
                        + "; give --checkpoint-dir of the run to resume");
            }
            Candidate chosen = best;
            List<String> later = chosen.number < 0
                    ? List.of()
                    : jobsWithoutCheckpoint.stream()
                            .filter(job -> job.getModificationTime() > chosen.completedAt)
                            .map(job -> job.getPath().toString())
                            .toList();
            return new Choice(chosen.path.toString(), later);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "--resume latest: cannot list the checkpoints under " + dir + " (" + e + ")", e);
        }
    }

    /** A complete checkpoint ({@code number >= 0}) or savepoint ({@code -1}). */
    private record Candidate(Path path, long completedAt, long number) {}

    private static Candidate newer(Candidate best, Candidate c) {
        if (c == null || c.completedAt == Long.MIN_VALUE) {
            return best;
        }
        if (best == null || c.completedAt > best.completedAt) {
            return c;
        }
        // the same millisecond: prefer the higher checkpoint number (within one job, the later one)
        return c.completedAt == best.completedAt && c.number > best.number ? c : best;
    }

    private static Candidate newestSavepoint(Path dir) throws IOException {
        FileSystem fs = dir.getFileSystem();
        if (!fs.exists(dir)) {
            return null;
        }
        Candidate best = null;
        for (FileStatus entry : fs.listStatus(dir)) {
            if (entry.isDir() && entry.getPath().getName().startsWith(SAVEPOINT_PREFIX)) {
                best = newer(best, new Candidate(entry.getPath(), completedAt(fs, entry.getPath()), -1));
            }
        }
        return best;
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
            if (METADATA.equals(p.getName()) && !fs.getFileStatus(p).isDir()) {
                return path; // the metadata file itself, as Flink's -s takes it
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

    /**
     * Whether two restore paths name the same checkpoint or savepoint: the same qualified location, a trailing
     * slash or the {@code _metadata} file itself aside.
     */
    public static boolean sameLocation(String a, String b) {
        return location(a).equals(location(b));
    }

    private static String location(String path) {
        Path p = new Path(path);
        if (METADATA.equals(p.getName())) {
            p = p.getParent();
        }
        try {
            return p.makeQualified(p.getFileSystem()).toString();
        } catch (IOException e) {
            return p.toString();
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
