package org.projntk.surrogate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.projntk.stats.KendallTau;

/** The paper's τ (true class, saturated examples masked) and the predicted-class τ, against an O(n²) τ-b. */
class KendallTauDefinitionsTest {

    /** τ-b by counting every pair. */
    static double naiveTauB(List<Double> x, List<Double> y) {
        long conc = 0, disc = 0, tx = 0, ty = 0;
        for (int i = 0; i < x.size(); i++) {
            for (int j = i + 1; j < x.size(); j++) {
                int sx = Double.compare(x.get(i), x.get(j));
                int sy = Double.compare(y.get(i), y.get(j));
                if (sx == 0 && sy == 0) continue;
                if (sx == 0) tx++;
                else if (sy == 0) ty++;
                else if (sx == sy) conc++;
                else disc++;
            }
        }
        return (conc - disc) / Math.sqrt((double) (conc + disc + tx) * (conc + disc + ty));
    }

    /** Row-wise softmax in fp64 as exp(l - logsumexp(row)), written here rather than taken from the code under test. */
    static double[] referenceSoftmax(double[] logits, int classes) {
        double[] p = new double[logits.length];
        for (int row = 0; row < logits.length / classes; row++) {
            double top = Double.NEGATIVE_INFINITY;
            for (int q = 0; q < classes; q++) top = Math.max(top, logits[row * classes + q]);
            double sum = 0;
            for (int q = 0; q < classes; q++) sum += Math.exp(logits[row * classes + q] - top);
            double logSumExp = top + Math.log(sum);
            for (int q = 0; q < classes; q++) p[row * classes + q] = Math.exp(logits[row * classes + q] - logSumExp);
        }
        return p;
    }

    /** The first class with the largest logit of each row. */
    static int[] referenceArgmax(double[] logits, int classes) {
        int[] out = new int[logits.length / classes];
        for (int row = 0; row < out.length; row++) {
            int best = 0;
            for (int q = 1; q < classes; q++) {
                if (logits[row * classes + q] > logits[row * classes + best]) best = q;
            }
            out[row] = best;
        }
        return out;
    }

    @Test
    void bothDefinitionsMatchTheirNaiveReadings() throws Exception {
        Random r = new Random(41);
        int t = 400, c = 5;
        double[] net = new double[t * c];
        double[] sur = new double[t * c];
        int[] truth = new int[t];
        for (int i = 0; i < t; i++) {
            truth[i] = r.nextInt(c);
            for (int q = 0; q < c; q++) {
                net[i * c + q] = 3 * r.nextGaussian();
                sur[i * c + q] = net[i * c + q] + r.nextGaussian();
            }
            if (i % 10 == 0) net[i * c + truth[i]] = 800;   // softmax saturates: p(true) == 1 exactly
            if (i % 13 == 0) sur[i * c + truth[i]] = -800;  // p(true) == 0 exactly
        }
        double[] pn = referenceSoftmax(net, c);
        double[] ps = referenceSoftmax(sur, c);
        int[] netPred = referenceArgmax(net, c);
        List<Double> xt = new ArrayList<>(), yt = new ArrayList<>(), xp = new ArrayList<>(), yp = new ArrayList<>();
        int masked = 0;
        for (int i = 0; i < t; i++) {
            double a = pn[i * c + truth[i]], b = ps[i * c + truth[i]];
            if (a == 0 || a == 1 || b == 0 || b == 1) {
                masked++;
            } else {
                xt.add(a);
                yt.add(b);
            }
            xp.add(pn[i * c + netPred[i]]);
            yp.add(ps[i * c + netPred[i]]);
        }
        assertEquals(40 + 31 - 4, masked); // multiples of 10, of 13, minus those of 130
        SurrogateReport rep = SurrogateReport.evaluate(net, sur, truth, c, null);
        assertEquals(naiveTauB(xt, yt), rep.kendallTau(), 1e-12);
        assertEquals(masked, rep.kendallTauMaskedCount());
        assertEquals(naiveTauB(xp, yp), rep.kendallTauPredicted(), 1e-12);
        assertNotEquals(rep.kendallTau(), rep.kendallTauTrueClassProbability()); // the unmasked one sees the saturated rows
        JsonNode j = new ObjectMapper().readTree(rep.toJson());
        assertEquals(rep.kendallTau(), j.get("kendall_tau").asDouble(), 1e-15);
        assertEquals(rep.kendallTauPredicted(), j.get("kendall_tau_predicted").asDouble(), 1e-15);
        assertEquals(masked, j.get("kendall_tau_masked").asInt());
        assertEquals(rep.accuracyDifferential(), j.get("accuracy_differential").asDouble(), 1e-15);
    }

    @Test
    void rejectsMisshapenInput() {
        assertThrows(IllegalArgumentException.class, () -> KendallTau.trueClassMasked(new double[6], new double[6], new int[] {0, 1, 2}, 3));
        assertThrows(IllegalArgumentException.class, () -> KendallTau.trueClassMasked(new double[6], new double[6], new int[] {0, 5}, 3));
    }
}
