package dev.flinkslm.screening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

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

    private static Path complete(Path dir, long time) throws IOException {
        Files.createDirectories(dir);
        Files.setLastModifiedTime(Files.write(dir.resolve("_metadata"), new byte[] {1}), FileTime.fromMillis(time));
        return dir;
    }
}
