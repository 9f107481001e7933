package org.projntk;

/**
 * Arithmetic of the GEMMs that compute Gram tiles on a CUDA device. Used by the GPU Gram
 * ({@code org.projntk.kernel.GpuGram}) and the cuRAND projector; the CPU paths are always IEEE float32.
 * <ul>
 *   <li>{@code FP32}: full float32 products (cublasSgemm with the default math mode);</li>
 *   <li>{@code TF32}: tensor cores with inputs rounded to TF32 (10-bit mantissa), float32 accumulation; several times
 *       faster on Ampere and later, relative error around 1e-3.</li>
 * </ul>
 */
public enum GemmPrecision {
    /** Full float32 products. */
    FP32,
    /** Tensor cores, inputs rounded to TF32, float32 accumulation. */
    TF32;

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
