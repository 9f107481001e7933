package org.projntk.surrogate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.projntk.stats.KendallTau;

/**
 * How faithful a kernel surrogate is to the network on the test set of T examples. Each component's JSON key in
 * {@link #toJson()} is its snake_case name. Accuracies and agreement lie in [0, 1], τ values in [-1, 1]; a value that
 * cannot be computed (no examples, a constant ranking) is NaN. The lists are not copied.
 *
 * @param networkTestAccuracy            the network's accuracy against the true labels
 * @param surrogateTestAccuracy          the surrogate's accuracy against the true labels
 * @param accuracyDifferential           surrogate minus network accuracy
 * @param kendallTau                     the paper's τ, {@link KendallTau#trueClassMasked}: τ-b between the network's and
 *                                       the surrogate's softmax probability of the TRUE class, leaving out examples
 *                                       where either is exactly 0 or 1
 * @param kendallTauMaskedCount          the examples {@code kendallTau} left out
 * @param kendallTauPredicted            τ-b between the two softmax probabilities of the NETWORK's predicted class,
 *                                       one value per test example, unmasked
 * @param kendallTauPredictedLogit       the same with logits instead of probabilities
 * @param kendallTauFlatLogits           τ-b over all T·C logits, flattened
 * @param kendallTauTrueClassProbability τ-b over the softmax probability of the TRUE class, unmasked
 * @param agreement                      the fraction of test examples where both predict the same class
 * @param testSize                       T
 * @param classes                        C
 * @param networkPerClass                the network's metrics per class, in class order
 * @param surrogatePerClass              the surrogate's metrics per class, in class order
 * @param fit                            how the GLM fit went, or null
 */
public record SurrogateReport(
        double networkTestAccuracy,
        double surrogateTestAccuracy,
        double accuracyDifferential,
        double kendallTau,
        int kendallTauMaskedCount,
        double kendallTauPredicted,
        double kendallTauPredictedLogit,
        double kendallTauFlatLogits,
        double kendallTauTrueClassProbability,
        double agreement,
        int testSize,
        int classes,
        List<ClassMetrics> networkPerClass,
        List<ClassMetrics> surrogatePerClass,
        KernelGlm.FitInfo fit) {

    /**
     * Computes the report from the two sets of test logits.
     *
     * @param networkLogits   [T x C] row-major network logits on the test set
     * @param surrogateLogits [T x C] row-major surrogate logits on the test set
     * @param trueLabels      [T] ground truth, each in [0, classes)
     * @param classes         C, at least 2
     * @param fit             the surrogate's fit information (may be null)
     * @return the report
     * @throws IllegalArgumentException for fewer than 2 classes, logits of the wrong length or not finite, or a label
     *                                  out of range
     */
    public static SurrogateReport evaluate(double[] networkLogits, double[] surrogateLogits, int[] trueLabels,
                                           int classes, KernelGlm.FitInfo fit) {
        int t = trueLabels.length;
        if (classes < 2) {
            throw new IllegalArgumentException("need at least 2 classes, got " + classes);
        }
        if (networkLogits.length != (long) t * classes || surrogateLogits.length != (long) t * classes) {
            throw new IllegalArgumentException("logits must be [" + t + " x " + classes + "]: network has "
                    + networkLogits.length + " values, surrogate " + surrogateLogits.length);
        }
        for (int i = 0; i < networkLogits.length; i++) {
            if (!Double.isFinite(networkLogits[i]) || !Double.isFinite(surrogateLogits[i])) {
                throw new IllegalArgumentException("non-finite logit for test example " + (i / classes));
            }
        }
        int[] netPred = KernelGlm.argmax(networkLogits, classes);
        int[] surPred = KernelGlm.argmax(surrogateLogits, classes);
        double[] netP = softmax(networkLogits, classes);
        double[] surP = softmax(surrogateLogits, classes);
        double[] a = new double[t];
        double[] b = new double[t];
        double[] al = new double[t];
        double[] bl = new double[t];
        double[] at = new double[t];
        double[] bt = new double[t];
        int agree = 0;
        for (int i = 0; i < t; i++) {
            int c = netPred[i];
            a[i] = netP[i * classes + c];
            b[i] = surP[i * classes + c];
            al[i] = networkLogits[i * classes + c];
            bl[i] = surrogateLogits[i * classes + c];
            at[i] = netP[i * classes + trueLabels[i]];
            bt[i] = surP[i * classes + trueLabels[i]];
            agree += netPred[i] == surPred[i] ? 1 : 0;
        }
        List<ClassMetrics> netM = ClassMetrics.of(netPred, trueLabels, classes);
        List<ClassMetrics> surM = ClassMetrics.of(surPred, trueLabels, classes);
        double netAcc = ClassMetrics.accuracy(netPred, trueLabels);
        double surAcc = ClassMetrics.accuracy(surPred, trueLabels);
        int masked = 0;
        for (int i = 0; i < t; i++) masked += at[i] == 0 || at[i] == 1 || bt[i] == 0 || bt[i] == 1 ? 1 : 0;
        return new SurrogateReport(netAcc, surAcc, surAcc - netAcc,
                KendallTau.trueClassMasked(netP, surP, trueLabels, classes), masked, KendallTau.tauB(a, b), KendallTau.tauB(al, bl), KendallTau.tauB(networkLogits, surrogateLogits),
                KendallTau.tauB(at, bt), t == 0 ? Double.NaN : (double) agree / t, t, classes, netM, surM, fit);
    }

    static double[] softmax(double[] logits, int c) {
        double[] p = new double[logits.length];
        for (int i = 0; i < logits.length / c; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int q = 0; q < c; q++) {
                max = Math.max(max, logits[i * c + q]);
            }
            double s = 0;
            for (int q = 0; q < c; q++) {
                p[i * c + q] = Math.exp(logits[i * c + q] - max);
                s += p[i * c + q];
            }
            for (int q = 0; q < c; q++) {
                p[i * c + q] /= s;
            }
        }
        return p;
    }

    /**
     * The report as indented JSON: every component under its snake_case key (per-class recall as {@code accuracy}),
     * with definitions of the τ variants; NaN becomes null.
     *
     * @return the JSON text
     */
    public String toJson() {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode o = om.createObjectNode();
        put(o, "network_test_accuracy", networkTestAccuracy);
        put(o, "surrogate_test_accuracy", surrogateTestAccuracy);
        put(o, "accuracy_differential", accuracyDifferential);
        put(o, "kendall_tau", kendallTau);
        o.put("kendall_tau_definition", "tau-b between network and surrogate softmax probability of the true class, "
                + "examples where either is exactly 0 or 1 left out (pnnl/projection_ntk)");
        o.put("kendall_tau_masked", kendallTauMaskedCount);
        put(o, "kendall_tau_predicted", kendallTauPredicted);
        o.put("kendall_tau_predicted_definition", "tau-b between network and surrogate softmax probability of the network's predicted class, per test example");
        put(o, "kendall_tau_predicted_logit", kendallTauPredictedLogit);
        put(o, "kendall_tau_flat_logits", kendallTauFlatLogits);
        put(o, "kendall_tau_true_class_probability", kendallTauTrueClassProbability);
        put(o, "agreement", agreement);
        o.put("test_size", testSize);
        o.put("classes", classes);
        o.put("per_class_accuracy_definition", "recall: the fraction of the class's test examples classified as that class; "
                + "one_vs_rest_accuracy is (TP + TN) / n over all test examples");
        o.set("network_per_class", perClass(om, networkPerClass));
        o.set("surrogate_per_class", perClass(om, surrogatePerClass));
        if (fit != null) {
            ObjectNode f = o.putObject("fit");
            f.put("iterations", fit.iterations());
            f.put("evaluations", fit.evaluations());
            f.put("products", fit.products());
            put(f, "objective", fit.objective());
            put(f, "gradient_inf_norm", fit.gradientInfNorm());
            put(f, "effective_lambda", fit.effectiveLambda());
            f.put("converged", fit.converged());
            put(f, "train_fit_accuracy", fit.trainAccuracy());
            put(f, "seconds", fit.seconds());
        }
        try {
            return om.writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise the surrogate report", e);
        }
    }

    private static ArrayNode perClass(ObjectMapper om, List<ClassMetrics> ms) {
        ArrayNode a = om.createArrayNode();
        for (ClassMetrics m : ms) {
            ObjectNode n = a.addObject();
            n.put("class", m.classIndex());
            n.put("support", m.support());
            n.put("predicted", m.predicted());
            put(n, "accuracy", m.recall());
            put(n, "precision", m.precision());
            put(n, "one_vs_rest_accuracy", m.oneVsRestAccuracy());
        }
        return a;
    }

    private static void put(ObjectNode o, String k, double v) {
        if (Double.isFinite(v)) {
            o.put(k, v);
        } else {
            o.putNull(k);
        }
    }
}
