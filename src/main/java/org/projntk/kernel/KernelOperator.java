package org.projntk.kernel;

import java.util.List;

/**
 * A kernel K [rows x cols] seen only through its products with thin matrices, so that the N x N kernel never has to
 * exist. {@link #features} computes K·X through the feature matrices, K·X = D_r Σ_c A_c (B_cᵀ (D_c X)), in
 * O((rows + cols)·K·C·q) time and O((rows + cols)·q) memory; {@link #dense} wraps an in-memory kernel (the oracle).
 * All matrices are float32 row-major arrays; X is [cols x q], G is [rows x q]. The implementations here are immutable
 * and every product allocates its own buffers, so one operator may serve several threads at once.
 */
public interface KernelOperator {
    /** {@return the number of kernel rows (N, or N*C for eNTK)} */
    int rows();

    /** {@return the number of kernel columns (M, or M*C for eNTK)} */
    int cols();

    /**
     * Z [rows x q] = K·X.
     *
     * @param x X, row-major [cols x q]
     * @param q the number of right-hand columns, at least 1
     * @return Z, row-major [rows x q], newly allocated
     * @throws IllegalArgumentException when q &lt; 1 or x does not hold cols * q values, or (feature operator) a
     *                                  result is not finite
     */
    float[] times(float[] x, int q);

    /**
     * Kᵀ·G [cols x q].
     *
     * @param g G, row-major [rows x q]
     * @param q the number of right-hand columns, at least 1
     * @return Kᵀ·G, row-major [cols x q], newly allocated
     * @throws IllegalArgumentException when q &lt; 1 or g does not hold rows * q values, or (feature operator) a
     *                                  result is not finite
     */
    float[] transposeTimes(float[] g, int q);

    /** {@return true when K = Kᵀ is known structurally (the same operand on both sides), so Kᵀ·G may be computed as K·G} */
    boolean symmetric();

    /**
     * The diagonal K_ii of a square operator, normalised like the entries.
     *
     * @return rows() values
     * @throws IllegalStateException when the operator is not square, or (for the feature operator) not
     *                               {@link #symmetric()}
     */
    double[] diagonal();

    /**
     * Row i of K, K(x_i, ·), computed as Kᵀ e_i: one product, so prefer {@link #times} for many rows.
     *
     * @param i the row, in [0, rows())
     * @return its cols() values
     * @throws IndexOutOfBoundsException for a row out of range
     */
    default float[] row(int i) {
        if (i < 0 || i >= rows()) {
            throw new IndexOutOfBoundsException("kernel row " + i + " outside [0, " + rows() + ")");
        }
        float[] e = new float[rows()];
        e[i] = 1f;
        return transposeTimes(e, 1);
    }

    /**
     * The dense implementation: products go through the stored N x M matrix (the oracle for tests and small kernels).
     *
     * @param k the kernel, not copied: later writes to it show in the products
     * @return the operator
     */
    static KernelOperator dense(KernelMatrix k) {
        return new DenseKernelOperator(k);
    }

    /**
     * The matrix-free implementation through the features of the row and column operands (one matrix for pNTK, C for
     * trNTK and eNTK), with the normalisation applied on the fly. Building it reads the features once for
     * {@link KernelNormalization#COSINE} or a shared operand (the self-kernels), and once more for STD without a scale.
     *
     * @param rowsOp   the row operand's feature matrices, read at every product (keep them readable)
     * @param colsOp   the column operand's feature matrices; the same list as rowsOp makes a symmetric operator
     * @param kind     how the per-class matrices combine
     * @param norm     the normalisation
     * @param stdScale for {@link KernelNormalization#STD}: the divisor to use (the train kernel's entry std, so that train and
     *                 test kernels share it), or null to compute it from this kernel (one streamed pass over its tiles,
     *                 O(N·M·K·C) time, no N x M memory)
     * @return the operator
     * @throws IllegalArgumentException for operands of mismatched shapes, more than Integer.MAX_VALUE / 64 kernel rows
     *                                  or columns, non-finite features, or STD entries with zero or non-finite spread
     */
    static FeatureKernelOperator features(List<FeatureMatrix> rowsOp, List<FeatureMatrix> colsOp, KernelKind kind,
                                          KernelNormalization norm, Double stdScale) {
        return new FeatureKernelOperator(rowsOp, colsOp, kind, norm, stdScale);
    }
}
