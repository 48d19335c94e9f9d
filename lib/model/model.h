/*
 * Internal: the model struct, shared by lib/model (which owns it), lib/train
 * and lib/io. Fields marked [shared] are relied on outside lib/model and keep
 * their names and meaning; lib/model may add anything else below them.
 */
#ifndef JVAE_MODEL_MODEL_H
#define JVAE_MODEL_MODEL_H

#include "jointvae/model.h"
#include "core/rng.h"

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
};

#endif
