package dev.flinkslm.connectors.internal;

import dev.flinkslm.connectors.RawEvent;
import dev.flinkslm.connectors.SourcePosition;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.IteratorResultIterator;
import org.apache.flink.core.fs.FSDataInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a JSON-lines file into {@link RawEvent}s that carry the file path and the 1-based line
 * number. Blank lines are skipped (but counted); a trailing {@code \r} and a UTF-8 BOM on line 1
 * are removed. A line longer than {@code maxLineBytes} is kept only up to that many bytes plus
 * one, with its full size recorded, so the parser rejects it as oversized without this reader ever
 * holding it whole.
 *
 * <p>A {@link BulkFormat} rather than a {@code StreamFormat} because only a bulk format sees the
 * split, and so the path. Files are not split. Checkpointed position: offset 0 and the number of
 * records emitted; a restored reader re-reads from the start and skips that many records, which
 * keeps line numbers exact at the cost of re-reading the file head once per restore.
 *
 * <p>Threading: a reader is used by one source fetcher thread.
 */
@Internal
public final class JsonLinesFormat implements BulkFormat<RawEvent, FileSourceSplit> {

    private static final long serialVersionUID = 1L;
    private static final int BATCH = 256;
    private static final int BUFFER = 1 << 16;

    private final long maxLineBytes;

    public JsonLinesFormat(long maxLineBytes) {
        this.maxLineBytes = maxLineBytes;
    }

    @Override
    public Reader<RawEvent> createReader(Configuration config, FileSourceSplit split) throws IOException {
        return new LineReader(split, maxLineBytes, 0L);
    }

    @Override
    public Reader<RawEvent> restoreReader(Configuration config, FileSourceSplit split) throws IOException {
        long skip = split.getReaderPosition()
                .map(CheckpointedPosition::getRecordsAfterOffset)
                .orElse(0L);
        return new LineReader(split, maxLineBytes, skip);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<RawEvent> getProducedType() {
        return TypeInformation.of(RawEvent.class);
    }

    static final class LineReader implements BulkFormat.Reader<RawEvent> {
        private final String path;
        private final long maxLineBytes;
        private final InputStream in;
        // Own read buffer: InputStream.read() per byte through BufferedInputStream is synchronized.
        private final byte[] chunk = new byte[BUFFER];
        private int chunkPos;
        private int chunkEnd;
        private byte[] buf = new byte[1024];
        private long lineNumber;
        private long emitted;
        private boolean eof;

        LineReader(FileSourceSplit split, long maxLineBytes, long skipRecords) throws IOException {
            this.path = split.path().toString();
            this.maxLineBytes = maxLineBytes;
            FSDataInputStream stream = split.path().getFileSystem().open(split.path());
            this.in = stream;
            try {
                while (emitted < skipRecords && next() != null) {
                    emitted++;
                }
            } catch (IOException | RuntimeException e) {
                in.close();
                throw e;
            }
        }

        @Override
        public BulkFormat.RecordIterator<RawEvent> readBatch() throws IOException {
            long before = emitted;
            List<RawEvent> batch = new ArrayList<>(BATCH);
            RawEvent e;
            while (batch.size() < BATCH && (e = next()) != null) {
                batch.add(e);
            }
            if (batch.isEmpty()) {
                return null;
            }
            emitted += batch.size();
            return new IteratorResultIterator<>(batch.iterator(), 0L, before);
        }

        /** The next non-blank line, or null at the end of the file. */
        private RawEvent next() throws IOException {
            while (!eof) {
                int len = 0;
                long size = 0;
                int b;
                boolean sawNewline = false;
                while ((b = nextByte()) >= 0) {
                    if (b == '\n') {
                        sawNewline = true;
                        break;
                    }
                    if (size <= maxLineBytes) { // keep one byte more than allowed: enough to know it is too long
                        if (len == buf.length) {
                            buf = Arrays.copyOf(buf, (int) Math.min((long) buf.length * 2, maxLineBytes + 1));
                        }
                        buf[len++] = (byte) b;
                    }
                    size++;
                }
                if (!sawNewline) {
                    eof = true;
                    if (size == 0) {
                        return null;
                    }
                }
                lineNumber++;
                if (len > 0 && buf[len - 1] == '\r' && size == len) {
                    len--;
                    size--;
                }
                int start = 0;
                if (lineNumber == 1
                        && len >= 3
                        && (buf[0] & 0xff) == 0xEF
                        && (buf[1] & 0xff) == 0xBB
                        && (buf[2] & 0xff) == 0xBF) {
                    start = 3;
                    size -= 3;
                }
                if (isBlank(buf, start, len)) {
                    continue;
                }
                return new RawEvent(
                        Arrays.copyOfRange(buf, start, len),
                        size,
                        SourcePosition.file(path, lineNumber),
                        System.currentTimeMillis());
            }
            return null;
        }

        private int nextByte() throws IOException {
            if (chunkPos == chunkEnd) {
                int n = in.read(chunk, 0, chunk.length);
                if (n <= 0) {
                    return -1;
                }
                chunkPos = 0;
                chunkEnd = n;
            }
            return chunk[chunkPos++] & 0xff;
        }

        private static boolean isBlank(byte[] b, int from, int to) {
            for (int i = from; i < to; i++) {
                if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
