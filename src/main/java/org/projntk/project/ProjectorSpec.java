package org.projntk.project;

import org.projntk.torch.Device;

/**
 * Everything that determines a projection matrix R[p,k] (kind, P, K, seed, modelId, sjltS, unscaled) plus how it is
 * applied (checkFinite, fp32Strict, device and, on CUDA, the GPU's ordinal), which does not change R.
 */
public record ProjectorSpec(ProjectorKind kind, long P, int K, long seed, long modelId, int sjltS, boolean unscaled,
                            boolean checkFinite, boolean fp32Strict, Device device, int gpu) {
    /** The RNG algorithm identifier recorded in stores; bump it if R's definition ever changes. */
    public static final String RNG_ALGORITHM = "philox4x32-10/projntk-v1";
    public static final int DEFAULT_SJLT_S = 2;

    public ProjectorSpec {
        if (P < 1) throw new IllegalArgumentException("P must be >= 1, got " + P);
        if (K < 1) throw new IllegalArgumentException("K must be >= 1, got " + K);
        if (kind == ProjectorKind.NONE && K != P) throw new IllegalArgumentException("projector none needs K == P (" + P + "), got " + K);
        if (sjltS < 1) throw new IllegalArgumentException("sjlt s must be >= 1, got " + sjltS);
        device.checkGpu(gpu);
    }

    /** On GPU 0 (or the CPU). */
    public ProjectorSpec(ProjectorKind kind, long P, int K, long seed, long modelId, int sjltS, boolean unscaled,
                         boolean checkFinite, boolean fp32Strict, Device device) {
        this(kind, P, K, seed, modelId, sjltS, unscaled, checkFinite, fp32Strict, device, 0);
    }

    public static ProjectorSpec of(ProjectorKind kind, long P, int K, long seed) {
        return new ProjectorSpec(kind, P, kind == ProjectorKind.NONE ? (int) P : K, seed, 0, DEFAULT_SJLT_S, false, true, false, Device.CPU);
    }

    /** On device d (GPU 0 for CUDA). */
    public ProjectorSpec withDevice(Device d) {
        return new ProjectorSpec(kind, P, K, seed, modelId, sjltS, unscaled, checkFinite, fp32Strict, d, 0);
    }

    /** On CUDA device d with ordinal gpu. */
    public ProjectorSpec withDevice(Device d, int gpu) {
        return new ProjectorSpec(kind, P, K, seed, modelId, sjltS, unscaled, checkFinite, fp32Strict, d, gpu);
    }

    public ProjectorSpec withFp32Strict(boolean strict) {
        return new ProjectorSpec(kind, P, K, seed, modelId, sjltS, unscaled, checkFinite, strict, device, gpu);
    }

    public ProjectorSpec withModelId(long id) {
        return new ProjectorSpec(kind, P, K, seed, id, sjltS, unscaled, checkFinite, fp32Strict, device, gpu);
    }

    public ProjectorSpec withSjltS(int s) {
        return new ProjectorSpec(kind, P, K, seed, modelId, s, unscaled, checkFinite, fp32Strict, device, gpu);
    }

    public ProjectorSpec withUnscaled(boolean u) {
        return new ProjectorSpec(kind, P, K, seed, modelId, sjltS, u, checkFinite, fp32Strict, device, gpu);
    }

    public ProjectorSpec withCheckFinite(boolean c) {
        return new ProjectorSpec(kind, P, K, seed, modelId, sjltS, unscaled, c, fp32Strict, device, gpu);
    }
}
