/* Internal: the optimizer struct, shared by lib/train (which owns it) and
 * lib/io (which saves and restores it in checkpoints). */
#ifndef JVAE_TRAIN_OPTIMIZER_H
#define JVAE_TRAIN_OPTIMIZER_H

#include "jointvae/train.h"

struct jvae_optimizer {
    jvae_optimizer_options options; /* as validated at create */
    jvae_model *model;              /* borrowed; the parameter block it updates */
    int64_t param_count;            /* floats in each moment buffer */
    int64_t step_count;             /* updates done so far */
    /* Moments in the layout of the model's parameter block (param_count each):
     * Adam: first moment m, second moment v (torch's exp_avg, exp_avg_sq).
     * SGD: the momentum buffer in `first` (torch's momentum_buffer); NULL when
     * momentum is 0. `second` is NULL for SGD. */
    float *first;
    float *second;
};

/* Check options the way jvae_optimizer_create does (also used by lib/io on a
 * checkpoint's metadata). fn names the caller in the message. */
jvae_status jvae_optimizer_check_options(const char *fn, const jvae_optimizer_options *options);

#endif
