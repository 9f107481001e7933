package org.projntk.residual;

import java.util.Arrays;
import java.util.Objects;
import org.projntk.kernel.KernelMatrix;

/** How far an approximate kernel A is from an exact kernel E of the same shape. */
public final class ResidualStats {
    private ResidualStats() {}

    /**
     * Mean and median of |cos_A(i,j) - cos_E(i,j)| over the entries compared.
     *
     * @param mean the mean residual; NaN when no entry was compared
     * @param median the median residual (of float32-rounded values); NaN when no entry was compared
     * @param count the number of entries compared
     */
    public record CosineResiduals(double mean, double median, long count) {}

    /**
     * The relative Frobenius error, accumulated in double.
     *
     * @param exact E
     * @param approx A, of E's shape
     * @return ||A - E||_F / ||E||_F
     * @throws IllegalArgumentException if the shapes differ or E is all zeros
     */
    public static double relativeFrobenius(KernelMatrix exact, KernelMatrix approx) {
        checkShapes(exact, approx);
        double num = 0;
        double den = 0;
        for (int i = 0; i < exact.rows(); i++) {
            for (int j = 0; j < exact.cols(); j++) {
                double e = exact.get(i, j);
                double d = approx.get(i, j) - e;
                num += d * d;
                den += e * e;
            }
        }
        if (den == 0) {
            throw new IllegalArgumentException("the exact kernel is all zeros: relative error undefined");
        }
        return Math.sqrt(num / den);
    }

    /**
     * Cosine residuals of two square self-kernels: cos(i,j) = K_ij / sqrt(K_ii K_jj), using each kernel's own
     * diagonal. Entries with a non-positive diagonal on either side are skipped, and so is the diagonal itself.
     *
     * @param exact E [n x n]
     * @param approx A [n x n]
     * @return the residuals over the off-diagonal entries
     * @throws IllegalArgumentException if the kernels are not square or differ in shape
     */
    public static CosineResiduals cosineResiduals(KernelMatrix exact, KernelMatrix approx) {
        checkShapes(exact, approx);
        if (!exact.isSquare()) {
            throw new IllegalArgumentException("cosine residuals need square self-kernels (the diagonal), got "
                    + exact.rows() + " x " + exact.cols() + "; use the overload with explicit diagonals");
        }
        int n = exact.rows();
        double[] de = new double[n];
        double[] da = new double[n];
        for (int i = 0; i < n; i++) {
            de[i] = exact.get(i, i);
            da[i] = approx.get(i, i);
        }
        return cosineResiduals(exact, approx, de, de, da, da, true);
    }

    /**
     * Cosine residuals of rectangular kernels, given the self-kernels of the row and column examples for both the
     * exact and the approximate feature maps. With {@code skipDiagonal}, entries i == j are left out.
     *
     * @param exact E [r x c]
     * @param approx A [r x c]
     * @param exactRowDiag E's self-kernel of the r row examples
     * @param exactColDiag E's self-kernel of the c column examples
     * @param approxRowDiag A's self-kernel of the row examples
     * @param approxColDiag A's self-kernel of the column examples
     * @param skipDiagonal whether to leave out i == j (when rows and columns are the same examples)
     * @return the residuals
     * @throws IllegalArgumentException if the shapes or diagonal lengths disagree, or r·c is too large for one array
     */
    public static CosineResiduals cosineResiduals(KernelMatrix exact, KernelMatrix approx,
                                                  double[] exactRowDiag, double[] exactColDiag,
                                                  double[] approxRowDiag, double[] approxColDiag,
                                                  boolean skipDiagonal) {
        checkShapes(exact, approx);
        int r = exact.rows();
        int c = exact.cols();
        if (exactRowDiag.length != r || approxRowDiag.length != r || exactColDiag.length != c || approxColDiag.length != c) {
            throw new IllegalArgumentException("diagonal lengths must match the kernel shape " + r + " x " + c);
        }
        long cap = (long) r * c;
        if (cap > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("kernel too large for an exact median: " + r + " x " + c);
        }
        float[] res = new float[(int) cap];
        int n = 0;
        double sum = 0;
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                if (skipDiagonal && i == j) {
                    continue;
                }
                double ne = exactRowDiag[i] * exactColDiag[j];
                double na = approxRowDiag[i] * approxColDiag[j];
                if (!(ne > 0) || !(na > 0)) {
                    continue;
                }
                double d = Math.abs(approx.get(i, j) / Math.sqrt(na) - exact.get(i, j) / Math.sqrt(ne));
                sum += d;
                res[n++] = (float) d;
            }
        }
        if (n == 0) {
            return new CosineResiduals(Double.NaN, Double.NaN, 0);
        }
        Arrays.sort(res, 0, n);
        double median = (n % 2 == 1) ? res[n / 2] : 0.5 * ((double) res[n / 2 - 1] + res[n / 2]);
        return new CosineResiduals(sum / n, median, n);
    }

    private static void checkShapes(KernelMatrix e, KernelMatrix a) {
        Objects.requireNonNull(e, "exact");
        Objects.requireNonNull(a, "approx");
        if (e.rows() != a.rows() || e.cols() != a.cols()) {
            throw new IllegalArgumentException("kernel shapes differ: exact " + e.rows() + " x " + e.cols()
                    + ", approximation " + a.rows() + " x " + a.cols());
        }
    }
}
