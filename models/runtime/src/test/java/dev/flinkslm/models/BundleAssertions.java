package dev.flinkslm.models;

/** The reason a bundle call failed with, for tests that check many failures in a row. */
final class BundleAssertions {

    private BundleAssertions() {}

    interface ThrowingCall {
        void run() throws Exception;
    }

    /** The call's BundleException reason; an AssertionError when it succeeds or fails otherwise. */
    static BundleException.Reason reasonOf(ThrowingCall call) {
        try {
            call.run();
        } catch (BundleException e) {
            return e.reason();
        } catch (Exception e) {
            throw new AssertionError("expected a BundleException but got " + e, e);
        }
        throw new AssertionError("expected a BundleException");
    }
}
