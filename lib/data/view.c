/* Views: a data set made of chosen items of another, by index, without copies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/dataset.h"

typedef struct view_state {
    const jvae_dataset *source; /* never itself a view: chains are flattened */
    int64_t *indices;           /* (size) source indices */
} view_state;

static jvae_status view_read(const jvae_dataset *dataset, int64_t index, float *image,
                             int32_t *labels)
{
    const view_state *view = dataset->state;
    return view->source->ops->read(view->source, view->indices[index], image, labels);
}

static void view_release(void *state)
{
    view_state *view = state;
    if (view == NULL) return;
    free(view->indices);
    free(view);
}

static const jvae_dataset_ops view_ops = {view_read, view_release};

/* Wrap `indices` (taken over: freed on failure) as a view of `source`. */
static jvae_status make_view(jvae_dataset **out, const char *fn, const jvae_dataset *source,
                             int64_t *indices, int64_t count)
{
    if (source->kind == JVAE_DATASET_VIEW) {
        const view_state *parent = source->state;
        for (int64_t i = 0; i < count; i++) indices[i] = parent->indices[indices[i]];
        source = parent->source;
    }
    view_state *view = calloc(1, sizeof *view);
    if (view == NULL) {
        free(indices);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate the view", fn);
    }
    view->source = source;
    view->indices = indices;
    jvae_dataset *dataset;
    jvae_status status = jvae_dataset_new(&dataset, fn, JVAE_DATASET_VIEW, &view_ops, view);
    if (status) return status;
    dataset->size = count;
    dataset->channels = source->channels;
    dataset->height = source->height;
    dataset->width = source->width;
    dataset->label_count = source->label_count;
    memcpy(dataset->label_classes, source->label_classes, sizeof dataset->label_classes);
    dataset->root = source->root;
    *out = dataset;
    return JVAE_OK;
}

static int64_t *alloc_indices(int64_t count)
{
    if ((uint64_t)count > SIZE_MAX / sizeof(int64_t)) return NULL;
    return malloc((size_t)count * sizeof(int64_t));
}

jvae_status jvae_dataset_subset(jvae_dataset **out, const jvae_dataset *source,
                                const int64_t *indices, int64_t count)
{
    const char *fn = "jvae_dataset_subset";
    JVAE_CHECK_NOT_NULL(out, fn);
    *out = NULL;
    JVAE_CHECK_NOT_NULL(source, fn);
    JVAE_CHECK_NOT_NULL(indices, fn);
    if (count < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: count must be >= 1, got %lld", fn,
                         (long long)count);
    for (int64_t i = 0; i < count; i++)
        if (indices[i] < 0 || indices[i] >= source->size)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                             "%s: indices[%lld] = %lld out of range [0, %lld)", fn, (long long)i,
                             (long long)indices[i], (long long)source->size);
    int64_t *copy = alloc_indices(count);
    if (copy == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %lld indices", fn,
                         (long long)count);
    memcpy(copy, indices, (size_t)count * sizeof *copy);
    return make_view(out, fn, source, copy, count);
}

jvae_status jvae_dataset_split(jvae_dataset **train_out, jvae_dataset **test_out,
                               const jvae_dataset *source, double test_fraction, uint64_t seed)
{
    const char *fn = "jvae_dataset_split";
    JVAE_CHECK_NOT_NULL(train_out, fn);
    *train_out = NULL;
    JVAE_CHECK_NOT_NULL(test_out, fn);
    *test_out = NULL;
    JVAE_CHECK_NOT_NULL(source, fn);
    if (!(test_fraction > 0.0 && test_fraction < 1.0))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: test_fraction must be strictly between 0 and 1, got %g", fn,
                         test_fraction);
    int64_t n = source->size;
    int64_t n_test = (int64_t)floor((double)n * test_fraction + 0.5);
    if (n_test < 1 || n_test >= n)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: a test fraction of %g of %lld items leaves %lld test and %lld "
                         "training items; both need at least one",
                         fn, test_fraction, (long long)n, (long long)n_test,
                         (long long)(n - n_test));

    int64_t *order = alloc_indices(n);
    unsigned char *in_test = calloc((size_t)n, 1);
    int64_t *train = alloc_indices(n - n_test);
    int64_t *test = alloc_indices(n_test);
    if (order == NULL || in_test == NULL || train == NULL || test == NULL) {
        free(order);
        free(in_test);
        free(train);
        free(test);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate the index lists of %lld items",
                         fn, (long long)n);
    }
    /* The first n_test draws of a Fisher–Yates shuffle are a uniform random
     * subset; listing both sides in source order keeps reads local. */
    jvae_rng rng;
    jvae_rng_seed(&rng, seed);
    for (int64_t i = 0; i < n; i++) order[i] = i;
    for (int64_t i = 0; i < n_test; i++) {
        int64_t j = i + (int64_t)jvae_rng_below(&rng, (uint64_t)(n - i));
        int64_t chosen = order[j];
        order[j] = order[i];
        order[i] = chosen;
        in_test[chosen] = 1;
    }
    int64_t n_train_written = 0, n_test_written = 0;
    for (int64_t i = 0; i < n; i++) {
        if (in_test[i]) test[n_test_written++] = i;
        else train[n_train_written++] = i;
    }
    free(order);
    free(in_test);

    jvae_status status = make_view(train_out, fn, source, train, n - n_test);
    if (status) {
        free(test);
        return status;
    }
    status = make_view(test_out, fn, source, test, n_test);
    if (status) {
        jvae_dataset_free(*train_out);
        *train_out = NULL;
    }
    return status;
}
