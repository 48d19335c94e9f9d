/*
 * libjointvae — training: capacity schedules, optimizers, the one-call step.
 *
 * Steps are counted from 1: step t is the t-th optimizer update, and the
 * capacities of that update are schedule(t). Schedules are pure functions of t,
 * so a run resumed from a checkpoint continues exactly.
 */
#ifndef JOINTVAE_TRAIN_H
#define JOINTVAE_TRAIN_H

#include "jointvae/core.h"
#include "jointvae/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ schedules */

/* A user schedule: the capacity at step t (>= 1). Must be a pure function of
 * t and payload. */
typedef double (*jvae_schedule_fn)(int64_t step, void *payload);

/* C(t) = min(c_max, (c_max − c_min)·t/iterations + c_min)  (the paper's; iterations >= 1).
 * Errors: INVALID_ARGUMENT (NULL out, non-finite values, iterations < 1). */
JVAE_API jvae_status jvae_schedule_linear(jvae_schedule **out, double c_min, double c_max,
                                          int64_t iterations);
/* C(t) = value. */
JVAE_API jvae_status jvae_schedule_constant(jvae_schedule **out, double value);
/* Piecewise-linear through (steps[i], values[i]), steps strictly increasing,
 * count >= 1; constant before the first and after the last point. The arrays
 * are copied. */
JVAE_API jvae_status jvae_schedule_piecewise(jvae_schedule **out, const int64_t *steps,
                                             const double *values, int count);
/* C(t) = fn(t, payload). payload is borrowed: it must outlive the schedule. */
JVAE_API jvae_status jvae_schedule_callback(jvae_schedule **out, jvae_schedule_fn fn,
                                            void *payload);
JVAE_API void jvae_schedule_free(jvae_schedule *schedule);
/* Value at step t; NaN for a NULL schedule. Thread-safe for built-in kinds. */
JVAE_API double jvae_schedule_value(const jvae_schedule *schedule, int64_t step);

/* ------------------------------------------------------------ optimizers */

typedef enum jvae_optimizer_kind {
    JVAE_OPTIMIZER_ADAM = 0, /* Adam with L2 weight decay added to the gradient, like torch.optim.Adam */
    JVAE_OPTIMIZER_SGD = 1   /* SGD with momentum (torch.optim.SGD semantics, dampening 0) */
} jvae_optimizer_kind;

#define JVAE_OPTIMIZER_OPTIONS_VERSION 1

typedef struct jvae_optimizer_options {
    unsigned version;         /* JVAE_OPTIMIZER_OPTIONS_VERSION */
    jvae_optimizer_kind kind; /* default ADAM */
    float learning_rate;      /* default 5e-4 */
    float beta1, beta2;       /* Adam (default 0.9, 0.999) */
    float epsilon;            /* Adam (default 1e-8) */
    float weight_decay;       /* default 0 */
    float momentum;           /* SGD (default 0.9) */
} jvae_optimizer_options;

JVAE_API jvae_status jvae_optimizer_options_init(jvae_optimizer_options *options);

/* An optimizer over `model`'s parameter block; its moments have the block's
 * layout. The model must outlive the optimizer.
 * Errors: INVALID_ARGUMENT (each bad option named), VERSION, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_optimizer_create(jvae_optimizer **out, jvae_model *model,
                                           const jvae_optimizer_options *options);
JVAE_API void jvae_optimizer_free(jvae_optimizer *optimizer);
JVAE_API jvae_status jvae_optimizer_get_options(const jvae_optimizer *optimizer,
                                                jvae_optimizer_options *out);
/* Change the learning rate between steps. */
JVAE_API jvae_status jvae_optimizer_set_learning_rate(jvae_optimizer *optimizer, float lr);
/* Updates done so far (0 before the first step). */
JVAE_API int64_t jvae_optimizer_step_count(const jvae_optimizer *optimizer);

/* One update of the parameters from the current gradients (does not zero them).
 * Errors: INVALID_ARGUMENT, NUMERIC (a non-finite gradient: nothing is updated). */
JVAE_API jvae_status jvae_optimizer_step(jvae_optimizer *optimizer);

/* ------------------------------------------------------------ one-call step */

/* zero_grad, forward with noise from the model's generator and capacities
 * cap_*(t) for t = step_count + 1, backward, optimizer step. terms may be NULL.
 * A non-finite loss or gradient returns NUMERIC and leaves the parameters
 * unchanged. The model and optimizer must belong together. */
JVAE_API jvae_status jvae_train_step(jvae_model *model, jvae_optimizer *optimizer,
                                     const jvae_schedule *cap_continuous,
                                     const jvae_schedule *cap_discrete,
                                     const jvae_tensor *images, jvae_loss_terms *terms);

#ifdef __cplusplus
}
#endif

#endif /* JOINTVAE_TRAIN_H */
