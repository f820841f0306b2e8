package dev.flinkslm.operators;

import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.internal.InferenceRuntime;
import dev.flinkslm.operators.internal.ScoringOperatorFactory;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/** Builds scoring operators on tiny generated bundles and drives the harness mailbox. */
final class HarnessSupport {

    private HarnessSupport() {}

    static SlmScoring.Builder<String> builder(Path bundle) {
        return SlmScoring.<String>builder()
                .text(s -> s.startsWith("NULL") ? null : s)
                .model(bundle.toString())
                .modelRoots(bundle.getParent().toString())
                .executionProvider(dev.flinkslm.models.ExecutionProvider.CPU)
                // Batches form exactly as the test feeds them: full, at max-wait or at end of input. The
                // adaptive policy has its own tests (AdaptiveBatchingTest) and is the default in the ITCases.
                .dispatch(DispatchPolicy.FILL)
                .maxWait(Duration.ofHours(1));
    }

    static final OutputTag<ScoringFailure<String>> DEAD_LETTERS =
            new OutputTag<>("dl", SlmScoring.failureType(Types.STRING));

    static final TextExtractor<String> TEXT = s -> s.startsWith("NULL") ? null : s;

    static OneInputStreamOperatorFactory<String, Scored<String>> factory(
            SlmScoring<String> scoring, InferenceRuntime runtime) {
        return new ScoringOperatorFactory<>(scoring.config(), TEXT, scoring.model(), DEAD_LETTERS, runtime);
    }

    static OneInputStreamOperatorTestHarness<String, Scored<String>> harness(
            SlmScoring<String> scoring, InferenceRuntime runtime) throws Exception {
        OneInputStreamOperatorTestHarness<String, Scored<String>> h =
                new OneInputStreamOperatorTestHarness<>(factory(scoring, runtime), serializer());
        h.setup(SlmScoring.scoredType(Types.STRING).createSerializer(new SerializerConfigImpl()));
        return h;
    }

    static OneInputStreamOperatorTestHarness<String, Scored<String>> harness(SlmScoring<String> scoring)
            throws Exception {
        return harness(scoring, InferenceRuntime.DEFAULT);
    }

    static KeyedOneInputStreamOperatorTestHarness<String, String, Scored<String>> keyedHarness(
            SlmScoring<String> scoring) throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, String, Scored<String>> h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        (StreamOperatorFactory<Scored<String>>) factory(scoring, InferenceRuntime.DEFAULT),
                        s -> s.substring(0, 1),
                        Types.STRING,
                        serializer());
        h.setup(SlmScoring.scoredType(Types.STRING).createSerializer(new SerializerConfigImpl()));
        return h;
    }

    static TypeSerializer<String> serializer() {
        return Types.STRING.createSerializer(new SerializerConfigImpl());
    }

    /** Runs mails (batch results, timers) until the condition holds; fails after 60 s. */
    static void runMailsUntil(AbstractStreamOperatorTestHarness<?> h, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        TaskMailbox mailbox = h.getTaskMailbox();
        while (!condition.getAsBoolean()) {
            Optional<Mail> mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("condition not reached within 60 s");
                }
                Thread.sleep(1);
            }
        }
    }

    /** Runs every mail that is queued now. */
    static void runQueuedMails(AbstractStreamOperatorTestHarness<?> h) throws Exception {
        TaskMailbox mailbox = h.getTaskMailbox();
        Optional<Mail> mail;
        while ((mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY)).isPresent()) {
            mail.get().run();
        }
    }

    static List<Scored<String>> results(AbstractStreamOperatorTestHarness<Scored<String>> h) {
        List<Scored<String>> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                @SuppressWarnings("unchecked")
                Scored<String> s = (Scored<String>) r.getValue();
                out.add(s);
            }
        }
        return out;
    }

    static List<String> elements(AbstractStreamOperatorTestHarness<Scored<String>> h) {
        return results(h).stream().map(s -> s.element).toList();
    }

    static List<ScoringFailure<String>> deadLetters(AbstractStreamOperatorTestHarness<Scored<String>> h) {
        var side = h.getSideOutput(DEAD_LETTERS);
        return side == null
                ? List.of()
                : side.stream().map(StreamRecord::getValue).toList();
    }

    static Path tinyBundle(Path dir, TinyBundles.Spec spec) throws Exception {
        return TinyBundles.write(dir, spec);
    }
}
