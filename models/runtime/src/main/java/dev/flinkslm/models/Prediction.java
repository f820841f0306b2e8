package dev.flinkslm.models;

/**
 * The model's answer for one text.
 *
 * @param labelIndex index of the top label in the manifest's label order
 * @param label the top label
 * @param score the top label's probability
 * @param probabilities the probability of every label, in manifest order
 */
public record Prediction(int labelIndex, String label, float score, float[] probabilities) {}
