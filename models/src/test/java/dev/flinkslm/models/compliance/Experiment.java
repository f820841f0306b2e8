package dev.flinkslm.models.compliance;

import dev.flinkslm.models.compliance.internal.*;
import java.util.List;

/** Scratch experiment runner (not a test). */
public class Experiment {
    public static void main(String[] a) throws Exception {
        List<LabeledText> corpus = LabeledText.readResource("dev/flinkslm/models/compliance/compliance-corpus.jsonl");
        long t0 = System.nanoTime();
        float[][] emb = cached(corpus);
        System.out.println("embed ms " + (System.nanoTime() - t0) / 1e6);
        t0 = System.nanoTime();
        var r = ComplianceTraining.train(corpus, emb, Integer.parseInt(a.length > 0 ? a[0] : "400"));
        System.out.println("train ms " + (System.nanoTime() - t0) / 1e6 + " " + r.validationMacroF1() + " l2=" + r.l2());
        var test = ComplianceTraining.indices(corpus, "test");
        ComplianceTraining.evaluate(r.head(), ComplianceTraining.rows(emb, test), ComplianceTraining.labels(corpus, test)).print(System.out);
        if (a.length > 1) {
            List<LabeledText> ev = LabeledText.read(java.nio.file.Path.of(a[1]));
            float[][] e2 = ComplianceTraining.embed(ev, Precision.FP32);
            int[] y = ev.stream().mapToInt(t -> ComplianceLabels.indexOf(t.label())).toArray();
            ComplianceTraining.evaluate(r.head(), e2, y).print(System.out);
            for (int i = 0; i < ev.size(); i++) {
                int p = r.head().predict(e2[i]);
                if (p != y[i]) System.out.println("MISS gold=" + ev.get(i).label() + " pred=" + ComplianceLabels.ALL.get(p) + " : " + ev.get(i).text());
            }
        }
    }
    static float[][] cached(List<LabeledText> corpus) throws Exception {
        java.nio.file.Path f = java.nio.file.Path.of("/tmp/corpus-emb-" + corpus.hashCode() + ".bin");
        if (java.nio.file.Files.exists(f)) {
            try (var in = new java.io.DataInputStream(new java.io.BufferedInputStream(java.nio.file.Files.newInputStream(f)))) {
                float[][] e = new float[corpus.size()][384];
                for (float[] r : e) for (int d = 0; d < 384; d++) r[d] = in.readFloat();
                return e;
            }
        }
        float[][] e = ComplianceTraining.embed(corpus, Precision.FP32);
        try (var out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(java.nio.file.Files.newOutputStream(f)))) {
            for (float[] r : e) for (float v : r) out.writeFloat(v);
        }
        return e;
    }
}
