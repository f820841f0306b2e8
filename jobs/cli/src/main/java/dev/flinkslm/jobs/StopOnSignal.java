package dev.flinkslm.jobs;

import org.apache.flink.annotation.Internal;
import sun.misc.Signal;

/**
 * Turns SIGINT (Ctrl-C) and SIGTERM into a call of an action instead of the JVM's shutdown, so that an embedded
 * job can be stopped with a savepoint while the JVM, Flink and the native libraries are all still up. A second
 * signal calls the action again (which must ignore repeats); the JVM's shutdown then follows when the action lets
 * the command return.
 *
 * <p>Threading: the action runs on the JVM's signal thread and must hand its work to another thread.
 */
@Internal
final class StopOnSignal {

    private StopOnSignal() {}

    static void install(Runnable action) {
        for (String name : new String[] {"INT", "TERM"}) {
            Signal.handle(new Signal(name), signal -> action.run());
        }
    }
}
