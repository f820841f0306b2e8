package dev.flinkslm.screening;

/** Test shorthand: a single-window result whose label is the most probable one. */
final class ScoredEvents {

    private ScoredEvents() {}

    static ScoredEvent of(
            FinancialEvent event,
            String[] labels,
            double[] probabilities,
            String modelId,
            String modelVersion,
            String variant,
            long queueWaitMs,
            long inferenceMs,
            long scoredAt) {
        int best = 0;
        for (int i = 1; probabilities != null && i < probabilities.length; i++) {
            if (probabilities[i] > probabilities[best]) {
                best = i;
            }
        }
        return ScoredEvent.of(
                event,
                labels,
                probabilities,
                best,
                modelId,
                modelVersion,
                variant,
                1,
                false,
                queueWaitMs,
                inferenceMs,
                scoredAt);
    }
}
