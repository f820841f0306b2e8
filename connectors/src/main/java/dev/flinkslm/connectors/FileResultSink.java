package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.DateTimeBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.DefaultRollingPolicy;

import java.time.Duration;

/**
 * Builds JSON-lines file sinks (Flink {@link FileSink}, row format), each writing into one
 * subdirectory of an output directory: {@code DIR/dead-letter/}, {@code DIR/audit/}, or any other
 * with {@link #builder}.
 *
 * <pre>{@code
 * trades.sinkTo(FileResultSink.builder("/out", "trades", tradeSchema).build());
 * deadLetters.sinkTo(FileResultSink.deadLetters("/out").build());
 * audit.sinkTo(FileResultSink.audit("/out", JsonSchemas.pojo()).build());
 * }</pre>
 *
 * <p>Files are named {@code part-<uuid>-<subtask>-<n>.jsonl} and become visible (lose their
 * leading dot and {@code .inprogress} suffix) when a checkpoint completes, or when a bounded job
 * ends. Enable checkpointing for unbounded jobs, otherwise nothing is ever finalised. Files roll at
 * 128 MiB or after 15 minutes. By default all files of a kind go directly into its directory;
 * {@link Builder#hourlyBuckets()} adds {@code yyyy-MM-dd--HH} subdirectories for long-running jobs.
 *
 * <p>Threading: the builder is not thread-safe; the built sink is immutable.
 */
@PublicEvolving
public final class FileResultSink {

    /** Subdirectory of dead letters. */
    public static final String DEAD_LETTER_DIR = "dead-letter";
    /** Subdirectory of audit records. */
    public static final String AUDIT_DIR = "audit";
    /** Suffix of every output file. */
    public static final String SUFFIX = ".jsonl";

    private FileResultSink() {}

    public static Builder<DeadLetter> deadLetters(String dir) {
        return new Builder<>(dir, DEAD_LETTER_DIR, JsonSchemas.deadLetters());
    }

    public static <T> Builder<T> audit(String dir, SerializationSchema<T> schema) {
        return new Builder<>(dir, AUDIT_DIR, schema);
    }

    /** Any record type into {@code DIR/subdirectory}. */
    public static <T> Builder<T> builder(String dir, String subdirectory, SerializationSchema<T> schema) {
        return new Builder<>(dir, subdirectory, schema);
    }

    /**
     * Builder; {@link #build()} validates.
     *
     * @param <T> record type
     */
    public static final class Builder<T> {
        private final String dir;
        private final String subdirectory;
        private final SerializationSchema<T> schema;
        private boolean hourly;
        private MemorySize partSize = MemorySize.ofMebiBytes(128);
        private Duration rolloverInterval = Duration.ofMinutes(15);

        private Builder(String dir, String subdirectory, SerializationSchema<T> schema) {
            this.dir = dir;
            this.subdirectory = subdirectory;
            this.schema = schema;
        }

        /** Buckets files into hourly subdirectories (by processing time). */
        public Builder<T> hourlyBuckets() {
            this.hourly = true;
            return this;
        }

        public Builder<T> partSize(MemorySize size) {
            this.partSize = size;
            return this;
        }

        public Builder<T> rolloverInterval(Duration interval) {
            this.rolloverInterval = interval;
            return this;
        }

        /** The directory this sink writes into. */
        public Path outputPath() {
            return new Path(new Path(dir), subdirectory);
        }

        public FileSink<T> build() {
            if (dir == null || dir.isBlank()) {
                throw new IllegalArgumentException(
                        "No output directory: pass one, e.g. FileResultSink.deadLetters(\"/out\")");
            }
            if (subdirectory == null || subdirectory.isBlank() || subdirectory.contains("..")) {
                throw new IllegalArgumentException(
                        "Subdirectory '" + subdirectory + "' must be a plain name such as 'scored'");
            }
            if (schema == null) {
                throw new IllegalArgumentException("No serialization schema for " + subdirectory + " records");
            }
            if (partSize == null
                    || partSize.getBytes() < 1024
                    || rolloverInterval == null
                    || rolloverInterval.isNegative()
                    || rolloverInterval.isZero()) {
                throw new IllegalArgumentException(
                        "part size must be at least 1 KiB and the rollover interval positive");
            }
            return FileSink.forRowFormat(outputPath(), JsonSchemas.jsonLines(schema))
                    .withBucketAssigner(hourly ? new DateTimeBucketAssigner<>() : new BasePathBucketAssigner<>())
                    .withRollingPolicy(DefaultRollingPolicy.builder()
                            .withMaxPartSize(partSize)
                            .withRolloverInterval(rolloverInterval)
                            .build())
                    .withOutputFileConfig(
                            OutputFileConfig.builder().withPartSuffix(SUFFIX).build())
                    .build();
        }
    }
}
