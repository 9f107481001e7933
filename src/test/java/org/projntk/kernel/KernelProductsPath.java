package org.projntk.kernel;

/** For tests in other packages: which path the dense kernel's products take (null: OpenBLAS when present). */
public final class KernelProductsPath {
    private KernelProductsPath() {}

    /** true: sgemm (the Java Blas without OpenBLAS); false: the parallel Java loops; null: the default. */
    public static void force(Boolean blas) {
        KernelProducts.forceBlas = blas;
    }
}
