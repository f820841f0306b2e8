package dev.flinkslm.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

class ScoringSessionTest {

    @TempDir
    Path tmp;

    private ModelBundle bundle(String name, TinyBundles.Spec spec) throws Exception {
        Path dir = TinyBundles.write(tmp.resolve(name), spec);
        return BundleLoader.verify(dir.toUri(), dir, null);
    }

    private BundleException openFails(TinyBundles.Spec spec) throws Exception {
        ModelBundle bundle = bundle("bad-" + System.nanoTime(), spec);
        try (ScoringSession ignored = ScoringSession.open(bundle, RuntimeOptions.cpu())) {
            throw new AssertionError("session opened although the bundle is bad");
        } catch (BundleException e) {
            return e;
        }
    }

    @Test
    void scoresMatchAPlainJavaReference() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec();
        try (ScoringSession session = ScoringSession.open(bundle("m", spec), RuntimeOptions.cpu())) {
            assertThat(session.executionProvider()).isEqualTo(ExecutionProvider.CPU);
            List<String> texts = TinyBundles.sampleTexts(40);
            List<Prediction> predictions = session.scoreTexts(texts);
            assertThat(predictions).hasSize(40);
            int distinctLabels = 0;
            java.util.Set<String> labels = new java.util.HashSet<>();
            for (int i = 0; i < texts.size(); i++) {
                float[] expected = TinyBundles.reference(spec, session.encode(texts.get(i)));
                Prediction p = predictions.get(i);
                for (int c = 0; c < expected.length; c++) {
                    assertThat(p.probabilities()[c]).isCloseTo(expected[c], within(1e-5f));
                }
                assertThat(p.score()).isEqualTo(p.probabilities()[p.labelIndex()]);
                assertThat(p.label()).isEqualTo(spec.labels.get(p.labelIndex()));
                labels.add(p.label());
            }
            distinctLabels = labels.size();
            assertThat(distinctLabels)
                    .as("the fixture should exercise more than one label")
                    .isGreaterThan(1);
        }
    }

    @Test
    void batchesArePaddedPerBatchAndTruncatedAtMaxLength() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec().maxSequenceLength(16);
        try (ScoringSession session = ScoringSession.open(bundle("m", spec), RuntimeOptions.cpu())) {
            String longText = "payment ".repeat(200);
            assertThat(session.encode(longText).length()).isEqualTo(16);
            // A text scored alone and next to a longer one gives the same answer: padding is masked.
            Prediction alone = session.scoreTexts(List.of("short text")).get(0);
            Prediction padded =
                    session.scoreTexts(List.of("short text", longText)).get(0);
            assertThat(padded.probabilities()).containsExactly(alone.probabilities(), within(1e-6f));
        }
    }

    @Test
    void concurrentScoringOnOneSessionEqualsSingleThreaded() throws Exception {
        try (ScoringSession session = ScoringSession.open(bundle("m", new TinyBundles.Spec()), RuntimeOptions.cpu())) {
            List<String> texts = TinyBundles.sampleTexts(64);
            long warmUpBatches = session.batchesScored();
            List<List<Prediction>> expected = new ArrayList<>();
            for (int i = 0; i < texts.size(); i += 8) {
                expected.add(session.scoreTexts(texts.subList(i, i + 8)));
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<List<Prediction>>> futures = new ArrayList<>();
                for (int round = 0; round < 25; round++) {
                    for (int i = 0; i < texts.size(); i += 8) {
                        List<String> chunk = texts.subList(i, i + 8);
                        futures.add(pool.submit((Callable<List<Prediction>>) () -> session.scoreTexts(chunk)));
                    }
                }
                for (int f = 0; f < futures.size(); f++) {
                    List<Prediction> got = futures.get(f).get(60, TimeUnit.SECONDS);
                    List<Prediction> want = expected.get(f % expected.size());
                    for (int i = 0; i < got.size(); i++) {
                        assertThat(got.get(i).probabilities())
                                .containsExactly(want.get(i).probabilities());
                    }
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(session.batchesScored() - warmUpBatches).isEqualTo(8 + 25 * 8);
        }
    }

    @Test
    void closeIsDeferredUntilTheInFlightBatchReturns() throws Exception {
        ScoringSession session =
                ScoringSession.open(bundle("slow", new TinyBundles.Spec().slow(40)), RuntimeOptions.cpu());
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            List<String> texts = TinyBundles.sampleTexts(256);
            Future<List<Prediction>> running = pool.submit(() -> session.scoreTexts(texts));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (session.inFlight() == 0 && !running.isDone() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            session.close();
            assertThat(running.isDone())
                    .as("the slow batch must still be running when close() is called")
                    .isFalse();
            assertThat(session.isClosed()).isFalse();
            assertThatThrownBy(() -> session.scoreTexts(List.of("after close")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
            assertThat(running.get(60, TimeUnit.SECONDS)).hasSize(256);
            assertThat(session.isClosed()).isTrue();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void unreadableModel() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("garbage"), new TinyBundles.Spec());
        Files.write(dir.resolve("model.onnx"), "this is not an onnx graph".getBytes());
        TinyBundles.writeManifest(dir, new TinyBundles.Spec());
        // the graph is parsed when the bundle is verified, before ONNX Runtime sees it
        assertThatThrownBy(() -> BundleLoader.verify(dir.toUri(), dir, null))
                .isInstanceOf(BundleException.class)
                .extracting(e -> ((BundleException) e).reason())
                .isEqualTo(BundleException.Reason.UNREADABLE_MODEL);
    }

    @Test
    void missingInput() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec();
        spec.inputIdsName = "ids";
        BundleException e = openFails(spec);
        assertThat(e.reason()).isEqualTo(BundleException.Reason.INPUT_OUTPUT_MISMATCH);
        assertThat(e.getMessage()).contains("input_ids");
    }

    @Test
    void mistypedInput() throws Exception {
        TinyBundles.Spec spec = new TinyBundles.Spec();
        spec.floatInputIds = true;
        BundleException e = openFails(spec);
        assertThat(e.reason()).isEqualTo(BundleException.Reason.INPUT_OUTPUT_MISMATCH);
        assertThat(e.getMessage()).contains("INT64");
    }

    @Test
    void labelCountMustEqualOutputWidth() throws Exception {
        BundleException e = openFails(new TinyBundles.Spec().outputWidth(3));
        assertThat(e.reason()).isEqualTo(BundleException.Reason.LABEL_COUNT_MISMATCH);
        assertThat(e.getMessage()).contains("5 labels").contains("width 3");
    }

    @Test
    void outputsMustBeProbabilities() throws Exception {
        BundleException e = openFails(new TinyBundles.Spec().softmax(false));
        assertThat(e.reason()).isEqualTo(BundleException.Reason.MODEL_OUTPUT_INVALID);
        assertThat(e.getMessage()).contains("Softmax").contains("row ");
    }

    @Test
    void tokenizerThatFailsToLoad() throws Exception {
        Path dir = TinyBundles.write(tmp.resolve("tok"), new TinyBundles.Spec());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\", \"model\": 42}");
        TinyBundles.writeManifest(dir, new TinyBundles.Spec());
        ModelBundle bundle = BundleLoader.verify(dir.toUri(), dir, null);
        assertThatThrownBy(() -> ScoringSession.open(bundle, RuntimeOptions.cpu()))
                .isInstanceOf(BundleException.class)
                .extracting(ex -> ((BundleException) ex).reason())
                .isEqualTo(BundleException.Reason.TOKENIZER_FAILED);
    }

    @Test
    void cudaUnavailableFallsBackToCpuUnlessStrict() throws Exception {
        ModelBundle bundle = bundle("m", new TinyBundles.Spec());
        // The CPU build's addCUDA really throws: this is the production fallback path.
        try (ScoringSession session =
                ScoringSession.open(bundle, RuntimeOptions.defaults().withProvider(ExecutionProvider.CUDA))) {
            assertThat(session.executionProvider()).isEqualTo(ExecutionProvider.CPU);
            assertThat(session.fallbackReason()).isNotBlank();
            assertThat(session.scoreTexts(List.of("still scores"))).hasSize(1);
        }
        assertThatThrownBy(() -> ScoringSession.open(
                        bundle,
                        RuntimeOptions.defaults()
                                .withProvider(ExecutionProvider.CUDA)
                                .withStrict(true)))
                .isInstanceOf(BundleException.class)
                .hasMessageContaining("PROVIDER_UNAVAILABLE")
                .hasMessageContaining("CUDA device 0");
        try (ScoringSession auto = ScoringSession.open(bundle, RuntimeOptions.defaults())) {
            assertThat(auto.executionProvider()).isEqualTo(ExecutionProvider.CPU);
        }
    }
}
