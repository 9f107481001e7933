package org.projntk.surrogate;

import java.util.ArrayList;
import java.util.List;

/**
 * Metrics of class c over n examples. {@code recall} = TP/(TP+FN), the fraction of class-c examples classified correctly:
 * this is the class's accuracy. {@code precision} = TP/(TP+FP). {@code oneVsRestAccuracy} = (TP+TN)/n, the accuracy of
 * the binary question "is it c?" over all n examples, which the other classes' true negatives push towards 1.
 * Recall and precision are NaN when their denominator is 0.
 *
 * @param classIndex        the class c, from 0
 * @param support           the examples whose true class is c (TP + FN)
 * @param predicted         the examples predicted as c (TP + FP)
 * @param recall            TP/(TP+FN) in [0, 1], or NaN
 * @param precision         TP/(TP+FP) in [0, 1], or NaN
 * @param oneVsRestAccuracy (TP+TN)/n in [0, 1], or NaN for no examples
 */
public record ClassMetrics(int classIndex, int support, int predicted, double recall, double precision,
                           double oneVsRestAccuracy) {

    /**
     * Metrics of predictions against true labels for every class.
     *
     * @param predicted the predicted class of each example
     * @param truth     the true class of each example, as many as predicted
     * @param classes   the number of classes; every value must lie in [0, classes)
     * @return one entry per class, in class order
     * @throws IllegalArgumentException for arrays of different lengths, or a value outside [0, classes)
     */
    public static List<ClassMetrics> of(int[] predicted, int[] truth, int classes) {
        if (predicted.length != truth.length) {
            throw new IllegalArgumentException("predictions (" + predicted.length + ") and labels (" + truth.length + ") differ in length");
        }
        int n = truth.length;
        int[] tp = new int[classes];
        int[] support = new int[classes];
        int[] pred = new int[classes];
        for (int i = 0; i < n; i++) {
            check(truth[i], classes, "label", i);
            check(predicted[i], classes, "prediction", i);
            support[truth[i]]++;
            pred[predicted[i]]++;
            if (truth[i] == predicted[i]) {
                tp[truth[i]]++;
            }
        }
        List<ClassMetrics> out = new ArrayList<>(classes);
        for (int c = 0; c < classes; c++) {
            int fp = pred[c] - tp[c];
            int fn = support[c] - tp[c];
            int tn = n - tp[c] - fp - fn;
            out.add(new ClassMetrics(c, support[c], pred[c], support[c] == 0 ? Double.NaN : (double) tp[c] / support[c],
                    pred[c] == 0 ? Double.NaN : (double) tp[c] / pred[c],
                    n == 0 ? Double.NaN : (double) (tp[c] + tn) / n));
        }
        return out;
    }

    /**
     * The fraction of examples predicted correctly.
     *
     * @param predicted the predicted class of each example
     * @param truth     the true class of each example, as many as predicted
     * @return the accuracy in [0, 1], or NaN for no examples
     * @throws IllegalArgumentException for arrays of different lengths
     */
    public static double accuracy(int[] predicted, int[] truth) {
        if (predicted.length != truth.length) {
            throw new IllegalArgumentException("predictions (" + predicted.length + ") and labels (" + truth.length + ") differ in length");
        }
        if (truth.length == 0) {
            return Double.NaN;
        }
        int ok = 0;
        for (int i = 0; i < truth.length; i++) {
            ok += predicted[i] == truth[i] ? 1 : 0;
        }
        return (double) ok / truth.length;
    }

    private static void check(int v, int classes, String what, int i) {
        if (v < 0 || v >= classes) {
            throw new IllegalArgumentException(what + " " + v + " at index " + i + " is outside [0, " + classes + ")");
        }
    }
}
