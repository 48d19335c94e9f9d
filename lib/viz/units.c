#include "viz/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/tensor.h"

#define PICTURE_MAX_SIDE 1024

jvae_status jvae_model_view_init(jvae_model_view *view, const jvae_model *model, const char *fn)
{
    JVAE_CHECK_NOT_NULL(model, fn);
    jvae_status st = jvae_model_get_options(model, &view->options);
    if (st) return st;
    view->latent_dim = jvae_model_latent_dim(model);
    view->units = view->options.n_continuous + view->options.n_discrete;
    int column = view->options.n_continuous;
    for (int v = 0; v < view->options.n_discrete; v++) {
        view->offset[v] = column;
        column += view->options.discrete_sizes[v];
    }
    return JVAE_OK;
}

jvae_status jvae_check_unit(const jvae_model_view *view, int unit, const char *what,
                            const char *fn)
{
    if (unit < 0 || unit >= view->units)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: %s %d is not a unit of the model (0..%d: %d continuous, %d discrete)",
                         fn, what, unit, view->units - 1, view->options.n_continuous,
                         view->options.n_discrete);
    return JVAE_OK;
}

int jvae_unit_categories(const jvae_model_view *view, int unit)
{
    int v = unit - view->options.n_continuous;
    return v >= 0 ? view->options.discrete_sizes[v] : 0;
}

void jvae_unit_name(char *buf, size_t size, const jvae_model_view *view, int unit)
{
    if (unit < view->options.n_continuous)
        snprintf(buf, size, "z%d", unit);
    else
        snprintf(buf, size, "c%d", unit - view->options.n_continuous);
}

void jvae_set_unit(float *latent, const jvae_model_view *view, int unit, double value)
{
    if (unit < view->options.n_continuous) {
        latent[unit] = (float)value;
        return;
    }
    int v = unit - view->options.n_continuous;
    float *block = latent + view->offset[v];
    for (int c = 0; c < view->options.discrete_sizes[v]; c++) block[c] = 0.0f;
    block[(int)value] = 1.0f;
}

void jvae_fixed_base(float *latent, const jvae_model_view *view)
{
    memset(latent, 0, (size_t)view->latent_dim * sizeof *latent);
    for (int v = 0; v < view->options.n_discrete; v++) latent[view->offset[v]] = 1.0f;
}

int jvae_unit_steps(const jvae_model_view *view, int unit, int columns)
{
    int k = jvae_unit_categories(view, unit);
    return k > 0 ? k : columns;
}

double jvae_unit_step_value(const jvae_model_view *view, int unit, const double *values, int s)
{
    int k = jvae_unit_categories(view, unit);
    return k > 0 ? (double)(s % k) : values[s];
}

jvae_status jvae_picture_options_init(jvae_picture_options *options)
{
    JVAE_CHECK_NOT_NULL(options, "jvae_picture_options_init");
    options->version = JVAE_PICTURE_OPTIONS_VERSION;
    options->columns = 10;
    options->rows = 8;
    options->padding = 2;
    options->scale = 1;
    options->background = 0.5f;
    options->seed = 1;
    options->base = JVAE_TRAVERSAL_BASE_ZERO;
    options->quantile_low = 0.05;
    options->quantile_high = 0.95;
    return JVAE_OK;
}

jvae_status jvae_picture_options_resolve(jvae_picture_options *out,
                                         const jvae_picture_options *options, const char *fn)
{
    if (options == NULL) return jvae_picture_options_init(out);
    if (options->version != JVAE_PICTURE_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION, "%s: picture options version %u, this library knows %u",
                         fn, options->version, JVAE_PICTURE_OPTIONS_VERSION);
    if (options->columns < 1 || options->columns > PICTURE_MAX_SIDE || options->rows < 1 ||
        options->rows > PICTURE_MAX_SIDE)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: rows and columns must be 1..%d, got %d x %d",
                         fn, PICTURE_MAX_SIDE, options->rows, options->columns);
    jvae_status st = jvae_check_grid_style(fn, options->padding, options->scale, options->background);
    if (st) return st;
    if (options->base != JVAE_TRAVERSAL_BASE_ZERO && options->base != JVAE_TRAVERSAL_BASE_PRIOR)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: unknown traversal base %d", fn,
                         (int)options->base);
    if (!(options->quantile_low > 0.0 && options->quantile_low < options->quantile_high &&
          options->quantile_high < 1.0))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: quantiles must satisfy 0 < low < high < 1, got %g and %g", fn,
                         options->quantile_low, options->quantile_high);
    *out = *options;
    return JVAE_OK;
}

jvae_status jvae_alloc_floats(float **out, int64_t n, int64_t cols, const char *fn)
{
    size_t count, bytes;
    *out = NULL;
    if (n < 0 || cols < 0 || !jvae_mul_ok((size_t)n, (size_t)cols, &count) ||
        !jvae_mul_ok(count, sizeof(float), &bytes))
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: %lld x %lld floats overflow", fn, (long long)n,
                         (long long)cols);
    *out = malloc(bytes ? bytes : 1);
    if (*out == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", fn, bytes);
    return JVAE_OK;
}

jvae_status jvae_picture_base(float *latent, const jvae_model *model,
                              const jvae_model_view *view, const jvae_picture_options *o)
{
    if (o->base == JVAE_TRAVERSAL_BASE_ZERO) {
        jvae_fixed_base(latent, view);
        return JVAE_OK;
    }
    int64_t shape[2] = {1, view->latent_dim};
    jvae_tensor *t = NULL;
    jvae_status st = jvae_tensor_wrap(&t, latent, 2, shape);
    if (st == JVAE_OK) st = jvae_sample_prior(model, o->seed, NULL, t, NULL);
    jvae_tensor_free(t);
    return st;
}

jvae_status jvae_decode_rows(jvae_tensor **images, const jvae_model *model,
                             const jvae_model_view *view, float *latent, int64_t n,
                             const char *fn)
{
    *images = NULL;
    int64_t latent_shape[2] = {n, view->latent_dim};
    int64_t image_shape[4] = {n, view->options.channels, view->options.height,
                              view->options.width};
    jvae_tensor *latent_tensor = NULL;
    jvae_status st = jvae_tensor_wrap(&latent_tensor, latent, 2, latent_shape);
    if (st == JVAE_OK) st = jvae_tensor_create(images, 4, image_shape);
    if (st == JVAE_OK) st = jvae_decode(model, latent_tensor, *images);
    if (st == JVAE_OK)
        st = jvae_check_finite(fn, "the decoded images", (*images)->data, (*images)->numel);
    jvae_tensor_free(latent_tensor);
    if (st) {
        jvae_tensor_free(*images);
        *images = NULL;
    }
    return st;
}
