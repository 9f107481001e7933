package org.projntk.kernel;

import java.util.List;

/**
 * A kernel K [rows x cols] seen only through its products with thin matrices, so that the N x N kernel never has to
 * exist. {@link #features} computes K·X through the feature matrices, K·X = D_r Σ_c A_c (B_cᵀ (D_c X)), in
 * O((rows + cols)·K·C·q) time and O((rows + cols)·q) memory; {@link #dense} wraps an in-memory kernel (the oracle).
 * All matrices are float32 row-major arrays; X is [cols x q], G is [rows x q].
 */
public interface KernelOperator {
    int rows();

    int cols();

    /** Z [rows x q] = K·X. */
    float[] times(float[] x, int q);

    /** Kᵀ·G [cols x q]. */
    float[] transposeTimes(float[] g, int q);

    /** True when K = Kᵀ is known structurally (the same operand on both sides), so Kᵀ·G may be computed as K·G. */
    boolean symmetric();

    /** The diagonal K_ii of a square operator. */
    double[] diagonal();

    /** Row i of K, K(x_i, ·), of length cols. */
    default float[] row(int i) {
        if (i < 0 || i >= rows()) {
            throw new IndexOutOfBoundsException("kernel row " + i + " outside [0, " + rows() + ")");
        }
        float[] e = new float[rows()];
        e[i] = 1f;
        return transposeTimes(e, 1);
    }

    /** The dense implementation: products go through the stored N x M matrix. */
    static KernelOperator dense(KernelMatrix k) {
        return new DenseKernelOperator(k);
    }

    /**
     * The matrix-free implementation through the features of the row and column operands (one matrix for pNTK, C for
     * trNTK and eNTK), with the normalisation applied on the fly.
     *
     * @param stdScale for {@link KernelNormalization#STD}: the divisor to use (the train kernel's entry std, so that train and
     *                 test kernels share it), or null to compute it from this kernel (one streamed pass over its tiles,
     *                 O(N·M·K·C) time, no N x M memory)
     */
    static FeatureKernelOperator features(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, KernelKind kind,
                                          KernelNormalization norm, Double stdScale) {
        return new FeatureKernelOperator(rowsOp, colsOp, kind, norm, stdScale);
    }
}
