package org.projntk.torch;

import org.projntk.internal.Blas;
import org.projntk.internal.Native;
import org.projntk.internal.TorchCalls;

/** Facts about the native engine: versions, CUDA, BLAS. */
public final class Runtime {
    private Runtime() {}

    /**
     * The native library's version. Loads the library.
     *
     * @return projntk's own version, e.g. "0.1.0"
     */
    public static String version() {
        Native.ensureLoaded();
        return Native.string("reading the version", TorchCalls::version);
    }

    /**
     * What the native side runs on. Loads the library.
     *
     * @return one-line JSON: libtorch version, whether CUDA is built and available, device count, threads, SIMD level
     */
    public static String info() {
        Native.ensureLoaded();
        return Native.string("reading runtime info", TorchCalls::runtimeInfo);
    }

    /**
     * Sets libtorch's intra-op thread count for the whole process.
     *
     * @param threads at least 1
     * @throws org.projntk.ProjntkException (INVALID_ARGUMENT) for fewer than 1
     */
    public static void setThreads(int threads) {
        Native.ensureLoaded();
        Native.check(TorchCalls.setThreads(threads), "setting " + threads + " threads");
    }

    /** {@return the BLAS the stats and kernel code call, e.g. "OpenBLAS 0.3.21 ... (Zen)", or "java (OpenBLAS not found)"} */
    public static String blas() {
        return Blas.implementation();
    }
}
