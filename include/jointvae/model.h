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
 * allocates its own working memory (sized by the batch); use jvae_model_infer_bytes
 * to budget it. Training calls (forward, backward, step) mutate the model and
 * must not overlap with any other call on the same model.
 */
#ifndef JOINTVAE_MODEL_H
#define JOINTVAE_MODEL_H

#include "jointvae/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JVAE_MAX_DISCRETE 64

/* ------------------------------------------------------------ model options */

#define JVAE_MODEL_OPTIONS_VERSION 1

typedef struct jvae_model_options {
    unsigned version;      /* JVAE_MODEL_OPTIONS_VERSION */
    int channels;          /* image channels, 1..4 (default 1) */
    int height, width;     /* equal powers of two >= 32 (default 32x32) */
    int n_continuous;      /* continuous latents, >= 0 (default 10) */
    int n_discrete;        /* number of discrete variables, 0..JVAE_MAX_DISCRETE (default 1) */
    int discrete_sizes[JVAE_MAX_DISCRETE]; /* K_i >= 2 (default {10}) */
    float temperature;     /* Gumbel-softmax temperature > 0 (default 0.67) */
    int hidden;            /* hidden width of the fully connected layers (default 256) */
    uint64_t seed;         /* seeds the model's generator: init and training noise (default 1) */
    int threads;           /* worker threads for kernels, >= 1 (default 1) */
} jvae_model_options;

/* Fill defaults: 1x32x32, 10 continuous, one discrete of 10, T = 0.67, hidden 256,
 * seed 1, 1 thread. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_model_options_init(jvae_model_options *options);

/* ------------------------------------------------------------ lifecycle */

/* Create a model with parameters initialised like PyTorch's defaults (uniform
 * ±1/sqrt(fan_in) for weights and biases) from the model's own generator seeded
 * with options->seed. No training memory is reserved yet (jvae_model_reserve).
 * Errors: INVALID_ARGUMENT (NULL; each bad option is named), VERSION,
 *         OUT_OF_MEMORY, UNSUPPORTED (image size not buildable). */
JVAE_API jvae_status jvae_model_create(jvae_model **out, const jvae_model_options *options);

/* Free the model and everything it owns. NULL is a no-op. */
JVAE_API void jvae_model_free(jvae_model *model);

/* Copy the options the model was built with. */
JVAE_API jvae_status jvae_model_get_options(const jvae_model *model, jvae_model_options *out);

/* Total latent width Dz + Σ K_i, and Σ K_i alone; 0 on NULL. */
JVAE_API int jvae_model_latent_dim(const jvae_model *model);
JVAE_API int jvae_model_discrete_dim(const jvae_model *model);

/* Number of float parameters (the length of the parameter block). */
JVAE_API int64_t jvae_model_param_count(const jvae_model *model);

/* Reserve the training workspace (activations, gradients) for batches of up to
 * max_batch images. Training calls with a larger batch fail with SHAPE; calls
 * with a smaller one use part of the reservation. Calling again resizes.
 * Errors: INVALID_ARGUMENT, OVERFLOW, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_model_reserve(jvae_model *model, int max_batch);

/* Memory budget. params_bytes: parameters + gradients (always allocated);
 * workspace_bytes: what jvae_model_reserve(max_batch) allocates;
 * jvae_model_infer_bytes: what one inference call on `batch` images allocates. */
JVAE_API jvae_status jvae_model_memory(const jvae_model *model, int max_batch,
                                       size_t *params_bytes, size_t *workspace_bytes);
JVAE_API jvae_status jvae_model_infer_bytes(const jvae_model *model, int batch, size_t *bytes);

/* Set the number of kernel threads used by later calls on this model (>= 1). */
JVAE_API jvae_status jvae_model_set_threads(jvae_model *model, int threads);

/* Reseed the model's generator (used for training noise and jvae_sample_prior
 * when no generator seed is given). */
JVAE_API jvae_status jvae_model_seed(jvae_model *model, uint64_t seed);

/* ------------------------------------------------------------ inference */

/* images (N, C, H, W) with values in [0, 1] -> mu (N, Dz), logvar (N, Dz),
 * alpha (N, ΣK). Any N >= 1. Outputs must be preallocated with those shapes;
 * pass NULL for an output that is not wanted (or is empty).
 * Errors: INVALID_ARGUMENT, SHAPE (names the tensor and both shapes),
 *         NUMERIC (non-finite input), OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_encode(const jvae_model *model, const jvae_tensor *images,
                                 jvae_tensor *mu, jvae_tensor *logvar, jvae_tensor *alpha);

/* The deterministic latent of an encoding: z = mu, each discrete variable the
 * one-hot of argmax alpha (first index on ties). latent (N, latent_dim). */
JVAE_API jvae_status jvae_latent_deterministic(const jvae_model *model, const jvae_tensor *mu,
                                               const jvae_tensor *alpha, jvae_tensor *latent);

/* A sampled latent: z = mu + exp(logvar/2)·ε, ε ~ N(0,1); each discrete variable
 * y = softmax((log(α + 1e-12) + g)/T), g = −log(−log(u + 1e-12) + 1e-12), u ~ U[0,1).
 * Noise comes from a generator seeded with `seed` local to the call (so
 * concurrent calls are safe and reproducible). */
JVAE_API jvae_status jvae_latent_sample(const jvae_model *model, const jvae_tensor *mu,
                                        const jvae_tensor *logvar, const jvae_tensor *alpha,
                                        uint64_t seed, jvae_tensor *latent);

/* latent (N, latent_dim) -> images (N, C, H, W) in [0, 1]. */
JVAE_API jvae_status jvae_decode(const jvae_model *model, const jvae_tensor *latent,
                                 jvae_tensor *images);

/* Latents from the prior: continuous N(0, I); discrete variable i uniform
 * one-hot, unless fixed_categories is non-NULL and fixed_categories[i] >= 0, in
 * which case every sample gets that category (length n_discrete).
 * latent (N, latent_dim); images (N, C, H, W) may be NULL (then only the latent
 * is written) or receives the decoded samples. Noise from a generator seeded
 * with `seed`. Errors: INVALID_ARGUMENT (category out of range), SHAPE. */
JVAE_API jvae_status jvae_sample_prior(const jvae_model *model, uint64_t seed,
                                       const int *fixed_categories, jvae_tensor *latent,
                                       jvae_tensor *images);

/* ------------------------------------------------------------ loss */

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
     * d(total/(H·W))/dθ. */
    int official_scaling;
} jvae_loss_options;

JVAE_API jvae_status jvae_loss_options_init(jvae_loss_options *options);

/* Every term of one forward pass, averaged over the batch (nats). */
typedef struct jvae_loss_terms {
    double reconstruction;
    double kl_continuous;       /* Σ over units of the batch-mean KL */
    double kl_discrete;         /* Σ over variables */
    double capacity_continuous; /* C_z(t) used (or the joint C for CAPACITY mode) */
    double capacity_discrete;   /* C_c(t) used, after clipping to Σ log K_i */
    double capacity_term_continuous; /* γ_z|KL_z − C_z| (or β·KL_z, or the joint term) */
    double capacity_term_discrete;   /* γ_c|KL_c − C_c| (or β·KL_c, or 0) */
    double total;
    int batch;
} jvae_loss_terms;

/* Set the loss used by forward/backward/step. Errors: INVALID_ARGUMENT, VERSION. */
JVAE_API jvae_status jvae_model_set_loss(jvae_model *model, const jvae_loss_options *options);
JVAE_API jvae_status jvae_model_get_loss(const jvae_model *model, jvae_loss_options *out);

/* ------------------------------------------------------------ custom training loop */

/* Forward pass of the training loss for a batch (N <= reserved batch):
 *   images (N, C, H, W) in [0, 1];
 *   eps (N, Dz) Gaussian noise and uniform (N, ΣK) values in [0, 1) for the
 *   Gumbel noise, or both NULL to draw them from the model's generator;
 *   cap_continuous, cap_discrete: capacities for this step (the discrete one is
 *   clipped to Σ log K_i).
 * Keeps the activations for jvae_model_backward. terms may be NULL.
 * Errors: INVALID_ARGUMENT, SHAPE, STATE (no reservation), NUMERIC (NaN/Inf in
 * input or loss). */
JVAE_API jvae_status jvae_model_forward(jvae_model *model, const jvae_tensor *images,
                                        const jvae_tensor *eps, const jvae_tensor *uniform,
                                        double cap_continuous, double cap_discrete,
                                        jvae_loss_terms *terms);

/* Accumulate the gradient of the last forward's total into the gradient block.
 * Errors: STATE (no forward since the last backward), NUMERIC (non-finite gradient). */
JVAE_API jvae_status jvae_model_backward(jvae_model *model);

/* Zero the gradient block. */
JVAE_API jvae_status jvae_model_zero_grad(jvae_model *model);

/* Per-unit KL of the last forward: continuous units (Dz values, batch means) and
 * discrete variables (n_discrete values). Either output may be NULL; counts must
 * match. Errors: STATE before any forward, INVALID_ARGUMENT. */
JVAE_API jvae_status jvae_model_kl_per_unit(const jvae_model *model, float *continuous,
                                            int n_continuous, float *discrete, int n_discrete);

/* Direct access to the parameter and gradient blocks (param_count floats each),
 * owned by the model, valid until it is freed. Layout: the tensors of
 * jvae_model_param_info in order. */
JVAE_API float *jvae_model_params(jvae_model *model);
JVAE_API float *jvae_model_grads(jvae_model *model);

/* Describe parameter tensor `index` (0 .. count-1) with its PyTorch state-dict
 * name ("encoder.0.weight"…), shape and offset in the parameter block. The name
 * pointer is owned by the model. Errors: INVALID_ARGUMENT (index out of range). */
JVAE_API int jvae_model_param_tensor_count(const jvae_model *model);
JVAE_API jvae_status jvae_model_param_info(const jvae_model *model, int index, const char **name,
                                           int *ndim, int64_t shape[JVAE_TENSOR_MAX_DIMS],
                                           int64_t *offset);

#ifdef __cplusplus
}
#endif

#endif /* JOINTVAE_MODEL_H */
