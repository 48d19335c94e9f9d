/* Information per latent unit: mean KL over images or a data set (paper §4.2). */
#include <stdlib.h>

#include "core/error.h"
#include "core/tensor.h"
#include "jointvae/metrics.h"
#include "metrics/encoding.h"

static jvae_status check_kl_output(const char *fn, const float *kl, int kl_count,
                                   const jvae_model *model, jvae_model_options *options)
{
    JVAE_CHECK_NOT_NULL(kl, fn);
    JVAE_CHECK_NOT_NULL(model, fn);
    jvae_status st = jvae_model_get_options(model, options);
    if (st) return st;
    int units = options->n_continuous + options->n_discrete;
    if (kl_count != units)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: kl_count is %d, the model has %d units (%d continuous + %d discrete)",
                         fn, kl_count, units, options->n_continuous, options->n_discrete);
    return JVAE_OK;
}

static void write_means(float *kl, const double *sums, int units, int64_t n)
{
    for (int u = 0; u < units; u++) kl[u] = (float)(sums[u] / (double)n);
}

jvae_status jvae_kl_per_unit_images(float *kl, int kl_count, const jvae_model *model,
                                    const jvae_tensor *images)
{
    static const char fn[] = "jvae_kl_per_unit_images";
    jvae_model_options options;
    jvae_status st = check_kl_output(fn, kl, kl_count, model, &options);
    if (st) return st;
    int64_t want[4] = {-1, options.channels, options.height, options.width};
    st = jvae_tensor_expect(images, "jvae_kl_per_unit_images: images", 4, want);
    if (st) return st;
    const int64_t n = images->shape[0];
    const int dz = options.n_continuous, sum_k = jvae_model_discrete_dim(model);
    jvae_tensor *mu = NULL, *logvar = NULL, *alpha = NULL;
    if (dz > 0) {
        int64_t shape[2] = {n, dz};
        st = jvae_tensor_create(&mu, 2, shape);
        if (st == JVAE_OK) st = jvae_tensor_create(&logvar, 2, shape);
    }
    if (st == JVAE_OK && sum_k > 0) {
        int64_t shape[2] = {n, sum_k};
        st = jvae_tensor_create(&alpha, 2, shape);
    }
    double *sums = calloc((size_t)kl_count + 1, sizeof *sums);
    if (st == JVAE_OK && sums == NULL)
        st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    if (st == JVAE_OK) st = jvae_encode(model, images, mu, logvar, alpha);
    if (st == JVAE_OK) {
        jvae_kl_accumulate(sums, &options, jvae_tensor_data(mu), jvae_tensor_data(logvar),
                           jvae_tensor_data(alpha), (int)n);
        write_means(kl, sums, kl_count, n);
    }
    free(sums);
    jvae_tensor_free(mu);
    jvae_tensor_free(logvar);
    jvae_tensor_free(alpha);
    return st;
}

jvae_status jvae_kl_per_unit(float *kl, int kl_count, const jvae_model *model,
                             const jvae_dataset *data, int64_t max_images, int batch)
{
    static const char fn[] = "jvae_kl_per_unit";
    jvae_model_options options;
    jvae_status st = check_kl_output(fn, kl, kl_count, model, &options);
    if (st) return st;
    JVAE_CHECK_NOT_NULL(data, fn);
    int64_t n = 0;
    st = jvae_encoding_count(fn, data, max_images, batch, &n);
    if (st) return st;
    double *sums = calloc((size_t)kl_count + 1, sizeof *sums);
    if (sums == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    jvae_encoding_walk walk = {0};
    st = jvae_encoding_walk_begin(&walk, fn, model, data, n, batch);
    int count = 1;
    while (st == JVAE_OK && count > 0) {
        st = jvae_encoding_walk_next(&walk, &count);
        if (st == JVAE_OK)
            jvae_kl_accumulate(sums, &options, walk.mu_data, walk.logvar_data, walk.alpha_data,
                               count);
    }
    jvae_encoding_walk_end(&walk);
    if (st == JVAE_OK) write_means(kl, sums, kl_count, n);
    free(sums);
    return st;
}
