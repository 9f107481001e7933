package org.projntk.project;

import org.projntk.torch.Device;

/**
 * Everything that determines a projection matrix R[p,k] (kind, P, K, seed, modelId, sjltS, unscaled) plus how it is
 * applied (checkFinite, fp32Strict, device and, on CUDA, the GPU's ordinal), which does not change R.
 *
 * @param kind the random matrix
 * @param P the input dimension: the number of parameters whose gradients are projected
 * @param K the projected dimension; equal to P for {@link ProjectorKind#NONE}
 * @param seed the projection seed
 * @param modelId mixed into the seed (a store gives each checkpoint its own)
 * @param sjltS SJLT non-zeros per row of R, at least 1 (ignored by the other kinds)
 * @param unscaled TRAK's convention: no 1/√K factor
 * @param checkFinite whether inputs are checked for NaN and infinity (failing with NONFINITE)
 * @param fp32Strict on CUDA, full fp32 FMAs instead of TF32 tensor cores (slower, rel. error 1e-5 rather than 1e-3)
 * @param device where the projection runs
 * @param gpu the CUDA device ordinal; 0 for the CPU
 */
public record ProjectorSpec(ProjectorKind kind, long P, int K, long seed, long modelId, int sjltS, boolean unscaled,
                            boolean checkFinite, boolean fp32Strict, Device device, int gpu) {
    /** The RNG algorithm identifier recorded in stores; bump it if R's definition ever changes. */
    public static final String RNG_ALGORITHM = "philox4x32-10/projntk-v1";
    /** SJLT non-zeros per row of R unless set otherwise. */
    public static final int DEFAULT_SJLT_S = 2;

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException if P, K or sjltS is below 1, K differs from P for NONE, or the GPU ordinal
     *     does not suit the device
     */
    public ProjectorSpec {
        if (P < 1) throw new IllegalArgumentException("P must be >= 1, got " + P);
        if (K < 1) throw new IllegalArgumentException("K must be >= 1, got " + K);
        if (kind == ProjectorKind.NONE && K != P) throw new IllegalArgumentException("projector none needs K == P (" + P + "), got " + K);
        if (sjltS < 1) throw new IllegalArgumentException("sjlt s must be >= 1, got " + sjltS);
        device.checkGpu(gpu);
    }

    /**
     * A spec on GPU 0 (or the CPU).
     *
     * @param kind the random matrix
     * @param P the input dimension
     * @param K the projected dimension
     * @param seed the projection seed
     * @param modelId mixed into the seed
     * @param sjltS SJLT non-zeros per row of R
     * @param unscaled no 1/√K factor
     * @param checkFinite check inputs for NaN and infinity
     * @param fp32Strict on CUDA, full fp32 instead of TF32
     * @param device where the projection runs
     */
    public ProjectorSpec(ProjectorKind kind, long P, int K, long seed, long modelId, int sjltS, boolean unscaled,
                         boolean checkFinite, boolean fp32Strict, Device device) {
        this(kind, P, K, seed, modelId, sjltS, unscaled, checkFinite, fp32Strict, device, 0);
    }

    /**
     * The usual spec: on the CPU, model id 0, {@link #DEFAULT_SJLT_S}, scaled, inputs checked.
     *
     * @param kind the random matrix
     * @param P the input dimension
     * @param K the projected dimension (ignored for NONE, which takes P)
     * @param seed the projection seed
     * @return the spec
     */
    public static ProjectorSpec of(ProjectorKind kind, long P, int K, long seed) {
        return new ProjectorSpec(kind, P, kind == ProjectorKind.NONE ? (int) P : K, seed, 0, DEFAULT_SJLT_S, false, true, false, Device.CPU);
    }

    /**
     * This spec on another device.
     *
     * @param d the device (GPU 0 for CUDA)
     * @return the new spec
     */
    public ProjectorSpec withDevice(Device d) {
        return new ProjectorSpec(kind, P, K, seed, modelId, sjltS, unscaled, checkFinite, fp32Strict, d, 0);
    }

    /**
     * This spec on another device.
     *
     * @param d the device
     * @param gpu the CUDA ordinal (0 for the CPU)
     * @return the new spec
     */
    public ProjectorSpec withDevice(Device d, int gpu) {
        return new ProjectorSpec(kind, P, K, seed, modelId, sjltS, unscaled, checkFinite, fp32Strict, d, gpu);
    }

    /**
     * This spec with or without strict fp32 on CUDA.
     *
     * @param strict full fp32 FMAs instead of TF32 tensor cores
     * @return the new spec
     */
    public ProjectorSpec withFp32Strict(boolean strict) {
        return new ProjectorSpec(kind, P, K, seed, modelId, sjltS, unscaled, checkFinite, strict, device, gpu);
    }

    /**
     * This spec with another model id (a different R).
     *
     * @param id mixed into the seed
     * @return the new spec
     */
    public ProjectorSpec withModelId(long id) {
        return new ProjectorSpec(kind, P, K, seed, id, sjltS, unscaled, checkFinite, fp32Strict, device, gpu);
    }

    /**
     * This spec with another number of SJLT non-zeros.
     *
     * @param s non-zeros per row of R, at least 1
     * @return the new spec
     */
    public ProjectorSpec withSjltS(int s) {
        return new ProjectorSpec(kind, P, K, seed, modelId, s, unscaled, checkFinite, fp32Strict, device, gpu);
    }

    /**
     * This spec with or without the 1/√K factor.
     *
     * @param u true for TRAK's unscaled convention
     * @return the new spec
     */
    public ProjectorSpec withUnscaled(boolean u) {
        return new ProjectorSpec(kind, P, K, seed, modelId, sjltS, u, checkFinite, fp32Strict, device, gpu);
    }

    /**
     * This spec with or without the NaN and infinity check of inputs.
     *
     * @param c whether to check (skipping it saves a pass over the input)
     * @return the new spec
     */
    public ProjectorSpec withCheckFinite(boolean c) {
        return new ProjectorSpec(kind, P, K, seed, modelId, sjltS, unscaled, c, fp32Strict, device, gpu);
    }
}
