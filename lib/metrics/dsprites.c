/* FactorVAE and MIG of a model on dSprites, rendered on the fly: the model's
 * code (continuous means, one argmax index per discrete variable) as a
 * jvae_factor_code over the 5 factors shape, scale, orientation, posX, posY. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "jointvae/data.h"
#include "metrics/encoding.h"
#include "metrics/factor_code.h"

#define DSPRITES_METRIC_FACTORS 5
/* Images for the mean KL of each unit, the paper preset's pruning: this many,
 * or variance_images when that is smaller and not 0. */
#define DSPRITES_KL_IMAGES 10000
#define DSPRITES_KL_BATCH 256

static const int32_t dsprites_factor_sizes[DSPRITES_METRIC_FACTORS] = {3, 6, 40, 32, 32};

typedef struct dsprites_encoder {
    const jvae_model *model;
    jvae_dataset *dsprites;
    jvae_model_options options;
    int discrete_dim;
    int32_t *categories; /* (Dz + n_discrete) of the code */
    double *kl_sums;     /* when not NULL, encode also adds each unit's KL here */
} dsprites_encoder;

static jvae_status encode_dsprites(float *codes, const int32_t *factors, int count,
                                   void *payload)
{
    static const char fn[] = "dSprites encoder";
    dsprites_encoder *e = payload;
    const int dz = e->options.n_continuous, nd = e->options.n_discrete;
    const int dims = dz + nd;
    int32_t *classes = malloc((size_t)count * JVAE_DSPRITES_FACTORS * sizeof *classes);
    if (classes == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    for (int i = 0; i < count; i++) {
        classes[(size_t)i * JVAE_DSPRITES_FACTORS + JVAE_DSPRITES_COLOR] = 0;
        for (int f = 0; f < DSPRITES_METRIC_FACTORS; f++)
            classes[(size_t)i * JVAE_DSPRITES_FACTORS + 1 + (size_t)f] =
                factors[(size_t)i * DSPRITES_METRIC_FACTORS + (size_t)f];
    }
    jvae_tensor *images = NULL, *mu = NULL, *logvar = NULL, *alpha = NULL;
    int64_t image_shape[4] = {count, 1, JVAE_DSPRITES_SIDE, JVAE_DSPRITES_SIDE};
    jvae_status st = jvae_tensor_create(&images, 4, image_shape);
    if (st == JVAE_OK && dz > 0) {
        int64_t shape[2] = {count, dz};
        st = jvae_tensor_create(&mu, 2, shape);
        if (st == JVAE_OK && e->kl_sums != NULL) st = jvae_tensor_create(&logvar, 2, shape);
    }
    if (st == JVAE_OK && e->discrete_dim > 0) {
        int64_t shape[2] = {count, e->discrete_dim};
        st = jvae_tensor_create(&alpha, 2, shape);
    }
    if (st == JVAE_OK) st = jvae_dsprites_render(e->dsprites, classes, images);
    if (st == JVAE_OK) st = jvae_encode(e->model, images, mu, logvar, alpha);
    if (st == JVAE_OK) {
        const float *m = jvae_tensor_data(mu), *a = jvae_tensor_data(alpha);
        for (int i = 0; i < count; i++) {
            float *code = codes + (size_t)i * (size_t)dims;
            for (int u = 0; u < dz; u++) code[u] = m[(size_t)i * (size_t)dz + (size_t)u];
            const float *row = a != NULL ? a + (size_t)i * (size_t)e->discrete_dim : NULL;
            for (int v = 0; v < nd; v++) {
                int k = e->options.discrete_sizes[v], best = 0;
                for (int c = 1; c < k; c++)
                    if (row[c] > row[best]) best = c;
                code[dz + v] = (float)best;
                row += k;
            }
        }
        if (e->kl_sums != NULL)
            jvae_kl_accumulate(e->kl_sums, &e->options, m, jvae_tensor_data(logvar), a, count);
    }
    jvae_tensor_free(images);
    jvae_tensor_free(mu);
    jvae_tensor_free(logvar);
    jvae_tensor_free(alpha);
    free(classes);
    return st;
}

/* The model's code as a factor code, valid until dsprites_code_end(e). */
static jvae_status dsprites_code_begin(jvae_factor_code *code, dsprites_encoder *e,
                                       const jvae_model *model, const char *fn)
{
    memset(e, 0, sizeof *e);
    JVAE_CHECK_NOT_NULL(model, fn);
    jvae_status st = jvae_model_get_options(model, &e->options);
    if (st) return st;
    if (e->options.channels != 1 || e->options.height != JVAE_DSPRITES_SIDE ||
        e->options.width != JVAE_DSPRITES_SIDE)
        return jvae_fail(JVAE_ERR_UNSUPPORTED,
                         "%s: dSprites images are 1x64x64, the model takes %dx%dx%d", fn,
                         e->options.channels, e->options.height, e->options.width);
    e->model = model;
    e->discrete_dim = jvae_model_discrete_dim(model);
    const int dz = e->options.n_continuous;
    e->categories = malloc(((size_t)dz + (size_t)e->options.n_discrete) * sizeof *e->categories);
    if (e->categories == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    for (int d = 0; d < dz; d++) e->categories[d] = 0;
    for (int v = 0; v < e->options.n_discrete; v++)
        e->categories[dz + v] = e->options.discrete_sizes[v];
    memset(code, 0, sizeof *code);
    code->n_factors = DSPRITES_METRIC_FACTORS;
    code->factor_sizes = dsprites_factor_sizes;
    code->code_dim = dz + e->options.n_discrete;
    code->code_categories = e->categories;
    code->encode = encode_dsprites;
    code->payload = e;
    return jvae_dataset_dsprites(&e->dsprites);
}

static void dsprites_code_end(dsprites_encoder *e)
{
    jvae_dataset_free(e->dsprites);
    free(e->categories);
}

/* Mean KL of each unit over `images` random images. */
static jvae_status dsprites_unit_kl(double *kl, const jvae_factor_code *code, dsprites_encoder *e,
                                    int64_t images, uint64_t seed, jvae_progress *progress,
                                    const char *fn)
{
    const int dims = code->code_dim;
    int32_t *factors = malloc((size_t)DSPRITES_KL_BATCH * DSPRITES_METRIC_FACTORS * sizeof *factors);
    float *codes = malloc((size_t)DSPRITES_KL_BATCH * (size_t)dims * sizeof *codes);
    jvae_status st = JVAE_OK;
    if (factors == NULL || codes == NULL)
        st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    memset(kl, 0, (size_t)dims * sizeof *kl);
    e->kl_sums = kl;
    jvae_rng rng;
    jvae_rng_seed(&rng, seed ^ 0x6b6c2d756e697473ull); /* not the votes' stream */
    for (int64_t done = 0; st == JVAE_OK && done < images;) {
        int count = images - done < DSPRITES_KL_BATCH ? (int)(images - done) : DSPRITES_KL_BATCH;
        jvae_factor_sample(code, &rng, factors, count);
        st = jvae_factor_encode(code, factors, count, codes, progress, fn);
        done += count;
    }
    e->kl_sums = NULL;
    for (int d = 0; d < dims; d++) kl[d] /= (double)images;
    free(factors);
    free(codes);
    return st;
}

jvae_status jvae_factorvae_dsprites(jvae_factorvae_result *out, const jvae_model *model,
                                    const jvae_factorvae_options *options)
{
    static const char fn[] = "jvae_factorvae_dsprites";
    JVAE_CHECK_NOT_NULL(out, fn);
    jvae_factorvae_options defaults;
    if (options == NULL) {
        jvae_factorvae_options_init(&defaults, JVAE_FACTORVAE_DLIB);
        options = &defaults;
    }
    jvae_factor_code code;
    dsprites_encoder encoder;
    jvae_status st = dsprites_code_begin(&code, &encoder, model, fn);
    int64_t images = 0;
    if (st == JVAE_OK) st = jvae_factorvae_images(&images, &code, options, fn);
    int64_t kl_images = 0;
    if (st == JVAE_OK && options->prune_kl > 0.0)
        kl_images = options->variance_images > 0 && options->variance_images < DSPRITES_KL_IMAGES
                        ? options->variance_images
                        : DSPRITES_KL_IMAGES;
    /* images <= 2^61 (jvae_factorvae_images), kl_images <= 10,000: no overflow */
    jvae_progress progress = {NULL, NULL, 0, 0};
    if (st == JVAE_OK) progress = jvae_factorvae_progress(options, images + kl_images);
    double *kl = NULL;
    if (st == JVAE_OK && kl_images > 0) {
        kl = malloc((size_t)code.code_dim * sizeof *kl);
        if (kl == NULL) st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
        if (st == JVAE_OK)
            st = dsprites_unit_kl(kl, &code, &encoder, kl_images, options->seed, &progress, fn);
        code.code_kl = kl;
    }
    if (st == JVAE_OK) st = jvae_factorvae_score_counted(out, &code, options, &progress, fn);
    free(kl);
    dsprites_code_end(&encoder);
    return st;
}

jvae_status jvae_mig_dsprites(double *mig, double *per_factor, const jvae_model *model,
                              const jvae_mig_options *options)
{
    static const char fn[] = "jvae_mig_dsprites";
    JVAE_CHECK_NOT_NULL(mig, fn);
    jvae_mig_options defaults;
    if (options == NULL) {
        jvae_mig_options_init(&defaults);
        options = &defaults;
    }
    jvae_factor_code code;
    dsprites_encoder encoder;
    jvae_status st = dsprites_code_begin(&code, &encoder, model, fn);
    if (st == JVAE_OK) st = jvae_mig_score(mig, per_factor, &code, options);
    dsprites_code_end(&encoder);
    return st;
}
