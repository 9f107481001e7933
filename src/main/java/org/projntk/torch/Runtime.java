package org.projntk.torch;

import org.projntk.bindings.projntk_h;
import org.projntk.internal.Blas;
import org.projntk.internal.Native;

/** Facts about the native engine: versions, CUDA, BLAS. */
public final class Runtime {
    private Runtime() {}

    public static String version() {
        Native.ensureLoaded();
        return Native.string("reading the version", projntk_h::projntk_version);
    }

    /** One-line JSON from the native side (libtorch version, CUDA, threads, SIMD level). */
    public static String info() {
        Native.ensureLoaded();
        return Native.string("reading runtime info", projntk_h::projntk_runtime_info);
    }

    public static void setThreads(int threads) {
        Native.ensureLoaded();
        Native.check(projntk_h.projntk_set_num_threads(threads), "setting " + threads + " threads");
    }

    public static String blas() {
        return Blas.implementation();
    }
}
