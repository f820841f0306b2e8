package dev.flinkslm.operators;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * The timeout tests of ScoringOperatorTest run on an injected clock and scheduler; repeating them 30
 * times in one JVM shows they do not depend on thread timing.
 */
class TimeoutDeterminismTest {

    @TempDir
    static Path dir;

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
