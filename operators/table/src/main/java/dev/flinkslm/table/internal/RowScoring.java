package dev.flinkslm.table.internal;

import dev.flinkslm.models.EncodedInput;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.ScoringException;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.models.WindowOptions;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.table.ErrorMode;
import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What both predict functions share once the session is open: a row's text to windows, the windows' predictions
 * to the output row in the declared column order (internal types), and a failure to an error row or an exception
 * by the error mode. Scoring the windows and combining them is exactly {@link ScoringSession#scoreTexts}.
 *
 * <p>Threading: immutable after construction; used from the task thread and dispatcher workers.
 */
@Internal
final class RowScoring {

    /** The reason code of a text longer than the allowed windows, when the model does not flag truncation. */
    static final String TEXT_TRUNCATED = "TEXT_TRUNCATED";

    /**
     * What fails the query in error mode FAIL. An {@link Error}, not an exception, because Flink's {@code
     * PredictFunction.eval} wraps every exception in a message that prints the input row, the customer's text,
     * into the task failure and its log lines. Flink fails the task with it as with any exception (it is not one
     * of the JVM-fatal errors), and its message never holds the text.
     */
    static final class QueryFailure extends Error {
        private static final long serialVersionUID = 1L;

        QueryFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A row that cannot be scored, with a {@link ScoringFailure} reason code or {@link #TEXT_TRUNCATED}. */
    static final class RowFailure extends Exception {
        private static final long serialVersionUID = 1L;
        final String reason;

        RowFailure(String reason, String message, Throwable cause) {
            super(message, cause);
            this.reason = reason;
        }
    }

    private final ScoringSession session;
    private final List<OutputColumn> columns;
    private final ErrorMode errorMode;
    private final StringData modelId;
    private final StringData modelVersion;
    private final String modelName;
    private final WindowOptions windows;
    private final boolean flagsTruncation;

    RowScoring(ScoringSession session, PredictSettings settings) {
        this.session = session;
        this.columns = settings.columns();
        this.errorMode = settings.errorMode();
        this.windows = settings.windows()
                .fittedTo(session.manifest().maxSequenceLength(), settings.maxRows(), settings.maxTokens());
        this.flagsTruncation = columns.contains(OutputColumn.TRUNCATED);
        ModelBundle bundle = session.bundle();
        this.modelId = StringData.fromString(bundle.id());
        this.modelVersion = StringData.fromString(bundle.version());
        this.modelName = bundle.id() + ":" + bundle.version();
    }

    ScoringSession session() {
        return session;
    }

    /**
     * The windows of the input row's only column, as the DataStream operator makes them. A text that needs more
     * windows than allowed is scored on its first ones only when the model declares the {@code truncated} column;
     * otherwise it fails with {@link #TEXT_TRUNCATED}, never a label for a text that was not read to its end.
     */
    EncodedInput encode(RowData input) throws RowFailure {
        if (input.isNullAt(0)) {
            throw new RowFailure(ScoringFailure.TEXT_MISSING, "the input text is NULL", null);
        }
        String text = input.getString(0).toString();
        EncodedInput encoded;
        try {
            encoded = session.encode(text, windows);
        } catch (IllegalArgumentException e) {
            // the tokenizer's message names the problem, never the text
            throw new RowFailure(ScoringFailure.TOKENIZATION_FAILED, e.getMessage(), e);
        }
        if (encoded.truncated() && !flagsTruncation) {
            throw new RowFailure(
                    TEXT_TRUNCATED,
                    "the text needs more than " + windows.maxWindows() + " windows of "
                            + session.manifest().maxSequenceLength() + " tokens; declare a 'truncated BOOLEAN'"
                            + " output column to score such texts on their first windows, or raise"
                            + " 'text.max-windows' (runs are capped by 'batch.max-size' and 'batch.max-tokens')",
                    null);
        }
        return encoded;
    }

    /** The output row for the predictions of one text's windows; {@code truncated} as the text was encoded. */
    RowData prediction(List<Prediction> windowPredictions, boolean truncated) {
        Prediction p = session.combine(windowPredictions);
        GenericRowData row = new GenericRowData(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            row.setField(
                    i,
                    switch (columns.get(i)) {
                        case LABEL -> StringData.fromString(p.label());
                        case SCORE -> (double) p.score();
                        case PROBABILITIES -> probabilities(p);
                        case MODEL_ID -> modelId;
                        case MODEL_VERSION -> modelVersion;
                        case TRUNCATED -> truncated;
                        case ERROR, ERROR_REASON -> null;
                    });
        }
        return row;
    }

    /** The error row of a row that cannot be scored (ERROR_COLUMNS); in error mode FAIL, a {@link QueryFailure}. */
    RowData failure(RowFailure failure) {
        if (errorMode == ErrorMode.FAIL) {
            throw new QueryFailure(
                    "onnx-slm could not score a row with " + modelName + " (" + failure.reason + "): "
                            + failure.getMessage()
                            + ". Set 'error-mode' = 'ERROR_COLUMNS' on the model to emit such rows with their"
                            + " error instead of failing the query.",
                    failure);
        }
        GenericRowData row = new GenericRowData(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            row.setField(
                    i,
                    switch (columns.get(i)) {
                        case MODEL_ID -> modelId;
                        case MODEL_VERSION -> modelVersion;
                        case ERROR -> StringData.fromString(failure.getMessage());
                        case ERROR_REASON -> StringData.fromString(failure.reason);
                        default -> null;
                    });
        }
        return row;
    }

    /** The reason code of a failed session run. */
    static RowFailure runFailure(Throwable error) {
        if (error instanceof ScoringException se && se.kind() == ScoringException.Kind.OUTPUT_INVALID) {
            return new RowFailure(ScoringFailure.MODEL_OUTPUT_INVALID, se.getMessage(), se);
        }
        return new RowFailure(ScoringFailure.INFERENCE_FAILED, String.valueOf(error.getMessage()), error);
    }

    private GenericMapData probabilities(Prediction p) {
        List<String> labels = session.labels();
        float[] probabilities = p.probabilities();
        Map<StringData, Double> map = new HashMap<>();
        for (int c = 0; c < labels.size(); c++) {
            map.put(StringData.fromString(labels.get(c)), (double) probabilities[c]);
        }
        return new GenericMapData(map);
    }
}
