/*
 * libjointvae — training: capacity schedules, optimizers, the one-call step.
 *
 * Steps are counted from 1: step t is the t-th optimizer update, and the
 * capacities of that update are schedule(t). Schedules are pure functions of t,
 * so a run resumed from a checkpoint continues exactly (checkpoints do not
 * store schedules: pass the same ones again). Guide: docs/training.md.
 *
 * Threads: schedules of the built-in kinds are immutable and may be shared by
 * any number of threads. An optimizer mutates its model's parameters: its calls
 * must not overlap with any other call on that model.
 */
#ifndef JOINTVAE_TRAIN_H
#define JOINTVAE_TRAIN_H

#include "jointvae/core.h"
#include "jointvae/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ schedules */

/* A user schedule: the capacity at step t (>= 1), in nats. Must be a pure
 * function of t and payload (otherwise resuming is not exact). */
typedef double (*jvae_schedule_fn)(int64_t step, void *payload);

/* Capacities are KL targets in nats: every built-in schedule takes finite
 * values >= 0. Each constructor returns a new schedule in *out (owned by the
 * caller, released with jvae_schedule_free; *out is NULL on failure).
 * Errors of all four: INVALID_ARGUMENT (each bad argument named), OUT_OF_MEMORY. */

/* C(t) = min(c_max, (c_max − c_min)·t/iterations + c_min), computed in double
 * in this order as in the official code (the paper's schedule); steps below 0
 * count as 0. Requires 0 <= c_min <= c_max, iterations >= 1. */
JVAE_API jvae_status jvae_schedule_linear(jvae_schedule **out, double c_min, double c_max,
                                          int64_t iterations);
/* C(t) = value (>= 0). */
JVAE_API jvae_status jvae_schedule_constant(jvae_schedule **out, double value);
/* Piecewise-linear through (steps[i], values[i]), steps strictly increasing,
 * values >= 0, count >= 1; constant before the first and after the last point.
 * The arrays are copied. */
JVAE_API jvae_status jvae_schedule_piecewise(jvae_schedule **out, const int64_t *steps,
                                             const double *values, int count);
/* C(t) = fn(t, payload). payload is borrowed: it must outlive the schedule.
 * The value is not validated here; jvae_train_step refuses a non-finite one.
 * Thread-safety is that of fn. */
JVAE_API jvae_status jvae_schedule_callback(jvae_schedule **out, jvae_schedule_fn fn,
                                            void *payload);
/* Free a schedule. NULL is a no-op. */
JVAE_API void jvae_schedule_free(jvae_schedule *schedule);
/* Value at step t; NaN for a NULL schedule. Thread-safe for built-in kinds. */
JVAE_API double jvae_schedule_value(const jvae_schedule *schedule, int64_t step);

/* ------------------------------------------------------------ optimizers */

/* Both optimizers follow torch.optim's single-tensor code (PyTorch 1.13) step
 * by step in float, with the scalar coefficients computed in double; the exact
 * order of operations is in docs/training.md. Results agree with PyTorch to
 * float rounding. The moments have the layout of the model's parameter block
 * and are allocated at create: a step allocates nothing. */
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

/* Fill the defaults above. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_optimizer_options_init(jvae_optimizer_options *options);

/* An optimizer over `model`'s parameter block; its moments have the block's
 * layout (Adam: two blocks; SGD: one, none when momentum is 0). The model is
 * borrowed and must outlive the optimizer; *out is owned by the caller.
 * Options are checked like torch.optim's, plus finiteness: learning_rate >= 0,
 * weight_decay >= 0, Adam 0 <= beta1, beta2 < 1 and epsilon >= 0, SGD
 * momentum >= 0.
 * Errors: INVALID_ARGUMENT (NULL, each bad option named), VERSION, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_optimizer_create(jvae_optimizer **out, jvae_model *model,
                                           const jvae_optimizer_options *options);
/* Free the optimizer (not its model). NULL is a no-op. */
JVAE_API void jvae_optimizer_free(jvae_optimizer *optimizer);
/* Copy the options in use (with the current learning rate).
 * Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_optimizer_get_options(const jvae_optimizer *optimizer,
                                                jvae_optimizer_options *out);
/* Change the learning rate between steps (finite, >= 0).
 * Errors: INVALID_ARGUMENT. */
JVAE_API jvae_status jvae_optimizer_set_learning_rate(jvae_optimizer *optimizer, float lr);
/* Updates done so far (0 before the first step, or for NULL). */
JVAE_API int64_t jvae_optimizer_step_count(const jvae_optimizer *optimizer);

/* One update of the parameters from the current gradients (does not zero them);
 * the step count then grows by one.
 * Errors: INVALID_ARGUMENT (NULL), NUMERIC (a non-finite gradient: nothing is
 * updated, neither parameters, moments nor the step count), OVERFLOW (the
 * step count reached INT64_MAX). */
JVAE_API jvae_status jvae_optimizer_step(jvae_optimizer *optimizer);

/* ------------------------------------------------------------ one-call step */

/* zero_grad, forward with noise from the model's generator and capacities
 * cap_*(t) for t = step_count + 1, backward, optimizer step: exactly what a
 * custom loop of those public calls does. A NULL schedule means capacity 0
 * (for loss modes that do not use it). terms (may be NULL) receives the loss
 * terms of the forward pass, before the update. The model needs a
 * reservation (jvae_model_reserve) of at least the batch size.
 * Errors: INVALID_ARGUMENT (NULL, an optimizer of another model, a schedule
 * value that is not finite), SHAPE, STATE (no reservation), NUMERIC (a
 * non-finite input, loss or gradient: the parameters are left unchanged),
 * OVERFLOW, and those of jvae_model_forward / jvae_model_backward. */
JVAE_API jvae_status jvae_train_step(jvae_model *model, jvae_optimizer *optimizer,
                                     const jvae_schedule *cap_continuous,
                                     const jvae_schedule *cap_discrete,
                                     const jvae_tensor *images, jvae_loss_terms *terms);

#ifdef __cplusplus
}
#endif

#endif /* JOINTVAE_TRAIN_H */
