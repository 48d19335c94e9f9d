#include "metrics/encoding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

jvae_status jvae_encoding_count(const char *fn, const jvae_dataset *data, int64_t max_images,
                                int batch, int64_t *count)
{
    if (batch < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: batch must be >= 1, got %d", fn, batch);
    if (max_images < 0)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: max_images must be >= 0, got %lld", fn,
                         (long long)max_images);
    int64_t size = jvae_dataset_size(data);
    if (size < 1) return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: the data set is empty", fn);
    *count = (max_images > 0 && max_images < size) ? max_images : size;
    return JVAE_OK;
}

static float *create_matrix(jvae_encoding_walk *walk, int64_t rows, int columns,
                            jvae_status *st)
{
    if (columns == 0 || *st != JVAE_OK) return NULL;
    size_t count;
    if (!jvae_mul_ok((size_t)rows, (size_t)columns, &count)) {
        *st = jvae_fail(JVAE_ERR_OVERFLOW, "%s: batch too large", walk->fn);
        return NULL;
    }
    float *data = malloc(count * sizeof(float));
    if (data == NULL)
        *st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu floats", walk->fn, count);
    return data;
}

jvae_status jvae_encoding_walk_begin(jvae_encoding_walk *walk, const char *fn,
                                     const jvae_model *model, const jvae_dataset *data,
                                     int64_t total, int batch)
{
    walk->fn = fn;
    walk->model = model;
    walk->data = data;
    walk->total = total;
    walk->next = 0;
    walk->stride = jvae_dataset_size(data) / total;
    walk->batch = (int64_t)batch < total ? batch : (int)total;
    jvae_model_options options;
    jvae_status st = jvae_model_get_options(model, &options);
    if (st) return st;
    int channels = 0, height = 0, width = 0;
    st = jvae_dataset_image_shape(data, &channels, &height, &width);
    if (st) return st;
    if (channels != options.channels || height != options.height || width != options.width)
        return jvae_fail(JVAE_ERR_SHAPE,
                         "%s: the data set's images are (%d, %d, %d), the model takes (%d, %d, %d)",
                         fn, channels, height, width, options.channels, options.height,
                         options.width);
    walk->n_continuous = options.n_continuous;
    walk->discrete_dim = jvae_model_discrete_dim(model);
    walk->label_count = jvae_dataset_label_count(data);
    int64_t shape[4] = {walk->batch, channels, height, width};
    st = jvae_tensor_create(&walk->images, 4, shape);
    if (st) return st;
    walk->indices = malloc((size_t)walk->batch * sizeof *walk->indices);
    if (walk->indices == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate a batch", fn);
    if (walk->label_count > 0) {
        walk->labels = malloc((size_t)walk->batch * (size_t)walk->label_count * sizeof(int32_t));
        if (walk->labels == NULL)
            return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate a batch", fn);
    }
    walk->mu_data = create_matrix(walk, walk->batch, walk->n_continuous, &st);
    walk->logvar_data = create_matrix(walk, walk->batch, walk->n_continuous, &st);
    walk->alpha_data = create_matrix(walk, walk->batch, walk->discrete_dim, &st);
    return st;
}

/* A (rows, columns) tensor over the first rows of `data`, or NULL for an
 * empty part (columns 0). */
static jvae_status view(jvae_tensor **out, float *data, int rows, int columns)
{
    *out = NULL;
    if (columns == 0) return JVAE_OK;
    int64_t shape[2] = {rows, columns};
    return jvae_tensor_wrap(out, data, 2, shape);
}

jvae_status jvae_encoding_walk_next(jvae_encoding_walk *walk, int *count)
{
    *count = 0;
    int64_t left = walk->total - walk->next;
    if (left <= 0) return JVAE_OK;
    int n = left < walk->batch ? (int)left : walk->batch;
    for (int i = 0; i < n; i++) walk->indices[i] = (walk->next + i) * walk->stride;
    jvae_tensor *images = NULL, *mu = NULL, *logvar = NULL, *alpha = NULL;
    int64_t shape[4];
    int ndim;
    jvae_tensor_shape(walk->images, &ndim, shape);
    shape[0] = n;
    jvae_status st = jvae_tensor_wrap(&images, jvae_tensor_data(walk->images), 4, shape);
    if (st == JVAE_OK) st = jvae_dataset_read_batch(walk->data, walk->indices, images, walk->labels);
    if (st == JVAE_OK) st = view(&mu, walk->mu_data, n, walk->n_continuous);
    if (st == JVAE_OK) st = view(&logvar, walk->logvar_data, n, walk->n_continuous);
    if (st == JVAE_OK) st = view(&alpha, walk->alpha_data, n, walk->discrete_dim);
    if (st == JVAE_OK) st = jvae_encode(walk->model, images, mu, logvar, alpha);
    jvae_tensor_free(images);
    jvae_tensor_free(mu);
    jvae_tensor_free(logvar);
    jvae_tensor_free(alpha);
    if (st) return st;
    walk->next += n;
    *count = n;
    return JVAE_OK;
}

void jvae_encoding_walk_end(jvae_encoding_walk *walk)
{
    jvae_tensor_free(walk->images);
    free(walk->indices);
    free(walk->labels);
    free(walk->mu_data);
    free(walk->logvar_data);
    free(walk->alpha_data);
    memset(walk, 0, sizeof *walk);
}

void jvae_kl_accumulate(double *sums, const jvae_model_options *options, const float *mu,
                        const float *logvar, const float *alpha, int count)
{
    const int dz = options->n_continuous;
    int sum_k = 0;
    for (int v = 0; v < options->n_discrete; v++) sum_k += options->discrete_sizes[v];
    for (int i = 0; i < count; i++) {
        for (int u = 0; u < dz; u++) {
            double m = mu[(size_t)i * (size_t)dz + (size_t)u];
            double lv = logvar[(size_t)i * (size_t)dz + (size_t)u];
            sums[u] += -0.5 * (1.0 + lv - m * m - exp(lv));
        }
        const float *row = alpha ? alpha + (size_t)i * (size_t)sum_k : NULL;
        for (int v = 0; v < options->n_discrete; v++) {
            const int k = options->discrete_sizes[v];
            double entropy = 0.0;
            for (int c = 0; c < k; c++)
                if (row[c] > 0.0f) entropy -= (double)row[c] * log((double)row[c]);
            sums[dz + v] += log((double)k) - entropy;
            row += k;
        }
    }
}
