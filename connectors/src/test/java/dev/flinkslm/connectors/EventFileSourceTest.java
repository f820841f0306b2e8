package dev.flinkslm.connectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkslm.connectors.internal.JsonLinesFormat;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.RecordAndPosition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

class EventFileSourceTest {

    @TempDir
    Path tmp;

    private FileSourceSplit split(Path file, CheckpointedPosition position) throws IOException {
        long len = Files.size(file);
        return new FileSourceSplit(
                "0", new org.apache.flink.core.fs.Path(file.toUri()), 0, len, 0, len, new String[0], position);
    }

    private static List<RecordAndPosition<RawEvent>> readAll(BulkFormat.Reader<RawEvent> reader) throws IOException {
        List<RecordAndPosition<RawEvent>> out = new ArrayList<>();
        BulkFormat.RecordIterator<RawEvent> batch;
        while ((batch = reader.readBatch()) != null) {
            RecordAndPosition<RawEvent> r;
            while ((r = batch.next()) != null) {
                // copy: the iterator may reuse its holder
                out.add(new RecordAndPosition<>(r.getRecord(), r.getOffset(), r.getRecordSkipCount()));
            }
            batch.releaseBatch();
        }
        reader.close();
        return out;
    }

    private static String text(RawEvent e) {
        return new String(e.value, StandardCharsets.UTF_8);
    }

    @Test
    void keepsLineNumbersAcrossBlankLinesCrLfAndBom() throws IOException {
        Path file = tmp.resolve("in.jsonl");
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        byte[] body = "{\"a\":1}\r\n\n   \n{\"b\":2}\n{\"c\":3}".getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[bom.length + body.length];
        System.arraycopy(bom, 0, all, 0, bom.length);
        System.arraycopy(body, 0, all, bom.length, body.length);
        Files.write(file, all);

        List<RecordAndPosition<RawEvent>> records =
                readAll(new JsonLinesFormat(1024).createReader(new Configuration(), split(file, null)));

        assertThat(records).extracting(r -> text(r.getRecord())).containsExactly("{\"a\":1}", "{\"b\":2}", "{\"c\":3}");
        assertThat(records).extracting(r -> r.getRecord().position.offset).containsExactly(1L, 4L, 5L);
        assertThat(records).extracting(r -> r.getRecord().position.system).containsOnly(SourcePosition.FILE);
        assertThat(records.get(0).getRecord().position.name).endsWith("in.jsonl");
        assertThat(records.get(0).getRecord().size).isEqualTo(7);
        // position after each record: records to skip on restore
        assertThat(records).extracting(RecordAndPosition::getRecordSkipCount).containsExactly(1L, 2L, 3L);
    }

    @Test
    void restoredReaderContinuesWithTheNextLineAndItsNumber() throws IOException {
        Path file = tmp.resolve("in.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 1000; i++) {
            sb.append("{\"n\":").append(i).append("}\n");
            if (i % 100 == 0) {
                sb.append('\n');
            }
        }
        Files.writeString(file, sb.toString());

        List<RecordAndPosition<RawEvent>> restored = readAll(new JsonLinesFormat(1024)
                .restoreReader(new Configuration(), split(file, new CheckpointedPosition(0, 600))));

        assertThat(restored).hasSize(400);
        assertThat(text(restored.get(0).getRecord())).isEqualTo("{\"n\":601}");
        assertThat(restored.get(0).getRecord().position.offset).isEqualTo(607L); // 6 blank lines before it
        assertThat(restored.get(399).getRecord().position.offset).isEqualTo(1009L);
        assertThat(restored.get(0).getRecordSkipCount()).isEqualTo(601L);
    }

    @Test
    void cutsOversizedLinesButReportsTheirSize() throws IOException {
        Path file = tmp.resolve("big.jsonl");
        Files.writeString(file, "{\"ok\":1}\n" + "x".repeat(5000) + "\n{\"ok\":2}\n");

        List<RecordAndPosition<RawEvent>> records =
                readAll(new JsonLinesFormat(100).createReader(new Configuration(), split(file, null)));

        assertThat(records).hasSize(3);
        RawEvent big = records.get(1).getRecord();
        assertThat(big.value).hasSize(101);
        assertThat(big.size).isEqualTo(5000);
        assertThat(big.position.offset).isEqualTo(2L);
        assertThat(text(records.get(2).getRecord())).isEqualTo("{\"ok\":2}");
    }

    @Test
    void linesSpanningReadBuffersStayIntact() throws IOException {
        Path file = tmp.resolve("long.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            sb.append("{\"n\":")
                    .append(i)
                    .append(",\"pad\":\"")
                    .append("p".repeat(i % 97))
                    .append("\"}\n");
        }
        Files.writeString(file, sb.toString());
        assertThat(Files.size(file)).isGreaterThan(3 * 65536);

        List<RecordAndPosition<RawEvent>> records =
                readAll(new JsonLinesFormat(1024).createReader(new Configuration(), split(file, null)));

        assertThat(records).hasSize(3000);
        for (int i = 0; i < 3000; i++) {
            assertThat(text(records.get(i).getRecord()))
                    .isEqualTo("{\"n\":" + i + ",\"pad\":\"" + "p".repeat(i % 97) + "\"}");
            assertThat(records.get(i).getRecord().position.offset).isEqualTo(i + 1L);
        }
    }

    @Test
    void emptyFileHasNoRecords() throws IOException {
        Path file = tmp.resolve("empty.jsonl");
        Files.writeString(file, "");
        assertThat(readAll(new JsonLinesFormat(100).createReader(new Configuration(), split(file, null))))
                .isEmpty();
    }

    @Test
    void builderValidates() {
        assertThatThrownBy(() -> EventFileSource.builder().build()).hasMessageContaining("No input path");
        assertThat(EventFileSource.builder().path(tmp.toString()).build()).isNotNull();
        assertThatThrownBy(() -> FileResultSink.deadLetters(" ").build()).hasMessageContaining("No output directory");
        assertThat(FileResultSink.deadLetters("/out").outputPath().toString()).isEqualTo("/out/dead-letter");
    }
}
