package org.projntk.kernel;

import java.util.Objects;

/** K·X through an in-memory kernel: O(N·M·q) per product and N·M floats of memory. The reference for the matrix-free one. */
final class DenseKernelOperator implements KernelOperator {
    private final KernelMatrix k;
    private final boolean symmetric;

    DenseKernelOperator(KernelMatrix k) {
        this.k = Objects.requireNonNull(k, "kernel");
        this.symmetric = k.isSquare() && isSymmetric(k);
    }

    @Override
    public int rows() {
        return k.rows();
    }

    @Override
    public int cols() {
        return k.cols();
    }

    @Override
    public boolean symmetric() {
        return symmetric;
    }

    @Override
    public float[] times(float[] x, int q) {
        return KernelProducts.times(k, x, q);
    }

    @Override
    public float[] transposeTimes(float[] g, int q) {
        // OpenBLAS's transposed product with a thin operand runs several times slower than the plain one
        return symmetric ? KernelProducts.times(k, g, q) : KernelProducts.transposeTimes(k, g, q);
    }

    @Override
    public double[] diagonal() {
        if (!k.isSquare()) throw new IllegalStateException("the diagonal of a " + k.rows() + " x " + k.cols() + " kernel");
        double[] d = new double[k.rows()];
        for (int i = 0; i < d.length; i++) d[i] = k.get(i, i);
        return d;
    }

    @Override
    public float[] row(int i) {
        return k.row(i);
    }

    private static boolean isSymmetric(KernelMatrix k) {
        int n = k.rows();
        double scale = 0;
        for (int i = 0; i < n; i++) scale = Math.max(scale, Math.abs(k.get(i, i)));
        double tol = 1e-5 * Math.max(scale, Float.MIN_NORMAL);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                if (Math.abs(k.get(i, j) - k.get(j, i)) > tol) return false;
            }
        }
        return true;
    }
}
