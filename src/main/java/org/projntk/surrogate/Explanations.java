package org.projntk.surrogate;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Objects;

/**
 * Explain-by-example with a fitted {@link KernelGlm}: for a test example x and class c, the contribution of train
 * example j to logit c is W[j,c]·K(x, x_j) (the logit is their sum plus b_c). Stateless; safe from any thread.
 */
public final class Explanations {
    private Explanations() {}

    /**
     * A train example and its contribution.
     *
     * @param trainIndex   the train example, a row of the train split (from 0)
     * @param contribution weight × kernelValue, its share of the logit
     * @param kernelValue  K(x, x_j), as the kernel row gave it
     * @param weight       the surrogate's weight W[j, c]
     */
    public record Contribution(int trainIndex, double contribution, double kernelValue, double weight) {}

    /**
     * The k largest (supporting) and k smallest (opposing) contributions, each ordered from the most extreme (ties by
     * the lower train index among the supporting ones). The arrays are not copied.
     *
     * @param predictedClass the class explained
     * @param logit          its logit: the sum of all contributions plus the bias b_c
     * @param supporting     the min(k, N) largest contributions, largest first
     * @param opposing       the min(k, N) smallest contributions, smallest first
     */
    public record Explanation(int predictedClass, double logit, Contribution[] supporting, Contribution[] opposing) {}

    /**
     * Ranks the train examples' contributions to one class's logit for one test example.
     *
     * @param glm       the fitted surrogate
     * @param kernelRow K(x, train) for one test example, length N_train, with the normalisation the fit used
     * @param cls       the class to explain (normally the surrogate's predicted class; -1 picks it)
     * @param k         the contributions kept each way, at least 1
     * @return the explanation
     * @throws IllegalArgumentException for a kernel row of the wrong length, k &lt; 1 or a class out of range
     */
    public static Explanation explain(KernelGlm glm, float[] kernelRow, int cls, int k) {
        Objects.requireNonNull(glm, "glm");
        Objects.requireNonNull(kernelRow, "kernelRow");
        int n = glm.trainSize();
        if (kernelRow.length != n) {
            throw new IllegalArgumentException("kernel row has " + kernelRow.length + " values, the surrogate has " + n
                    + " train examples");
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        if (cls < 0) {
            double best = Double.NEGATIVE_INFINITY;
            for (int q = 0; q < glm.classes(); q++) {
                double z = logit(glm, kernelRow, q);
                if (z > best) {
                    best = z;
                    cls = q;
                }
            }
        } else if (cls >= glm.classes()) {
            throw new IllegalArgumentException("class " + cls + " outside [0, " + glm.classes() + ")");
        }
        final int c = cls;
        Contribution[] all = new Contribution[n];
        for (int j = 0; j < n; j++) {
            double w = glm.weight(j, c);
            all[j] = new Contribution(j, w * kernelRow[j], kernelRow[j], w);
        }
        Comparator<Contribution> desc = Comparator.comparingDouble(Contribution::contribution).reversed()
                .thenComparingInt(Contribution::trainIndex);
        Arrays.sort(all, desc);
        int kk = Math.min(k, n);
        Contribution[] top = Arrays.copyOfRange(all, 0, kk);
        Contribution[] bottom = new Contribution[kk];
        for (int t = 0; t < kk; t++) {
            bottom[t] = all[n - 1 - t];
        }
        return new Explanation(c, logit(glm, kernelRow, c), top, bottom);
    }

    private static double logit(KernelGlm glm, float[] row, int c) {
        double s = glm.bias(c);
        for (int j = 0; j < row.length; j++) {
            s += (double) glm.weight(j, c) * row[j];
        }
        return s;
    }
}
