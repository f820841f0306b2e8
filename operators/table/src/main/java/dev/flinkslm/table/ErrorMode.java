package dev.flinkslm.table;

import org.apache.flink.annotation.PublicEvolving;

/** What ML_PREDICT with the {@code onnx-slm} provider does with a row it cannot score. */
@PublicEvolving
public enum ErrorMode {
    /** The query fails with the row's error. */
    FAIL,
    /**
     * The row is emitted with null prediction columns and its error in the {@code error} and {@code error_reason}
     * output columns, which the model must then declare.
     */
    ERROR_COLUMNS
}
