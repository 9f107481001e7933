/*
 * projntk.h - the only C boundary of projntk.
 *
 * Rules (see docs/native-boundary.md):
 *  - every function returns an int status (PROJNTK_OK == 0) and writes results
 *    through out-pointers;
 *  - on failure, projntk_last_error() copies the message of the last call
 *    made on the *same thread* (every call clears it first, so read it right
 *    after the failing call);
 *  - handles are opaque, each type has exactly one *_free, and *_free(NULL) is a no-op;
 *  - sizes and indices are int64_t; no C++ exception ever crosses this boundary.
 */
#ifndef PROJNTK_H
#define PROJNTK_H

#include <stdint.h>

/* Only the projntk_* functions are exported from libprojntk.so (it is built with -fvisibility=hidden), so it can share
   a process with another libtorch user. */
#if defined(__GNUC__)
#define PROJNTK_API __attribute__((visibility("default")))
#else
#define PROJNTK_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum projntk_status {
    PROJNTK_OK = 0,
    PROJNTK_ERR_INVALID_ARGUMENT = 1, /* bad shape, bad enum value, null pointer */
    PROJNTK_ERR_IO = 2,               /* missing or unreadable file */
    PROJNTK_ERR_TORCH = 3,            /* libtorch raised (corrupt model, op failure) */
    PROJNTK_ERR_CUDA = 4,             /* a CUDA runtime or kernel error */
    PROJNTK_ERR_NONFINITE = 5,        /* NaN or Inf in an input or a gradient */
    PROJNTK_ERR_UNSUPPORTED = 6,      /* e.g. CUDA asked for in a CPU-only build */
    PROJNTK_ERR_OUT_OF_MEMORY = 7,
    PROJNTK_ERR_CALLBACK = 8,         /* a consumer callback returned non-zero */
    PROJNTK_ERR_INTERNAL = 9,
    PROJNTK_ERR_EXITING = 10          /* the process is exiting (projntk_quiesce was called): no new call starts */
};

enum projntk_device {
    PROJNTK_DEVICE_CPU = 0,
    PROJNTK_DEVICE_CUDA = 1
};

/* Every `device` argument is a projntk_device with, for CUDA, the GPU's ordinal in the bits above the lowest 8:
   PROJNTK_DEVICE_CUDA | (n << PROJNTK_DEVICE_ORDINAL_SHIFT) is CUDA device n; plain PROJNTK_DEVICE_CUDA is device 0.
   An ordinal with PROJNTK_DEVICE_CPU, or one the machine does not have, fails with INVALID_ARGUMENT naming it. */
enum projntk_device_ordinal {
    PROJNTK_DEVICE_ORDINAL_SHIFT = 8
};

/* ---------------------------------------------------------------- runtime */

/* The version of this header's contract. The Java side compares it with the value it was generated from and refuses a
   library built from another version (a stale or foreign .so). Bump it with every change to a signature or enum. */
enum projntk_abi {
    PROJNTK_ABI_VERSION = 7
};
/* Writes the PROJNTK_ABI_VERSION the library was compiled with. */
PROJNTK_API int projntk_abi_version(int32_t *out_version);

/* For the process's exit: every later call fails at once with PROJNTK_ERR_EXITING, and this waits up to timeout_ms
   for the calls already running to return; out_running gets how many still run (0 unless the wait timed out).
   exit() runs libtorch's and oneDNN's static destructors, which crash a thread still inside them: the JVM's shutdown
   hook calls this before the process exits. Not reversible; the *_free functions then return at once, freeing nothing. */
PROJNTK_API int projntk_quiesce(int64_t timeout_ms, int64_t *out_running);

/* Copies the error message of this thread's last call (NUL-terminated, truncated to cap; empty after a success). */
PROJNTK_API int projntk_last_error(char *buf, int64_t cap, int64_t *out_len);
/* projntk's own version, e.g. "0.1.0". */
PROJNTK_API int projntk_version(char *buf, int64_t cap);
/* One-line JSON: {"libtorch":"1.13.1","cuda_built":false,"cuda_available":false,
   "cuda_devices":0,"threads":2,"simd":"avx512"} */
PROJNTK_API int projntk_runtime_info(char *buf, int64_t cap);
PROJNTK_API int projntk_set_num_threads(int32_t threads);
PROJNTK_API int projntk_cuda_available(int32_t *out_available);

/* ----------------------------------------------------------------- inputs */

/* Element types of model inputs. Integer and bool inputs reach forward unchanged (never converted to float). */
enum projntk_dtype {
    PROJNTK_DTYPE_FLOAT32 = 0,
    PROJNTK_DTYPE_FLOAT64 = 1,
    PROJNTK_DTYPE_INT64 = 2,
    PROJNTK_DTYPE_INT32 = 3,
    PROJNTK_DTYPE_BOOL = 4 /* one byte per element, 0 or 1 */
};

/* One model input: a contiguous row-major host array of `dtype` with shape[0..ndim). Every input of a call is batched
   along dim 0 (shape[0] = B for all of them); they are passed to forward in array order. The data is copied before
   forward runs, so it only needs to live for the call. */
typedef struct projntk_tensor {
    const void *data;
    const int64_t *shape;
    int32_t ndim;
    int32_t dtype;
} projntk_tensor;

/* ----------------------------------------------------------------- models */

typedef struct projntk_model projntk_model;

/* Loads a TorchScript file (torch.jit.save) and puts it in eval mode. */
PROJNTK_API int projntk_model_load(const char *path, int32_t device, projntk_model **out_model);
/* Built-in architectures: "mlp", "cnn-fmnist", "cnn-cifar", "resnet18-cifar",
   plus tiny test models "tiny-mlp" and "tiny-cnn". Initialised from seed. */
PROJNTK_API int projntk_model_builtin(const char *name, int64_t seed, int32_t device, projntk_model **out_model);
PROJNTK_API int projntk_model_save(projntk_model *model, const char *path);
PROJNTK_API int projntk_model_free(projntk_model *model);

/* Parameters in named_parameters() order. Counts only the selected ones. */
PROJNTK_API int projntk_model_param_count(projntk_model *model, int64_t *out_tensors, int64_t *out_total_numel);
/* Name (e.g. "conv1.weight") and numel of the index-th *selected* parameter. */
PROJNTK_API int projntk_model_param_info(projntk_model *model, int64_t index, char *name_buf, int64_t cap, int64_t *out_numel);
/* Comma-separated names or prefixes ("fc.,layer4."); NULL or "" selects all.
   Fails with INVALID_ARGUMENT if a prefix matches nothing. */
PROJNTK_API int projntk_model_select_params(projntk_model *model, const char *prefixes);
/* Copies all selected parameters, concatenated and flattened, into out (cap floats). */
PROJNTK_API int projntk_model_get_params(projntk_model *model, float *out, int64_t cap);
PROJNTK_API int projntk_model_set_params(projntk_model *model, const float *params, int64_t count);
/* Checksum (hex SHA-256 of the selected+unselected parameter bytes) identifying the weights. */
PROJNTK_API int projntk_model_checksum(projntk_model *model, char *buf, int64_t cap);

/* Which part of forward's result holds the logits: a Tensor is used as is; for a tuple or list, element `index`
   (default 0); for a dict, the value under `key` (NULL: "logits", the default). The choice stays with the model. */
PROJNTK_API int projntk_model_set_output(projntk_model *model, int64_t index, const char *key);
/* How many inputs forward takes (without self): out_min required ones, out_max including those with defaults. */
PROJNTK_API int projntk_model_input_count(projntk_model *model, int32_t *out_min, int32_t *out_max);

/* Eval-mode forward of n_inputs batched inputs; out_logits receives B*C floats (cap is its capacity), C goes to
   out_classes. */
PROJNTK_API int projntk_model_forward_inputs(projntk_model *model, const projntk_tensor *inputs, int32_t n_inputs,
                                             float *out_logits, int64_t cap, int64_t *out_classes);
/* Single float32 input form of projntk_model_forward_inputs. x is float32, contiguous, shape x_shape[0..x_ndim); x_shape[0] = B.
   out_logits receives B*C floats (cap is its capacity); C is written to out_classes. */
PROJNTK_API int projntk_model_forward(projntk_model *model, const float *x, const int64_t *x_shape, int32_t x_ndim,
                          float *out_logits, int64_t cap, int64_t *out_classes);

/* -------------------------------------------------- per-example gradients */

enum projntk_output {
    PROJNTK_OUTPUT_PNTK = 0,        /* d(sum_c f_c)/dθ : one gradient per example */
    PROJNTK_OUTPUT_PNTK_SCALED = 1, /* d(sum_c f_c / sqrt(C))/dθ */
    PROJNTK_OUTPUT_PER_CLASS = 2,   /* d f_c/dθ for every class c (trNTK and eNTK) */
    PROJNTK_OUTPUT_MARGIN = 3       /* d log(p_y/(1-p_y))/dθ on the true label y (TRAK) */
};

enum projntk_grad_strategy {
    PROJNTK_GRAD_AUTO = 0,       /* functional; on a missing batching rule, iterative from then on for this model */
    PROJNTK_GRAD_FUNCTIONAL = 1, /* vmap(grad) through ATen's functorch layer */
    PROJNTK_GRAD_ITERATIVE = 2   /* one backward per example */
};

/*
 * Receives one block of per-example gradients: rows [row_offset, row_offset+rows) of the batch,
 * parameter coordinates [param_offset, param_offset+cols) of the selected-parameter vector,
 * for output index `output` (the class c for PER_CLASS, else 0). block is row-major rows x cols,
 * float32, in host memory, valid only during the call. Return 0 to continue, non-zero to abort.
 */
typedef int32_t (*projntk_grad_consumer)(void *ctx, int64_t output, int64_t row_offset, int64_t rows,
                                         int64_t param_offset, int64_t cols, const float *block);

/*
 * Computes per-example gradients of the chosen output for the batch x (eval mode) and streams them
 * to consumer, one parameter tensor at a time. The batch is split into sub-batches so that no more
 * than max_block_bytes of gradients are alive at once (<= 0: a default of 256 MiB).
 * labels (int64, B of them) is required for MARGIN, ignored otherwise (may be NULL).
 * The strategy actually used is written to out_strategy_used (may be NULL).
 * Non-finite gradients fail with PROJNTK_ERR_NONFINITE unless check_finite == 0.
 */
PROJNTK_API int projntk_grads(projntk_model *model, const float *x, const int64_t *x_shape, int32_t x_ndim,
                  const int64_t *labels, int32_t output, int32_t strategy, int64_t max_block_bytes,
                  int32_t check_finite, projntk_grad_consumer consumer, void *ctx,
                  int32_t *out_strategy_used);

/* projntk_grads for a model with n_inputs inputs of any projntk_dtype (see projntk_tensor). Gradients are taken with
   respect to the selected parameters only. */
PROJNTK_API int projntk_grads_inputs(projntk_model *model, const projntk_tensor *inputs, int32_t n_inputs,
                                     const int64_t *labels, int32_t output, int32_t strategy, int64_t max_block_bytes,
                                     int32_t check_finite, projntk_grad_consumer consumer, void *ctx,
                                     int32_t *out_strategy_used);

/* -------------------------------------------------------------- projectors */

typedef struct projntk_projector projntk_projector;

enum projntk_projector_kind {
    PROJNTK_PROJ_RADEMACHER = 0, /* dense ±1 */
    PROJNTK_PROJ_GAUSSIAN = 1,   /* dense N(0,1) */
    PROJNTK_PROJ_SJLT = 2,       /* sparse JL, s nonzeros per input coordinate */
    PROJNTK_PROJ_NONE = 3        /* identity: K must equal P */
};

enum projntk_projector_flags {
    PROJNTK_PROJ_UNSCALED = 1,     /* TRAK's convention: no 1/sqrt(K) factor */
    PROJNTK_PROJ_NO_CHECK = 2,     /* skip the NaN/Inf input check */
    PROJNTK_PROJ_FP32_STRICT = 4   /* CUDA: full fp32 FMA instead of TF32 tensor cores */
};

/*
 * R[p,k] is a pure function of (kind, seed, model_id, p, k); see docs/projection.md.
 * sjlt_s is the number of nonzeros per coordinate for SJLT (ignored otherwise).
 */
PROJNTK_API int projntk_projector_new(int32_t kind, int64_t P, int64_t K, int64_t seed, int64_t model_id,
                          int32_t sjlt_s, int32_t flags, int32_t device, projntk_projector **out_projector);
PROJNTK_API int projntk_projector_free(projntk_projector *projector);
PROJNTK_API int projntk_projector_dims(projntk_projector *projector, int64_t *out_P, int64_t *out_K);
/* The device the projector was made for, as its `device` argument (kind and ordinal, see projntk_device_ordinal). */
PROJNTK_API int projntk_projector_device(projntk_projector *projector, int32_t *out_device);
/* The scaled entry R[p,k] as the kernels use it (for tests and documentation). */
PROJNTK_API int projntk_projector_entry(projntk_projector *projector, int64_t p, int64_t k, float *out_value);
/*
 * out[rows x K] += block[rows x cols] · R[param_offset .. param_offset+cols, 0..K).
 * All pointers are host memory, row-major. Deterministic: the result does not depend on the
 * thread count (threads split K, never the reduction over p).
 */
PROJNTK_API int projntk_projector_accumulate(projntk_projector *projector, const float *block, int64_t rows, int64_t cols,
                                 int64_t param_offset, float *out);
/*
 * The CPU's fp32 FMA rate in GFLOP/s on all OpenMP threads, measured over about `seconds` (best of short trials of
 * independent FMA chains on the projection kernels' vector width). A projection's ceiling is this rate divided by
 * its 2·P·K flops per row. Fails with PROJNTK_ERR_UNSUPPORTED on a CPU without AVX2 and FMA.
 */
PROJNTK_API int projntk_cpu_fma_peak(double seconds, double *out_gflops);
/*
 * projntk_projector_accumulate for memory on the projector's GPU: block (rows x cols) and out (rows x K) are device
 * pointers there. The work is queued on `stream` (a cudaStream_t of that GPU; NULL: its legacy default stream), after
 * whatever the caller queued there before, so a block written by a kernel on the same stream needs no synchronisation.
 * The call returns once the work is queued, except that the NaN/Inf check (unless PROJNTK_PROJ_NO_CHECK) waits for
 * the block's first non-finite index, a few bytes copied to the host. UNSUPPORTED for a CPU projector or a build
 * without CUDA.
 */
PROJNTK_API int projntk_projector_accumulate_device(projntk_projector *projector, const float *block, int64_t rows,
                                                   int64_t cols, int64_t param_offset, float *out, void *stream);
/*
 * Bytes the calling thread has copied between host and device memory through projntk since it started: model inputs
 * and labels, gradients, projector buffers and results. Read it before and after a call (on the same thread) to see
 * what the call copied. A CPU-only path copies nothing.
 */
PROJNTK_API int projntk_copy_counts(int64_t *out_host_to_device, int64_t *out_device_to_host);

/* out[B x K] = x[B x P] · R (out is overwritten). */
PROJNTK_API int projntk_project(projntk_projector *projector, const float *x, int64_t B, int64_t P, float *out);

/*
 * The fused path: per-example gradients of model on x streamed straight into projector.
 * out receives n_outputs x B x K floats (n_outputs = C for PER_CLASS, else 1); cap is its capacity.
 * The projector's P must equal the model's selected parameter count. When the model and the projector are on the same
 * GPU, the gradients stay there (projntk_projector_accumulate_device): only x, the labels and the n_outputs x B x K
 * result cross between host and device, once per call.
 */
PROJNTK_API int projntk_project_grads(projntk_model *model, projntk_projector *projector, const float *x,
                          const int64_t *x_shape, int32_t x_ndim, const int64_t *labels, int32_t output,
                          int32_t strategy, int64_t max_block_bytes, float *out, int64_t cap,
                          int64_t *out_outputs, int32_t *out_strategy_used);

/* projntk_project_grads for a model with n_inputs inputs of any projntk_dtype. */
PROJNTK_API int projntk_project_grads_inputs(projntk_model *model, projntk_projector *projector,
                                             const projntk_tensor *inputs, int32_t n_inputs, const int64_t *labels,
                                             int32_t output, int32_t strategy, int64_t max_block_bytes, float *out,
                                             int64_t cap, int64_t *out_outputs, int32_t *out_strategy_used);

/* --------------------------------------------------------------- training */

/* ---- Thin products (the kernel GLM's K·W and Fᵀ·G): float32, row-major, q <= 16 columns, multithreaded.
 * trans_a == 0: c[rows x q] = beta·c + a[rows x d] · b[d x q]
 * trans_a == 1: c[d x q]    = beta·c + a[rows x d]ᵀ · b[rows x q]
 * Streams a once at close to memory bandwidth (BLAS packs it for these shapes). Each output element is summed in a
 * fixed order, independent of the thread count. */
PROJNTK_API int projntk_thin_gemm(int32_t trans_a, int64_t rows, int64_t d, int64_t q, const float *a, int64_t lda,
                                  const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

typedef struct projntk_trainer projntk_trainer;

enum projntk_optimizer {
    PROJNTK_OPT_SGD = 0, /* with momentum */
    PROJNTK_OPT_ADAM = 1
};

PROJNTK_API int projntk_trainer_new(projntk_model *model, int32_t optimizer, double learning_rate, double momentum,
                        double weight_decay, projntk_trainer **out_trainer);
/* One optimiser step on cross-entropy over the batch (train mode during the step, eval after). */
PROJNTK_API int projntk_trainer_step(projntk_trainer *trainer, const float *x, const int64_t *x_shape, int32_t x_ndim,
                         const int64_t *labels, double *out_loss, int64_t *out_correct);
/* projntk_trainer_step for a model with n_inputs inputs of any projntk_dtype. */
PROJNTK_API int projntk_trainer_step_inputs(projntk_trainer *trainer, const projntk_tensor *inputs, int32_t n_inputs,
                                            const int64_t *labels, double *out_loss, int64_t *out_correct);
PROJNTK_API int projntk_trainer_free(projntk_trainer *trainer);

#ifdef __cplusplus
}
#endif

#endif /* PROJNTK_H */
