/*
 * Internal: the model struct, shared by lib/model (which owns it), lib/train
 * and lib/io. Fields marked [shared] are relied on outside lib/model and keep
 * their names and meaning; lib/model may add anything else below them.
 *
 * Dimension legend: B reserved batch, N batch of a call, C/H/W image, S conv
 * stages per side (log2(H) − 2), Dz continuous latents, ΣK discrete columns,
 * L = Dz + ΣK latent width, F = 64·4·4 = 1024 feature width, Hd hidden width.
 */
#ifndef JVAE_MODEL_MODEL_H
#define JVAE_MODEL_MODEL_H

#include "jointvae/model.h"
#include "core/rng.h"
#include "nn/nn.h"

/* Image sides 32 .. 4096: S = 3 .. 10 stride-2 stages per side. */
#define JVAE_MAX_STAGES 10
#define JVAE_MAX_IMAGE_SIDE 4096
/* Every layer is a weight tensor followed by its bias tensor: S convs each side,
 * features_to_hidden, fc_mean, fc_log_var, one fc_alphas per discrete variable
 * and the two latent_to_features linears. */
#define JVAE_MAX_PARAM_TENSORS (2 * (2 * JVAE_MAX_STAGES + 5 + JVAE_MAX_DISCRETE))
/* The decoder starts from (64, 4, 4) features, the encoder ends there. */
#define JVAE_FEATURE_CHANNELS 64
#define JVAE_FEATURE_SIDE 4
#define JVAE_FEATURES (JVAE_FEATURE_CHANNELS * JVAE_FEATURE_SIDE * JVAE_FEATURE_SIDE)
#define JVAE_PARAM_NAME_MAX 48

/* One tensor of the parameter block, in the official PyTorch state-dict order. */
typedef struct jvae_param_tensor {
    char name[JVAE_PARAM_NAME_MAX];
    int ndim;
    int64_t shape[JVAE_TENSOR_MAX_DIMS];
    int64_t offset; /* floats from the start of params / grads */
    int64_t numel;
    int64_t fan_in; /* PyTorch's fan_in of the layer: init is uniform ±1/sqrt(fan_in) */
} jvae_param_tensor;

/* A linear layer: weight (out, in) at tensors[tensor], bias (out) at tensors[tensor + 1]. */
typedef struct jvae_linear_layer {
    int tensor;
    int in, out;
} jvae_linear_layer;

/* A conv or transposed conv stage; dims are per image (batch 1). */
typedef struct jvae_conv_layer {
    int tensor;
    jvae_conv_dims dims;
} jvae_conv_layer;

/* Where the training activations and gradients live inside the workspace
 * (each sized for the reserved batch B). */
typedef struct jvae_train_buffers {
    float *images;                   /* (B, C, H, W) copy of the forward's input */
    float *enc_act[JVAE_MAX_STAGES]; /* (B, c_s, h_s, w_s) after ReLU */
    float *hidden;                   /* (B, Hd) after ReLU */
    float *mu, *logvar, *eps;        /* (B, Dz) */
    float *alpha;                    /* (B, ΣK) softmax probabilities */
    float *uniform;                  /* (B, ΣK) Gumbel noise drawn from the generator */
    float *latent;                   /* (B, L) [z | y_0 | y_1 …] */
    float *dec_hidden;               /* (B, Hd) after ReLU */
    float *dec_features;             /* (B, F) after ReLU */
    float *dec_act[JVAE_MAX_STAGES]; /* (B, c_s, h_s, w_s) after ReLU; the last is the logits */
    float *grad_a, *grad_b;          /* (B, largest activation) ping-pong gradients */
    float *dmu, *dlogvar;            /* (B, Dz) */
    float *dalpha;                   /* (B, ΣK) */
    float *head_blocks;              /* ΣK·B: per-variable (B, K_i) blocks of alpha logits
                                        (forward) and of their gradients (backward) */
    float *dlatent;                  /* (B, L) */
    float *scratch;                  /* conv kernels' scratch for batch B */
} jvae_train_buffers;

struct jvae_model {
    jvae_model_options options; /* [shared] as created (validated) */
    jvae_loss_options loss;     /* [shared] loss used by forward/backward */
    jvae_rng rng;               /* [shared] training noise; saved in checkpoints */
    int latent_dim;             /* [shared] Dz + ΣK */
    int discrete_dim;           /* [shared] ΣK */
    int64_t param_count;        /* [shared] floats in the parameter block */
    float *params;              /* [shared] (param_count) */
    float *grads;               /* [shared] (param_count), same layout */
    /* lib/model's own fields follow (layer table, workspace, …). */

    /* Architecture. */
    int stages;                               /* S */
    jvae_conv_layer encoder[JVAE_MAX_STAGES]; /* img_to_features.{2s} */
    jvae_conv_layer decoder[JVAE_MAX_STAGES]; /* features_to_img.{2s} */
    jvae_linear_layer to_hidden;              /* features_to_hidden.0: F -> Hd */
    jvae_linear_layer mean, log_var;          /* fc_mean, fc_log_var: Hd -> Dz */
    jvae_linear_layer alpha[JVAE_MAX_DISCRETE]; /* fc_alphas.i: Hd -> K_i */
    jvae_linear_layer latent_to_hidden;       /* latent_to_features.0: L -> Hd */
    jvae_linear_layer hidden_to_features;     /* latent_to_features.2: Hd -> F */
    int disc_offset[JVAE_MAX_DISCRETE];       /* first column of variable i in (ΣK) */
    double disc_capacity_max;                 /* Σ log K_i, the discrete capacity's clip */
    int tensor_count;
    jvae_param_tensor tensors[JVAE_MAX_PARAM_TENSORS];

    /* Training workspace (jvae_model_reserve). */
    int reserved_batch;     /* B; 0 when nothing is reserved */
    float *workspace;       /* one allocation holding every buffer below */
    jvae_pool *pool;        /* the conv kernels' workers for options.threads; NULL for 1 */
    jvae_train_buffers buf;
    /* State of the last forward. */
    int pending_batch;       /* N of a forward that backward has not consumed yet, else 0 */
    int has_forward;         /* kl_units holds a forward's values */
    double dtotal_dkl_cont;  /* ∂(backpropagated loss)/∂KL_z of that forward */
    double dtotal_dkl_disc;  /* ∂(backpropagated loss)/∂KL_c */
    double dtotal_drecon_sum; /* ∂(backpropagated loss)/∂(Σ of the BCE over the batch) */
    float *kl_units;         /* (Dz + n_discrete): per-unit KL of the last forward */
};

/* Pointers to a layer's weight and bias inside a block laid out like params. */
static inline float *jvae_layer_weight(const jvae_model *m, float *block, int tensor)
{
    return block + m->tensors[tensor].offset;
}

static inline float *jvae_layer_bias(const jvae_model *m, float *block, int tensor)
{
    return block + m->tensors[tensor + 1].offset;
}

/* Check loss options the way jvae_model_set_loss does (lib/io uses it on a
 * file's metadata). fn names the caller in the message. */
jvae_status jvae_loss_options_check(const char *fn, const jvae_loss_options *options);

/* (Re)allocate the training workspace for max_batch images and `threads`
 * kernel threads (the conv scratch grows with the thread count) and the pool
 * of those threads; drops a pending forward. On failure the previous
 * workspace and pool stay. fn names the caller in messages. */
jvae_status jvae_model_reserve_for(const char *fn, jvae_model *model, int max_batch,
                                   int threads);

/* Check model options the way jvae_model_create does. */
jvae_status jvae_model_options_check(const char *fn, const jvae_model_options *options);

/* jvae_model_create in two steps. _plan checks the options and makes a model
 * with its sizes and layer table but no blocks (params, grads and kl_units
 * NULL; jvae_model_free frees it); _allocate gives it the blocks, initialised.
 * lib/io plans a file's model and checks the file's tensors against the
 * table before it allocates: a few bytes of metadata can describe gigabytes.
 * fn names the caller in messages. _plan leaves *out NULL on failure; after
 * a failed _allocate the caller still owns the model and frees it. */
jvae_status jvae_model_plan(const char *fn, const jvae_model_options *options,
                            jvae_model **out);
jvae_status jvae_model_allocate(const char *fn, jvae_model *model);

#endif
