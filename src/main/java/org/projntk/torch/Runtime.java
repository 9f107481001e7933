package org.projntk.torch;

import org.projntk.internal.Blas;
import org.projntk.internal.Native;
import org.projntk.internal.TorchCalls;

/** Facts about the native engine: versions, CUDA, BLAS. */
public final class Runtime {
    private Runtime() {}

    public static String version() {
        Native.ensureLoaded();
        return Native.string("reading the version", TorchCalls::version);
    }

    /** One-line JSON from the native side (libtorch version, CUDA, threads, SIMD level). */
    public static String info() {
        Native.ensureLoaded();
        return Native.string("reading runtime info", TorchCalls::runtimeInfo);
    }

    public static void setThreads(int threads) {
        Native.ensureLoaded();
        Native.check(TorchCalls.setThreads(threads), "setting " + threads + " threads");
    }

    public static String blas() {
        return Blas.implementation();
    }
}
