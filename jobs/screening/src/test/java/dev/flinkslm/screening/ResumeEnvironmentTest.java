package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

/** How {@code --resume} becomes the environment's restore path, next to Flink's own restore path. */
class ResumeEnvironmentTest {

    @TempDir
    Path tmp;

    @Test
    void latestInAnyCaseLooksInTheCheckpointAndTheSavepointDirectory() throws IOException {
        Path chk = complete(tmp.resolve("ckpt/job-a/chk-3"), 1_000);
        Path savepoint = complete(tmp.resolve("savepoints/savepoint-a-1"), 2_000);
        ScreeningConfig.Builder b = ScreeningConfig.builder()
                .checkpointDir(tmp.resolve("ckpt").toUri().toString())
                .resumeFrom("LATEST");
        assertThat(ScreeningJob.resumePath(ScreeningJob.environment(b.build()))).isEqualTo("file:" + chk);
        b.flinkConf(
                "execution.checkpointing.savepoint-dir",
                tmp.resolve("savepoints").toUri().toString());
        assertThat(ScreeningJob.resumePath(ScreeningJob.environment(b.build()))).isEqualTo("file:" + savepoint);
    }

    @Test
    void resumeAndADifferentFlinkRestorePathAreRefused() throws IOException {
        Path chk = complete(tmp.resolve("ckpt/job-a/chk-3"), 1_000);
        Path other = complete(tmp.resolve("ckpt/job-b/chk-9"), 2_000);
        ScreeningConfig config = ScreeningConfig.builder()
                .resumeFrom(chk.toUri().toString())
                .flinkConf("execution.state-recovery.path", other.toUri().toString())
                .build();
        assertThatThrownBy(() -> ScreeningJob.environment(config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("are both given; give one of them");
        // the same path twice is one restore
        StreamExecutionEnvironment env = ScreeningJob.environment(ScreeningConfig.builder()
                .resumeFrom(chk.toUri().toString())
                .flinkConf("execution.state-recovery.path", chk.toUri().toString())
                .build());
        assertThat(ScreeningJob.resumePath(env)).isEqualTo(chk.toUri().toString());
    }

    @Test
    void aClusterEnvironmentGetsNoCheckpointDirectoryOfThisMachine() {
        StreamExecutionEnvironment remote = StreamExecutionEnvironment.createRemoteEnvironment("localhost", 8081);
        ScreeningJob.configure(remote, ScreeningConfig.builder().build());
        assertThat(remote.getConfiguration().getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .isEmpty();
        StreamExecutionEnvironment local =
                ScreeningJob.environment(ScreeningConfig.builder().build());
        assertThat(local.getConfiguration().getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .hasValueSatisfying(dir -> assertThat(dir).contains("flink-slm-checkpoints"));

        ScreeningConfig latest = ScreeningConfig.builder().resumeFrom("latest").build();
        assertThatThrownBy(() -> ScreeningJob.configure(
                        StreamExecutionEnvironment.createRemoteEnvironment("localhost", 8081), latest))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no checkpoint directory is configured here")
                .hasMessageContaining("--checkpoint-dir");
    }

    @Test
    void aRestoreByFlinksOwnPathReadsNoCommandHistory() throws IOException {
        Path chk = complete(tmp.resolve("ckpt/job-a/chk-3"), 1_000);
        StreamExecutionEnvironment restored = ScreeningJob.environment(ScreeningConfig.builder()
                .flinkConf("execution.state-recovery.path", chk.toUri().toString())
                .build());
        assertThat(ScreeningJob.commandHistoryEnd(restored, () -> {
                    throw new AssertionError("a restored job read the command topic's end offsets");
                }))
                .isEmpty();
        StreamExecutionEnvironment fresh =
                ScreeningJob.environment(ScreeningConfig.builder().build());
        assertThat(ScreeningJob.commandHistoryEnd(fresh, () -> Map.of(0, 17L))).containsEntry(0, 17L);
    }

    @Test
    void theSameRestorePathInAnotherSpellingIsOneRestore() throws IOException {
        Path chk = complete(tmp.resolve("ckpt/job-a/chk-3"), 1_000);
        String plain = chk.toString();
        assertThat(RetainedCheckpoints.sameLocation(plain, "file:" + plain)).isTrue();
        assertThat(RetainedCheckpoints.sameLocation(
                        plain + "/", chk.resolve("_metadata").toUri().toString()))
                .isTrue();
        assertThat(RetainedCheckpoints.sameLocation(
                        plain, tmp.resolve("ckpt/job-a/chk-4").toString()))
                .isFalse();
        StreamExecutionEnvironment env = ScreeningJob.environment(ScreeningConfig.builder()
                .resumeFrom(plain)
                .flinkConf(
                        "execution.state-recovery.path",
                        chk.resolve("_metadata").toUri().toString())
                .build());
        assertThat(ScreeningJob.resumePath(env)).isEqualTo(plain);
    }

    private static Path complete(Path dir, long time) throws IOException {
        Files.createDirectories(dir);
        Files.setLastModifiedTime(Files.write(dir.resolve("_metadata"), new byte[] {1}), FileTime.fromMillis(time));
        return dir;
    }
}
