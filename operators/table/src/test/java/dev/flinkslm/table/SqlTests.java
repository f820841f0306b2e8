package dev.flinkslm.table;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import java.util.ArrayList;
import java.util.List;

/** Helpers of the SQL tests: a bounded {@code events (id INT, text STRING)} view and collecting a query. */
final class SqlTests {

    private SqlTests() {}

    /** The view {@code events}: row i is {@code (i, texts.get(i))}. */
    static void events(StreamTableEnvironment tEnv, List<String> texts) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            rows.add(Row.of(i, texts.get(i)));
        }
        tEnv.createTemporaryView(
                "events",
                tEnv.fromValues(
                        DataTypes.ROW(
                                DataTypes.FIELD("id", DataTypes.INT()), DataTypes.FIELD("text", DataTypes.STRING())),
                        rows));
    }

    /** Every row of a bounded query. */
    static List<Row> collect(TableResult result) throws Exception {
        List<Row> rows = new ArrayList<>();
        try (CloseableIterator<Row> it = result.collect()) {
            it.forEachRemaining(rows::add);
        }
        return rows;
    }
}
