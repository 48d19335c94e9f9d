/*
 * libjointvae — the JointVAE model: options, inference, loss, custom training loop.
 *
 * Latent layout everywhere: [continuous (Dz) | disc_0 (K_0) | disc_1 (K_1) | …],
 * latent_dim = Dz + Σ K_i. Encodings come as three tensors:
 *   mu (N, Dz), logvar (N, Dz) (log σ²), alpha (N, ΣK) (softmax probabilities of
 *   each discrete variable, concatenated in order).
 * When Dz = 0 (or there is no discrete variable) the corresponding tensors are
 * not used and may be NULL.
 *
 * Threads: inference calls (jvae_encode, jvae_decode, jvae_sample_prior,
 * jvae_latent_*) only read the model's parameters and use per-call memory, so
 * any number of threads may call them at once on one model, as long as no
 * thread trains, loads into or frees that model at the same time. Each call
 * allocates its own working memory: with T = options.threads, each of up to
 * T workers runs chunks of min(32, ⌈N / T⌉) images in memory of its own,
 * reused chunk by chunk, so memory stays bounded for any batch; use
 * jvae_model_infer_bytes to budget it. Training calls (forward, backward,
 * zero_grad, step) mutate the model and must not overlap with any other call
 * on the same model; they use only the workspace of jvae_model_reserve and
 * allocate nothing.
 *
 * The network, parameter names and loss follow the official PyTorch code
 * (Schlumberger/joint-vae); docs/model.md describes them per image size.
 */
#ifndef JOINTVAE_MODEL_H
#define JOINTVAE_MODEL_H

#include "jointvae/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JVAE_MAX_DISCRETE 64
/* Upper bound of n_continuous, of each discrete size K_i and of hidden. */
#define JVAE_MAX_WIDTH 65536

/* ------------------------------------------------------------ model options */

#define JVAE_MODEL_OPTIONS_VERSION 1

typedef struct jvae_model_options {
    unsigned version;      /* JVAE_MODEL_OPTIONS_VERSION */
    int channels;          /* image channels, 1..4 (default 1) */
    int height, width;     /* equal powers of two, 32..4096 (default 32x32): log2(H) − 2
                              stride-2 conv stages per side; 32 and 64 are the official
                              networks */
    int n_continuous;      /* continuous latents, 0..JVAE_MAX_WIDTH (default 10) */
    int n_discrete;        /* number of discrete variables, 0..JVAE_MAX_DISCRETE (default 1) */
    int discrete_sizes[JVAE_MAX_DISCRETE]; /* K_i, 2..JVAE_MAX_WIDTH (default {10});
                              entries past n_discrete are ignored (and zeroed in the
                              model's copy) */
    float temperature;     /* Gumbel-softmax temperature, finite and > 0 (default 0.67) */
    int hidden;            /* hidden width of the fully connected layers, 1..JVAE_MAX_WIDTH
                              (default 256, the official value) */
    uint64_t seed;         /* seeds the model's generator: init and training noise (default 1) */
    int threads;           /* worker threads of the kernels (the library's own, which
                              sleep when idle; docs/model.md), >= 1 (default 1): results
                              repeat bit for bit for a given count and differ across
                              counts by float rounding only. With threads > 1 keep
                              the BLAS single-threaded (jvae_blas_set_threads) so the
                              two do not oversubscribe */
} jvae_model_options;

/* Fill defaults: 1x32x32, 10 continuous, one discrete of 10, T = 0.67, hidden 256,
 * seed 1, 1 thread. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_model_options_init(jvae_model_options *options);

/* ------------------------------------------------------------ lifecycle */

/* Create a model with parameters initialised like PyTorch's defaults (uniform
 * ±1/sqrt(fan_in) for weights and biases, fan_in = weight.size(1)·kh·kw as
 * PyTorch computes it, so out·16 for transposed convs) from the model's own
 * generator seeded with options->seed, tensor by tensor in state-dict order.
 * At least one latent (continuous or discrete) is required. The loss starts as
 * jvae_loss_options_init's. No training memory is reserved yet
 * (jvae_model_reserve). *out is set to NULL on failure.
 * Errors: INVALID_ARGUMENT (NULL; each bad option is named in the message),
 *         VERSION (options->version unknown), OVERFLOW, OUT_OF_MEMORY,
 *         UNSUPPORTED (images larger than 4096x4096). */
JVAE_API jvae_status jvae_model_create(jvae_model **out, const jvae_model_options *options);

/* Free the model and everything it owns. NULL is a no-op. */
JVAE_API void jvae_model_free(jvae_model *model);

/* Copy the options the model was built with (threads as last set).
 * Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_model_get_options(const jvae_model *model, jvae_model_options *out);

/* Total latent width Dz + Σ K_i, and Σ K_i alone; 0 on NULL. */
JVAE_API int jvae_model_latent_dim(const jvae_model *model);
JVAE_API int jvae_model_discrete_dim(const jvae_model *model);

/* Number of float parameters (the length of the parameter block). */
JVAE_API int64_t jvae_model_param_count(const jvae_model *model);

/* Reserve the training workspace (activations, their gradients, the conv
 * kernels' scratch: one allocation) for batches of up to max_batch images.
 * Training calls with a larger batch fail with SHAPE; calls with a smaller one
 * use part of the reservation. Calling again with another size reallocates
 * (and drops a forward still waiting for its backward); the same size is a
 * no-op. On failure the previous reservation stays.
 * Errors: INVALID_ARGUMENT (NULL, max_batch < 1), OVERFLOW, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_model_reserve(jvae_model *model, int max_batch);

/* Memory budget. params_bytes: parameters + gradients (always allocated);
 * workspace_bytes: what jvae_model_reserve(max_batch) allocates (either output
 * may be NULL). jvae_model_infer_bytes: the most that one inference call on
 * `batch` images allocates (constant beyond 32 images per thread).
 * Errors: INVALID_ARGUMENT (NULL model or bytes, batch < 1), OVERFLOW. */
JVAE_API jvae_status jvae_model_memory(const jvae_model *model, int max_batch,
                                       size_t *params_bytes, size_t *workspace_bytes);
JVAE_API jvae_status jvae_model_infer_bytes(const jvae_model *model, int batch, size_t *bytes);

/* Set options.threads for later calls on this model (>= 1). An existing
 * training reservation is re-sized for the new count (its conv scratch holds
 * one work area per thread), which drops a forward waiting for its backward.
 * Errors: INVALID_ARGUMENT, OVERFLOW, OUT_OF_MEMORY (the old count stays).
 * Mutates the model: not concurrent with any other call on it. */
JVAE_API jvae_status jvae_model_set_threads(jvae_model *model, int threads);

/* The thread count of the BLAS library (OpenBLAS) that the kernels call.
 * PROCESS-WIDE, unlike everything else in this library: it also changes the
 * BLAS used by the host's own code. The library never calls it by itself. The
 * model's kernels split work over their own threads (options.threads) and call
 * the BLAS on small matrices, where a multi-threaded BLAS only adds contention:
 * a program that owns its process (like jvae-train) should set 1, as should a
 * host training with threads > 1. Equivalent to OPENBLAS_NUM_THREADS=1 in the
 * environment. Errors: INVALID_ARGUMENT (threads < 1). Not thread-safe: call it
 * before any thread uses the library. */
JVAE_API jvae_status jvae_blas_set_threads(int threads);
/* The BLAS library's current thread count. */
JVAE_API int jvae_blas_threads(void);

/* Reseed the model's generator, which draws the training noise of
 * jvae_model_forward when no noise is passed in. Errors: INVALID_ARGUMENT. */
JVAE_API jvae_status jvae_model_seed(jvae_model *model, uint64_t seed);

/* ------------------------------------------------------------ inference */

/* images (N, C, H, W) with values in [0, 1] (not enforced here) -> mu (N, Dz),
 * logvar (N, Dz), alpha (N, ΣK). Any N >= 1. Outputs must be preallocated with
 * those shapes; pass NULL for an output that is not wanted (outputs of an
 * absent latent part are ignored).
 * Errors: INVALID_ARGUMENT (NULL model or images), SHAPE (names the tensor and
 *         both shapes), NUMERIC (non-finite input), OVERFLOW, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_encode(const jvae_model *model, const jvae_tensor *images,
                                 jvae_tensor *mu, jvae_tensor *logvar, jvae_tensor *alpha);

/* The deterministic latent of an encoding: z = mu, each discrete variable the
 * one-hot of argmax alpha (first index on ties). latent (N, latent_dim) gives
 * N; mu is needed when Dz > 0 and alpha (values in [0, 1]) when ΣK > 0.
 * Allocates nothing. Errors: INVALID_ARGUMENT (NULL, alpha outside [0, 1]),
 * SHAPE, NUMERIC (non-finite mu or alpha). */
JVAE_API jvae_status jvae_latent_deterministic(const jvae_model *model, const jvae_tensor *mu,
                                               const jvae_tensor *alpha, jvae_tensor *latent);

/* A sampled latent: z = mu + exp(logvar/2)·ε, ε ~ N(0,1); each discrete variable
 * y = softmax((log(α + 1e-12) + g)/T), g = −log(−log(u + 1e-12) + 1e-12), u ~ U[0,1).
 * Noise comes from a generator seeded with `seed` local to the call (so
 * concurrent calls are safe and reproducible), drawn row by row: Dz normals,
 * then ΣK uniforms (the order jvae_model_forward uses). Shapes and errors as
 * jvae_latent_deterministic, plus logvar (N, Dz) and OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_latent_sample(const jvae_model *model, const jvae_tensor *mu,
                                        const jvae_tensor *logvar, const jvae_tensor *alpha,
                                        uint64_t seed, jvae_tensor *latent);

/* latent (N, latent_dim) -> images (N, C, H, W) in [0, 1] (the sigmoid of the
 * decoder's logits). Errors: INVALID_ARGUMENT (NULL), SHAPE, NUMERIC
 * (non-finite latent), OVERFLOW, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_decode(const jvae_model *model, const jvae_tensor *latent,
                                 jvae_tensor *images);

/* Latents from the prior: continuous N(0, I); discrete variable i uniform
 * one-hot, unless fixed_categories is non-NULL and fixed_categories[i] >= 0, in
 * which case every sample gets that category (length n_discrete).
 * latent (N, latent_dim); images (N, C, H, W) may be NULL (then only the latent
 * is written) or receives the decoded samples. Noise from a generator seeded
 * with `seed`, row by row: Dz normals, then one category per discrete variable,
 * drawn even when fixed (so fixing one variable leaves the other draws alone).
 * Errors: INVALID_ARGUMENT (NULL model or latent, category >= K_i), SHAPE,
 * OVERFLOW, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_sample_prior(const jvae_model *model, uint64_t seed,
                                       const int *fixed_categories, jvae_tensor *latent,
                                       jvae_tensor *images);

/* ------------------------------------------------------------ loss */

/* The KLs: KL_z = Σ_j mean_n −½(1 + logvar − μ² − exp(logvar)), and
 * KL_c = Σ_i (log K_i + mean_n Σ_k α log(α + 1e-12)), from the encoder's α (the
 * official code's formula, 1e-12 included). d|x|/dx is 0 at x = 0. */
typedef enum jvae_loss_mode {
    JVAE_LOSS_JOINTVAE = 0, /* eq. 7: recon + γ_z|KL_z − C_z| + γ_c|KL_c − C_c| */
    JVAE_LOSS_BETA_VAE = 1, /* eq. 1: recon + β·(KL_z + KL_c) */
    JVAE_LOSS_CAPACITY = 2  /* eq. 3: recon + γ·|KL_z + KL_c − C| (capacity from the
                               continuous schedule) */
} jvae_loss_mode;

#define JVAE_LOSS_OPTIONS_VERSION 1

typedef struct jvae_loss_options {
    unsigned version;        /* JVAE_LOSS_OPTIONS_VERSION */
    jvae_loss_mode mode;     /* default JVAE_LOSS_JOINTVAE */
    float gamma_continuous;  /* γ_z of eq. 7 (default 30) */
    float gamma_discrete;    /* γ_c of eq. 7 (default 30) */
    float beta;              /* β of eq. 1 (default 4) */
    float gamma;             /* γ of eq. 3 (default 30) */
    /* 0 (default): reconstruction is the true BCE sum over C·H·W, averaged over the
     * batch, and backward computes d(total)/dθ.
     * 1: the official code's scaling: reconstruction averaged over N·C·H·W and
     * multiplied by H·W (1/C of the true sum for RGB), and backward computes
     * d(total/(H·W))/dθ. Every mode honours it. */
    int official_scaling;
} jvae_loss_options;

/* Fill defaults: JOINTVAE, γ_z = γ_c = 30, β = 4, γ = 30, official_scaling 0.
 * Weights must be finite and >= 0. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_loss_options_init(jvae_loss_options *options);

/* Every term of one forward pass, averaged over the batch (nats). */
typedef struct jvae_loss_terms {
    double reconstruction;
    double kl_continuous;       /* Σ over units of the batch-mean KL */
    double kl_discrete;         /* Σ over variables */
    double capacity_continuous; /* C_z(t) used (or the joint C for CAPACITY mode; 0 for
                                   BETA_VAE and without continuous latents) */
    double capacity_discrete;   /* C_c(t) used, after clipping to Σ log K_i (0 for
                                   BETA_VAE, CAPACITY and without discrete latents) */
    double capacity_term_continuous; /* γ_z|KL_z − C_z| (or β·KL_z, or the joint term) */
    double capacity_term_discrete;   /* γ_c|KL_c − C_c| (or β·KL_c, or 0) */
    double total;               /* reconstruction + both capacity terms (not divided by
                                   H·W under official_scaling) */
    int batch;
} jvae_loss_terms;

/* Set the loss used by later forwards (options are copied). A rejected loss
 * leaves the current one. Errors: INVALID_ARGUMENT (NULL, unknown mode,
 * negative or non-finite weight, official_scaling not 0/1), VERSION. */
JVAE_API jvae_status jvae_model_set_loss(jvae_model *model, const jvae_loss_options *options);
JVAE_API jvae_status jvae_model_get_loss(const jvae_model *model, jvae_loss_options *out);

/* ------------------------------------------------------------ custom training loop */

/* Forward pass of the training loss for a batch (N <= reserved batch):
 *   images (N, C, H, W) in [0, 1] (copied into the workspace);
 *   eps (N, Dz) Gaussian noise and uniform (N, ΣK) values in [0, 1) for the
 *   Gumbel noise, or both NULL to draw them from the model's generator (row by
 *   row: Dz normals, then ΣK uniforms). A model without continuous (discrete)
 *   latents ignores eps (uniform); passing one needed tensor without the other
 *   is INVALID_ARGUMENT. The noise is copied or consumed before returning;
 *   cap_continuous, cap_discrete: capacities for this step, finite and >= 0
 *   (the discrete one is clipped to Σ log K_i).
 * Keeps the activations for one jvae_model_backward. terms may be NULL; it is
 * written only on success. Nothing is allocated.
 * Errors: INVALID_ARGUMENT (NULL, image outside [0, 1], uniform outside [0, 1),
 *         bad capacity, half the noise), SHAPE (names the tensor), STATE (no
 *         reservation), NUMERIC (NaN/Inf in images or noise, or a non-finite
 *         loss). After any error there is no forward to differentiate. */
JVAE_API jvae_status jvae_model_forward(jvae_model *model, const jvae_tensor *images,
                                        const jvae_tensor *eps, const jvae_tensor *uniform,
                                        double cap_continuous, double cap_discrete,
                                        jvae_loss_terms *terms);

/* Accumulate (+=) the gradient of the last forward's total (of total/(H·W)
 * under official_scaling) into the gradient block: the exact gradient through
 * the decoder, the Gumbel-softmax, the softmax, the reparametrisation and the
 * KL and capacity terms. Each successful forward allows one backward.
 * Nothing is allocated.
 * Errors: INVALID_ARGUMENT (NULL), STATE (no successful forward since the last
 * backward or reservation), NUMERIC (a non-finite gradient; the message names
 * the tensor and index). */
JVAE_API jvae_status jvae_model_backward(jvae_model *model);

/* Zero the gradient block. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_model_zero_grad(jvae_model *model);

/* Per-unit KL of the last successful forward: continuous units (Dz values,
 * batch means) and discrete variables (n_discrete values). Either output may be
 * NULL; the count of a non-NULL output must equal the model's.
 * Errors: STATE (no successful forward yet, or the last one failed),
 * INVALID_ARGUMENT (NULL model, wrong count). */
JVAE_API jvae_status jvae_model_kl_per_unit(const jvae_model *model, float *continuous,
                                            int n_continuous, float *discrete, int n_discrete);

/* Direct access to the parameter and gradient blocks (param_count floats each),
 * owned by the model, valid until it is freed. Layout: the tensors of
 * jvae_model_param_info in order. */
JVAE_API float *jvae_model_params(jvae_model *model);
JVAE_API float *jvae_model_grads(jvae_model *model);

/* Describe parameter tensor `index` (0 .. count-1) with its PyTorch state-dict
 * name ("img_to_features.0.weight", "fc_alphas.1.bias"…), shape (Conv
 * [out, in, kh, kw], ConvTranspose [in, out, kh, kw], Linear [out, in]) and
 * offset (in floats) in the parameter block. Every output may be NULL. The
 * name pointer is owned by the model. jvae_model_param_tensor_count is 0 on
 * NULL. Errors: INVALID_ARGUMENT (NULL model, index out of range). */
JVAE_API int jvae_model_param_tensor_count(const jvae_model *model);
JVAE_API jvae_status jvae_model_param_info(const jvae_model *model, int index, const char **name,
                                           int *ndim, int64_t shape[JVAE_TENSOR_MAX_DIMS],
                                           int64_t *offset);

#ifdef __cplusplus
}
#endif

#endif /* JOINTVAE_MODEL_H */
