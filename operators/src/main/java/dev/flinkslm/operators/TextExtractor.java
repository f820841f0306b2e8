package dev.flinkslm.operators;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/**
 * Returns the text to score from an element. Called on the task thread; must not keep references
 * to the element. Returning null sends the element to the dead-letter output.
 */
@FunctionalInterface
@PublicEvolving
public interface TextExtractor<IN> extends Serializable {
    String text(IN element) throws Exception;
}
