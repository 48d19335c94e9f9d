/* The one-call training step, built only from the model's public training
 * calls: the same thing a user's own loop would do. */
#include <math.h>

#include "core/error.h"
#include "core/fp_mode.h"
#include "jointvae/train.h"
#include "train/optimizer.h"

static jvae_status capacity_at(const char *fn, const char *which, const jvae_schedule *schedule,
                               int64_t step, double *out)
{
    if (schedule == NULL) {
        *out = 0.0;
        return JVAE_OK;
    }
    double value = jvae_schedule_value(schedule, step);
    if (!isfinite(value))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: %s at step %lld is %g, not finite", fn,
                         which, (long long)step, value);
    *out = value;
    return JVAE_OK;
}

static jvae_status train_step_flushed(jvae_model *model, jvae_optimizer *optimizer,
                                      const jvae_schedule *cap_continuous,
                                      const jvae_schedule *cap_discrete, const jvae_tensor *images,
                                      jvae_loss_terms *terms)
{
    static const char fn[] = "jvae_train_step";
    JVAE_CHECK_NOT_NULL(model, fn);
    JVAE_CHECK_NOT_NULL(optimizer, fn);
    JVAE_CHECK_NOT_NULL(images, fn);
    if (optimizer->model != model)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: the optimizer was created for another model", fn);
    if (optimizer->step_count == INT64_MAX)
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: step counter is exhausted", fn);
    const int64_t step = optimizer->step_count + 1;
    double cap_z = 0.0, cap_c = 0.0;
    jvae_status st = capacity_at(fn, "cap_continuous", cap_continuous, step, &cap_z);
    if (st) return st;
    if ((st = capacity_at(fn, "cap_discrete", cap_discrete, step, &cap_c))) return st;

    /* Each failure below happens before the optimizer touches the parameters,
     * and the optimizer itself refuses non-finite gradients, so a NUMERIC
     * error leaves the parameters as they were. */
    if ((st = jvae_model_zero_grad(model))) return st;
    if ((st = jvae_model_forward(model, images, NULL, NULL, cap_z, cap_c, terms))) return st;
    if ((st = jvae_model_backward(model))) return st;
    return jvae_optimizer_step(optimizer);
}

jvae_status jvae_train_step(jvae_model *model, jvae_optimizer *optimizer,
                            const jvae_schedule *cap_continuous,
                            const jvae_schedule *cap_discrete, const jvae_tensor *images,
                            jvae_loss_terms *terms)
{
    const jvae_fp_mode fp = jvae_fp_enter();
    const jvae_status st =
        train_step_flushed(model, optimizer, cap_continuous, cap_discrete, images, terms);
    jvae_fp_leave(fp);
    return st;
}
