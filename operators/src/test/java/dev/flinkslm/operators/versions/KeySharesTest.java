package dev.flinkslm.operators.versions;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

class KeySharesTest {

    private static long covered(String commandId, double percent) {
        return IntStream.range(0, 20_000)
                .filter(i -> KeyShares.covers(commandId, percent, "ACC-" + i))
                .count();
    }

    @Test
    void aShareCoversAboutItsPercentOfKeysAndEveryKeyAtOneHundred() {
        assertThat(covered("canary-a", 10.0)).isBetween(1_800L, 2_200L);
        assertThat(covered("canary-a", 0.5)).isBetween(50L, 150L);
        assertThat(covered("canary-a", 100.0)).isEqualTo(20_000L);
    }

    @Test
    void percentsNoDeployMayCarryAreRefused() {
        for (double bad : new double[] {0, -5, 100.5, Double.NaN}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> KeyShares.covers("c", bad, "k"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("(0, 100]");
        }
    }

    @Test
    void theSameCommandCoversTheSameKeysAndAnotherCommandOthers() {
        long both = IntStream.range(0, 20_000)
                .filter(i -> KeyShares.covers("canary-a", 10.0, "ACC-" + i)
                        && KeyShares.covers("canary-b", 10.0, "ACC-" + i))
                .count();
        // independent 10% shares overlap on about 1% of the keys, not on all of them
        assertThat(both).isBetween(100L, 300L);
        // a larger share of the same command keeps every key of the smaller one
        for (int i = 0; i < 5_000; i++) {
            if (KeyShares.covers("canary-a", 10.0, "ACC-" + i)) {
                assertThat(KeyShares.covers("canary-a", 25.0, "ACC-" + i)).isTrue();
            }
        }
    }
}
