package dev.flinkslm.table.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.MapType;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** The output columns a model of the {@code onnx-slm} provider may declare, with their SQL types. */
@Internal
public enum OutputColumn {
    LABEL("label", DataTypes.STRING()),
    SCORE("score", DataTypes.DOUBLE()),
    PROBABILITIES("probabilities", DataTypes.MAP(DataTypes.STRING(), DataTypes.DOUBLE())),
    MODEL_ID("model_id", DataTypes.STRING()),
    MODEL_VERSION("model_version", DataTypes.STRING()),
    TRUNCATED("truncated", DataTypes.BOOLEAN()),
    ERROR("error", DataTypes.STRING()),
    ERROR_REASON("error_reason", DataTypes.STRING());

    private final String column;
    private final DataType type;

    OutputColumn(String column, DataType type) {
        this.column = column;
        this.type = type;
    }

    public String column() {
        return column;
    }

    public DataType type() {
        return type;
    }

    /** The column of that name (case-sensitive, as SQL identifiers are in Flink). */
    public static Optional<OutputColumn> named(String name) {
        return Arrays.stream(values()).filter(c -> c.column.equals(name)).findFirst();
    }

    /** Whether {@code actual} is this column's type, nullability aside ({@link #mayBeNotNull}). */
    public boolean accepts(LogicalType actual) {
        return sameIgnoringNullability(type.getLogicalType(), actual);
    }

    private static boolean sameIgnoringNullability(LogicalType expected, LogicalType actual) {
        if (expected instanceof MapType e && actual instanceof MapType a) {
            return sameIgnoringNullability(e.getKeyType(), a.getKeyType())
                    && sameIgnoringNullability(e.getValueType(), a.getValueType());
        }
        return expected.copy(true).equals(actual.copy(true));
    }

    /** Whether the column is set on every row, error rows included, so that it may be declared NOT NULL. */
    public boolean mayBeNotNull() {
        return this == MODEL_ID || this == MODEL_VERSION;
    }

    /** Whether the column carries (part of) the prediction. */
    public boolean isPrediction() {
        return this == LABEL || this == SCORE || this == PROBABILITIES;
    }

    /** "label STRING, score DOUBLE, ..." for messages. */
    public static String allowed() {
        return Arrays.stream(values())
                .map(c -> c.column + " "
                        + c.type.getLogicalType().asSummaryString().toUpperCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
    }
}
