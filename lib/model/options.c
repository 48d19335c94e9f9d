/* Model and loss options: defaults and validation (one message per bad option). */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "model/model.h"

jvae_status jvae_model_options_init(jvae_model_options *options)
{
    JVAE_CHECK_NOT_NULL(options, "jvae_model_options_init");
    memset(options, 0, sizeof *options);
    options->version = JVAE_MODEL_OPTIONS_VERSION;
    options->channels = 1;
    options->height = 32;
    options->width = 32;
    options->n_continuous = 10;
    options->n_discrete = 1;
    options->discrete_sizes[0] = 10;
    options->temperature = 0.67f;
    options->hidden = 256;
    options->seed = 1;
    options->threads = 1;
    return JVAE_OK;
}

static int is_power_of_two(int x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

jvae_status jvae_model_options_check(const char *fn, const jvae_model_options *o)
{
    if (o == NULL) return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: options is NULL", fn);
    if (o->version != JVAE_MODEL_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION,
                         "%s: options.version %u is not supported (this library knows %u)", fn,
                         o->version, (unsigned)JVAE_MODEL_OPTIONS_VERSION);
    if (o->channels < 1 || o->channels > 4)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: options.channels must be 1..4, got %d",
                         fn, o->channels);
    if (o->height != o->width)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: options.height and options.width must be equal, got %dx%d", fn,
                         o->height, o->width);
    if (o->height < 32 || !is_power_of_two(o->height))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: options.height must be a power of two >= 32, got %d", fn,
                         o->height);
    if (o->height > JVAE_MAX_IMAGE_SIDE)
        return jvae_fail(JVAE_ERR_UNSUPPORTED,
                         "%s: images larger than %dx%d are not supported, got %dx%d", fn,
                         JVAE_MAX_IMAGE_SIDE, JVAE_MAX_IMAGE_SIDE, o->height, o->width);
    if (o->n_continuous < 0 || o->n_continuous > JVAE_MAX_WIDTH)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: options.n_continuous must be 0..%d, got %d", fn, JVAE_MAX_WIDTH,
                         o->n_continuous);
    if (o->n_discrete < 0 || o->n_discrete > JVAE_MAX_DISCRETE)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: options.n_discrete must be 0..%d, got %d",
                         fn, JVAE_MAX_DISCRETE, o->n_discrete);
    for (int i = 0; i < o->n_discrete; i++)
        if (o->discrete_sizes[i] < 2 || o->discrete_sizes[i] > JVAE_MAX_WIDTH)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                             "%s: options.discrete_sizes[%d] must be 2..%d, got %d", fn, i,
                             JVAE_MAX_WIDTH, o->discrete_sizes[i]);
    if (o->n_continuous == 0 && o->n_discrete == 0)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: the model needs at least one latent (options.n_continuous and "
                         "options.n_discrete are both 0)",
                         fn);
    if (!(o->temperature > 0.0f) || !isfinite(o->temperature))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: options.temperature must be finite and > 0, got %g", fn,
                         (double)o->temperature);
    if (o->hidden < 1 || o->hidden > JVAE_MAX_WIDTH)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: options.hidden must be 1..%d, got %d",
                         fn, JVAE_MAX_WIDTH, o->hidden);
    if (o->threads < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: options.threads must be >= 1, got %d",
                         fn, o->threads);
    return JVAE_OK;
}

jvae_status jvae_model_get_options(const jvae_model *model, jvae_model_options *out)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_get_options");
    JVAE_CHECK_NOT_NULL(out, "jvae_model_get_options");
    *out = model->options;
    return JVAE_OK;
}

jvae_status jvae_model_set_threads(jvae_model *model, int threads)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_set_threads");
    if (threads < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "jvae_model_set_threads: threads must be >= 1, got %d", threads);
    if (threads == model->options.threads) return JVAE_OK;
    /* The conv kernels keep one work area per thread in the workspace. */
    if (model->reserved_batch > 0) {
        jvae_status st = jvae_model_reserve_for("jvae_model_set_threads", model,
                                                model->reserved_batch, threads);
        if (st) return st;
    }
    model->options.threads = threads;
    return JVAE_OK;
}

jvae_status jvae_model_seed(jvae_model *model, uint64_t seed)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_seed");
    jvae_rng_seed(&model->rng, seed);
    return JVAE_OK;
}

/* ------------------------------------------------------------ loss options */

jvae_status jvae_loss_options_init(jvae_loss_options *options)
{
    JVAE_CHECK_NOT_NULL(options, "jvae_loss_options_init");
    memset(options, 0, sizeof *options);
    options->version = JVAE_LOSS_OPTIONS_VERSION;
    options->mode = JVAE_LOSS_JOINTVAE;
    options->gamma_continuous = 30.0f;
    options->gamma_discrete = 30.0f;
    options->beta = 4.0f;
    options->gamma = 30.0f;
    options->official_scaling = 0;
    return JVAE_OK;
}

static jvae_status check_weight(const char *fn, const char *name, float value)
{
    if (!isfinite(value) || value < 0.0f)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: loss options.%s must be finite and >= 0, got %g", fn, name,
                         (double)value);
    return JVAE_OK;
}

jvae_status jvae_loss_options_check(const char *fn, const jvae_loss_options *o)
{
    if (o == NULL) return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: options is NULL", fn);
    if (o->version != JVAE_LOSS_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION,
                         "%s: loss options.version %u is not supported (this library knows %u)",
                         fn, o->version, (unsigned)JVAE_LOSS_OPTIONS_VERSION);
    if (o->mode != JVAE_LOSS_JOINTVAE && o->mode != JVAE_LOSS_BETA_VAE &&
        o->mode != JVAE_LOSS_CAPACITY)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: loss options.mode %d is unknown", fn,
                         (int)o->mode);
    jvae_status st;
    if ((st = check_weight(fn, "gamma_continuous", o->gamma_continuous)) ||
        (st = check_weight(fn, "gamma_discrete", o->gamma_discrete)) ||
        (st = check_weight(fn, "beta", o->beta)) || (st = check_weight(fn, "gamma", o->gamma)))
        return st;
    if (o->official_scaling != 0 && o->official_scaling != 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: loss options.official_scaling must be 0 or 1, got %d", fn,
                         o->official_scaling);
    return JVAE_OK;
}

jvae_status jvae_model_set_loss(jvae_model *model, const jvae_loss_options *options)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_set_loss");
    jvae_status st = jvae_loss_options_check("jvae_model_set_loss", options);
    if (st) return st;
    model->loss = *options;
    return JVAE_OK;
}

jvae_status jvae_model_get_loss(const jvae_model *model, jvae_loss_options *out)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_get_loss");
    JVAE_CHECK_NOT_NULL(out, "jvae_model_get_loss");
    *out = model->loss;
    return JVAE_OK;
}
