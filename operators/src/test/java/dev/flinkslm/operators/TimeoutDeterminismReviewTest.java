package dev.flinkslm.operators;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * Review of issue 10, test claim "the flaky timeout test made deterministic (inject the executor and
 * the clock)": the three timeout tests of ScoringOperatorTest, 30 times each in one JVM (the old one
 * failed about 1 run in 6). Passing = no flakiness seen.
 */
class TimeoutDeterminismReviewTest {

    @TempDir static Path dir;

    @BeforeAll
    static void bundles() throws Exception {
        ScoringOperatorTest.tmp = dir;
        ScoringOperatorTest.bundles();
    }

    @RepeatedTest(30)
    void timeoutTestsAreDeterministic() throws Exception {
        ScoringOperatorTest t = new ScoringOperatorTest();
        t.timedOutBatchesAreRetriedIsolatedAndDeadLettered();
        t.aTimeoutCountsRunningTimeAndATimedOutRunKeepsItsThread();
        t.consecutiveTimeoutsFailTheJobInsteadOfDeadLetteringEverything();
    }
}
