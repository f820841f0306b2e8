package dev.flinkslm.operators.internal;

import org.apache.flink.annotation.Internal;

/**
 * Decides which loaded model version scores each element. The scoring core asks it once per
 * element, on the task thread, with the element's key set as the current key.
 *
 * <p>{@link FixedRouter} serves one version. The versioned router owns the rule log of live
 * versions (broadcast state), the per-key assignments (keyed state) and the per-subtask loader.
 */
@Internal
public interface ModelRouter {

    /** The route for the current key, or null when no version can serve it (dead-lettered as NO_MODEL). */
    Route route(Object key) throws Exception;

    /** A slot's last pending part finished: an unneeded version may be released now. */
    default void partsFinished(ModelSlot slot) {}

    /** What the {@code modelVersion} gauge shows. */
    String describe();

    /** The execution provider that runs, for the {@code executionProvider} gauge. */
    String provider();
}
