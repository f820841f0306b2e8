package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

/**
 * Which checkpoint or savepoint {@code --resume latest} takes, on directory trees laid out as Flink writes them,
 * with the metadata files' times set explicitly.
 */
class RetainedCheckpointsTest {

    private static final long T0 = 1_790_000_000_000L;

    @TempDir
    Path tmp;

    @Test
    void theNewestCompleteCheckpointOfAnyJobIsTakenAndIncompleteOnesAreSkipped() throws IOException {
        Path dir = tmp.resolve("ckpt");
        checkpoint(dir, "job-a", 3, T0);
        Path newest = checkpoint(dir, "job-b", 1, T0 + 2000);
        Files.createDirectories(dir.resolve("job-b/chk-2")); // in progress: no _metadata
        checkpoint(dir, "job-a", 4, T0 + 1000);

        assertThat(RetainedCheckpoints.latest(uri(dir))).isEqualTo(uri(newest));
    }

    @Test
    void withinOneMillisecondTheHigherCheckpointNumberIsTaken() throws IOException {
        Path dir = tmp.resolve("ckpt");
        checkpoint(dir, "job-a", 7, T0);
        Path higher = checkpoint(dir, "job-a", 8, T0);

        assertThat(RetainedCheckpoints.latest(uri(dir))).isEqualTo(uri(higher));
    }

    @Test
    void aNewerSavepointInTheSavepointDirectoryWinsOverTheCheckpointOfTheJobBefore() throws IOException {
        Path dir = tmp.resolve("ckpt");
        Path savepoints = tmp.resolve("savepoints");
        Path killed = checkpoint(dir, "job-a", 4, T0);
        // the resumed job was stopped with a savepoint: Flink deleted its checkpoints, leaving its directory
        Path stopped = Files.createDirectories(dir.resolve("job-b/shared"));
        Path savepoint = savepoint(savepoints, "savepoint-b-1", T0 + 5000);
        touch(stopped.getParent(), T0 + 6000);

        assertThat(RetainedCheckpoints.latest(uri(dir), uri(savepoints))).isEqualTo(uri(savepoint));
        // without the savepoint directory: the older checkpoint, and the stopped job's directory is reported
        RetainedCheckpoints.Choice blind = RetainedCheckpoints.choose(uri(dir), null);
        assertThat(blind.path()).isEqualTo(uri(killed));
        assertThat(blind.laterJobsWithoutCheckpoint()).containsExactly(uri(stopped.getParent()));
    }

    @Test
    void anOlderSavepointLosesToANewerCheckpointAndAMissingSavepointDirectoryIsIgnored() throws IOException {
        Path dir = tmp.resolve("ckpt");
        Path savepoints = tmp.resolve("savepoints");
        savepoint(savepoints, "savepoint-a-1", T0);
        Path newer = checkpoint(dir, "job-b", 2, T0 + 1000);

        assertThat(RetainedCheckpoints.latest(uri(dir), uri(savepoints))).isEqualTo(uri(newer));
        assertThat(RetainedCheckpoints.latest(uri(dir), uri(tmp.resolve("none"))))
                .isEqualTo(uri(newer));
        assertThat(RetainedCheckpoints.choose(uri(dir), null).laterJobsWithoutCheckpoint())
                .isEmpty();
    }

    @Test
    void aSavepointInTheCheckpointDirectoryCounts() throws IOException {
        Path dir = tmp.resolve("ckpt");
        checkpoint(dir, "job-a", 9, T0);
        Path savepoint = savepoint(dir, "savepoint-a-2", T0 + 1);

        assertThat(RetainedCheckpoints.latest(uri(dir))).isEqualTo(uri(savepoint));
    }

    @Test
    void nothingToResumeFromSaysWhereItLooked() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("ckpt/job-a/chk-1"));
        Path savepoints = Files.createDirectories(tmp.resolve("savepoints"));

        assertThatThrownBy(() -> RetainedCheckpoints.latest(uri(tmp.resolve("ckpt")), uri(savepoints)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no complete checkpoint")
                .hasMessageContaining(uri(tmp.resolve("ckpt")))
                .hasMessageContaining(uri(savepoints));
        assertThat(dir).exists();
        assertThatThrownBy(() -> RetainedCheckpoints.latest(uri(tmp.resolve("missing"))))
                .hasMessageContaining("does not exist")
                .hasMessageContaining("--checkpoint-dir");
    }

    @Test
    void aNamedPathMustBeCompleteAndMayBeItsMetadataFile() throws IOException {
        Path chk = checkpoint(tmp.resolve("ckpt"), "job-a", 1, T0);

        assertThat(RetainedCheckpoints.requireComplete(uri(chk))).isEqualTo(uri(chk));
        String metadata = uri(chk.resolve("_metadata"));
        assertThat(RetainedCheckpoints.requireComplete(metadata)).isEqualTo(metadata);
        Path incomplete = Files.createDirectories(tmp.resolve("ckpt/job-a/chk-2"));
        assertThatThrownBy(() -> RetainedCheckpoints.requireComplete(uri(incomplete)))
                .hasMessageContaining("not a complete checkpoint or savepoint");
        assertThatThrownBy(() -> RetainedCheckpoints.requireComplete(uri(tmp.resolve("nope"))))
                .hasMessageContaining("no such checkpoint or savepoint");
    }

    private static Path checkpoint(Path dir, String job, int n, long time) throws IOException {
        Path chk = Files.createDirectories(dir.resolve(job).resolve("chk-" + n));
        touch(Files.write(chk.resolve("_metadata"), new byte[] {1}), time);
        return chk;
    }

    private static Path savepoint(Path dir, String name, long time) throws IOException {
        Path sp = Files.createDirectories(dir.resolve(name));
        touch(Files.write(sp.resolve("_metadata"), new byte[] {1}), time);
        return sp;
    }

    private static Path touch(Path p, long time) throws IOException {
        Files.setLastModifiedTime(p, FileTime.fromMillis(time));
        return p;
    }

    /** The form Flink's file system gives back: {@code file:/...} without a trailing slash. */
    private static String uri(Path p) {
        return "file:" + p.toAbsolutePath();
    }
}
