package dev.flinkslm.connectors;

import dev.flinkslm.connectors.internal.JsonLinesFormat;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.core.fs.Path;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a file source of JSON-lines events: one JSON object per line, any Flink file system
 * ({@code file://}, {@code s3://}, ...), a file or a directory of files. It emits
 * {@link RawEvent}s whose position is the file path and 1-based line number, so dead letters
 * point at the offending line. Bounded by default: the job ends when every file is read.
 *
 * <pre>{@code
 * FileSource<RawEvent> source = EventFileSource.builder().path("/data/events.jsonl").build();
 * DataStream<RawEvent> raw = env.fromSource(source, WatermarkStrategy.noWatermarks(), "events-file");
 * }</pre>
 *
 * <p>Exactly-once under checkpointing: positions are checkpointed per file (record counts), and
 * a restored reader continues with the next line. Files are not split: parallelism above the
 * number of files only helps the downstream operators.
 *
 * <p>Threading: the builder is not thread-safe; the built source is immutable.
 */
@PublicEvolving
public final class EventFileSource {

    private EventFileSource() {}

    public static Builder builder() {
        return new Builder();
    }

    /** Builder; {@link #build()} validates. */
    public static final class Builder {
        private final List<Path> paths = new ArrayList<>();
        private long maxEventBytes =
                ConnectorOptions.MAX_EVENT_SIZE.defaultValue().getBytes();
        private Duration monitorInterval;

        private Builder() {}

        /** Reads {@link ConnectorOptions#MAX_EVENT_SIZE} (lines are cut just above it). */
        public Builder configure(ReadableConfig config) {
            maxEventBytes = config.get(ConnectorOptions.MAX_EVENT_SIZE).getBytes();
            return this;
        }

        /** A file or directory; may be called several times. */
        public Builder path(String path) {
            paths.add(new Path(path));
            return this;
        }

        public Builder path(Path path) {
            paths.add(path);
            return this;
        }

        /** Must match the parser's limit so that oversized lines are cut, not buffered whole. */
        public Builder maxEventBytes(long bytes) {
            this.maxEventBytes = bytes;
            return this;
        }

        /** Makes the source unbounded: watch the directories for new files at this interval. */
        public Builder monitorContinuously(Duration interval) {
            this.monitorInterval = interval;
            return this;
        }

        public FileSource<RawEvent> build() {
            if (paths.isEmpty()) {
                throw new IllegalArgumentException(
                        "No input path: call path(\"/data/events.jsonl\") with a file or directory");
            }
            if (maxEventBytes < 1) {
                throw new IllegalArgumentException("maxEventBytes must be positive; set "
                        + ConnectorOptions.MAX_EVENT_SIZE.key() + " (default 1 MiB)");
            }
            if (monitorInterval != null && (monitorInterval.isNegative() || monitorInterval.isZero())) {
                throw new IllegalArgumentException("monitor interval must be positive, e.g. Duration.ofSeconds(10)");
            }
            FileSource.FileSourceBuilder<RawEvent> b =
                    FileSource.forBulkFileFormat(new JsonLinesFormat(maxEventBytes), paths.toArray(new Path[0]));
            if (monitorInterval != null) {
                b.monitorContinuously(monitorInterval);
            }
            return b.build();
        }
    }
}
