package org.projntk.surrogate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.projntk.kernel.KernelMatrix;

class SurrogateReportTest {
    @Test
    void handCheckedMetrics() throws Exception {
        // 4 examples, 2 classes. truth: 0 0 1 1. network predicts 0 0 1 0 (3/4); surrogate 0 1 1 1 (3/4).
        double[] net = {2, 0, 1, 0, 0, 1, 3, 0};
        double[] sur = {1, 0, 0, 1, 0, 2, 0, 1};
        int[] truth = {0, 0, 1, 1};
        SurrogateReport rep = SurrogateReport.evaluate(net, sur, truth, 2, null);
        assertEquals(0.75, rep.networkTestAccuracy());
        assertEquals(0.75, rep.surrogateTestAccuracy());
        assertEquals(0.0, rep.accuracyDifferential());
        assertEquals(0.5, rep.agreement());
        // network class 0: predicted 3 (TP 2), support 2 -> precision 2/3, recall 1, one-vs-rest accuracy 3/4
        ClassMetrics m0 = rep.networkPerClass().get(0);
        assertEquals(2.0 / 3, m0.precision(), 1e-15);
        assertEquals(1.0, m0.recall());
        assertEquals(0.75, m0.oneVsRestAccuracy());
        ClassMetrics s1 = rep.surrogatePerClass().get(1);
        assertEquals(2.0 / 3, s1.precision(), 1e-15);
        assertEquals(1.0, s1.recall());
        JsonNode j = new ObjectMapper().readTree(rep.toJson());
        for (String key : new String[] {"network_test_accuracy", "surrogate_test_accuracy", "accuracy_differential",
                "kendall_tau", "kendall_tau_flat_logits", "kendall_tau_predicted_logit", "network_per_class"}) {
            assertNotNull(j.get(key), key);
        }
        assertEquals(0.75, j.get("network_test_accuracy").asDouble());
    }

    @Test
    void tauIsOneForAPerExampleShiftOfTheLogits() {
        Random r = new Random(31);
        int t = 50;
        int c = 4;
        double[] net = new double[t * c];
        double[] sur = new double[t * c];
        int[] truth = new int[t];
        for (int i = 0; i < t; i++) {
            truth[i] = r.nextInt(c);
            double shift = r.nextGaussian() * 5;
            for (int q = 0; q < c; q++) {
                net[i * c + q] = r.nextGaussian();
                sur[i * c + q] = net[i * c + q] + shift; // same softmax, different logits
            }
        }
        SurrogateReport rep = SurrogateReport.evaluate(net, sur, truth, c, null);
        assertEquals(1.0, rep.kendallTau(), 1e-12);
        assertEquals(1.0, rep.kendallTauTrueClassProbability(), 1e-12);
        assertEquals(1.0, rep.agreement());
        assertEquals(0.0, rep.accuracyDifferential());
        assertTrue(rep.kendallTauFlatLogits() < 0.9, "flat logits tau " + rep.kendallTauFlatLogits());
    }

    @Test
    void endToEndWithAFittedSurrogateAndExplanations() {
        Random r = new Random(32);
        int n = 60;
        int c = 3;
        KernelMatrix k = KernelGlmTest.randomPsd(r, n, 8);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(c);
        }
        KernelGlm glm = KernelGlm.fit(k, y, c, KernelGlm.Options.defaults());
        float[] row = k.row(5);
        Explanations.Explanation ex = Explanations.explain(glm, row, -1, 4);
        assertEquals(KernelGlm.argmax(glm.logits(k), c)[5], ex.predictedClass());
        // contributions sum (over all train examples) plus bias is the logit
        double sum = glm.bias(ex.predictedClass());
        double maxC = Double.NEGATIVE_INFINITY;
        double minC = Double.POSITIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            double v = (double) glm.weight(j, ex.predictedClass()) * row[j];
            sum += v;
            maxC = Math.max(maxC, v);
            minC = Math.min(minC, v);
        }
        assertEquals(sum, ex.logit(), 1e-9 * Math.max(1, Math.abs(sum)));
        assertEquals(glm.logits(k)[5 * c + ex.predictedClass()], ex.logit(), 1e-3 * Math.max(1, Math.abs(sum)));
        assertEquals(maxC, ex.supporting()[0].contribution(), 0);
        assertEquals(minC, ex.opposing()[0].contribution(), 0);
        for (int t = 1; t < 4; t++) {
            assertTrue(ex.supporting()[t].contribution() <= ex.supporting()[t - 1].contribution());
            assertTrue(ex.opposing()[t].contribution() >= ex.opposing()[t - 1].contribution());
        }
        assertThrows(IllegalArgumentException.class, () -> Explanations.explain(glm, new float[3], 0, 2));
    }

    @Test
    void rejectsMismatchedShapes() {
        assertThrows(IllegalArgumentException.class,
                () -> SurrogateReport.evaluate(new double[6], new double[8], new int[4], 2, null));
        assertThrows(IllegalArgumentException.class,
                () -> SurrogateReport.evaluate(new double[] {0, Double.NaN}, new double[2], new int[1], 2, null));
    }

    /** Per class c, by counting: the fraction of class-c rows predicted c, and the one-vs-rest (TP + TN) / n. */
    static double[][] naivePerClass(int[] predicted, int[] truth, int classes) {
        double[][] out = new double[classes][2];
        for (int c = 0; c < classes; c++) {
            int ofClass = 0, right = 0, agreeOnIsC = 0;
            for (int i = 0; i < truth.length; i++) {
                if (truth[i] == c) {
                    ofClass++;
                    if (predicted[i] == c) right++;
                }
                if ((truth[i] == c) == (predicted[i] == c)) agreeOnIsC++;
            }
            out[c][0] = (double) right / ofClass;
            out[c][1] = (double) agreeOnIsC / truth.length;
        }
        return out;
    }

    @Test
    void perClassAccuracyIsRecallNotOneVsRest() throws Exception {
        Random r = new Random(7);
        int t = 600, c = 6;
        double[] net = new double[t * c];
        double[] sur = new double[t * c];
        int[] truth = new int[t];
        int[] netPred = new int[t];
        int[] surPred = new int[t];
        for (int i = 0; i < t; i++) {
            truth[i] = r.nextInt(c);
            // the network is right 80% of the time, the surrogate 60%; otherwise a random class wins by a margin
            netPred[i] = r.nextDouble() < 0.8 ? truth[i] : r.nextInt(c);
            surPred[i] = r.nextDouble() < 0.6 ? truth[i] : r.nextInt(c);
            for (int q = 0; q < c; q++) {
                net[i * c + q] = r.nextGaussian();
                sur[i * c + q] = r.nextGaussian();
            }
            net[i * c + netPred[i]] += 10;
            sur[i * c + surPred[i]] += 10;
        }
        SurrogateReport rep = SurrogateReport.evaluate(net, sur, truth, c, null);
        double[][] wantNet = naivePerClass(netPred, truth, c);
        double[][] wantSur = naivePerClass(surPred, truth, c);
        JsonNode j = new ObjectMapper().readTree(rep.toJson());
        List<String> text = Surrogates.describe(rep);
        for (int q = 0; q < c; q++) {
            assertEquals(wantNet[q][0], rep.networkPerClass().get(q).recall(), 1e-15);
            assertEquals(wantSur[q][0], rep.surrogatePerClass().get(q).recall(), 1e-15);
            assertEquals(wantNet[q][1], rep.networkPerClass().get(q).oneVsRestAccuracy(), 1e-15);
            assertEquals(wantSur[q][1], rep.surrogatePerClass().get(q).oneVsRestAccuracy(), 1e-15);
            JsonNode n = j.get("network_per_class").get(q);
            JsonNode s = j.get("surrogate_per_class").get(q);
            assertEquals(wantNet[q][0], n.get("accuracy").asDouble(), 1e-15);
            assertEquals(wantSur[q][0], s.get("accuracy").asDouble(), 1e-15);
            assertEquals(wantNet[q][1], n.get("one_vs_rest_accuracy").asDouble(), 1e-15);
            assertEquals(wantSur[q][1], s.get("one_vs_rest_accuracy").asDouble(), 1e-15);
            String line = String.format(Locale.ROOT, "  class %d: %.3f / %.3f", q, wantNet[q][0], wantSur[q][0]);
            assertTrue(text.stream().anyMatch(l -> l.startsWith(line)), line + " in " + text);
        }
        assertTrue(text.stream().anyMatch(l -> l.startsWith("per-class accuracy (recall")), text.toString());
        assertTrue(j.get("per_class_accuracy_definition").asText().startsWith("recall"));
    }
}
