package dev.flinkslm.table.internal;

import dev.flinkslm.models.EncodedInput;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.Prediction;
import dev.flinkslm.models.ScoringException;
import dev.flinkslm.models.ScoringSession;
import dev.flinkslm.operators.ScoringFailure;
import dev.flinkslm.table.ErrorMode;
import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.util.FlinkRuntimeException;

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

    /** A row that cannot be scored, with one of the {@link ScoringFailure} reason codes. */
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

    RowScoring(ScoringSession session, PredictSettings settings) {
        this.session = session;
        this.columns = settings.columns();
        this.errorMode = settings.errorMode();
        ModelBundle bundle = session.bundle();
        this.modelId = StringData.fromString(bundle.id());
        this.modelVersion = StringData.fromString(bundle.version());
        this.modelName = bundle.id() + ":" + bundle.version();
    }

    ScoringSession session() {
        return session;
    }

    /** The windows of the input row's only column, as {@link ScoringSession#scoreTexts} would score them. */
    EncodedInput encode(RowData input) throws RowFailure {
        if (input.isNullAt(0)) {
            throw new RowFailure(ScoringFailure.TEXT_MISSING, "the input text is NULL", null);
        }
        String text = input.getString(0).toString();
        try {
            return session.encode(text, session.defaultWindowOptions());
        } catch (IllegalArgumentException e) {
            // the tokenizer's message names the problem, never the text
            throw new RowFailure(ScoringFailure.TOKENIZATION_FAILED, e.getMessage(), e);
        }
    }

    /** The output row for the predictions of one text's windows. */
    RowData prediction(List<Prediction> windows) {
        Prediction p = session.combine(windows);
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
                        case ERROR, ERROR_REASON -> null;
                    });
        }
        return row;
    }

    /**
     * The error row of a row that cannot be scored (ERROR_COLUMNS), or the exception that fails the query (FAIL).
     */
    RowData failure(RowFailure failure) {
        if (errorMode == ErrorMode.FAIL) {
            throw new FlinkRuntimeException(
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
