/* Minibatches: a cursor over a data set in an order that is a pure function
 * of (seed, epoch), written into the caller's tensor without allocating. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "data/dataset.h"

struct jvae_loader {
    const jvae_dataset *dataset;
    jvae_loader_options options;
    int64_t *order;  /* (size) the item order of `epoch` */
    int64_t epoch;
    int64_t batch;   /* the batch the next call returns */
    int64_t batches; /* per epoch */
};

/* A well-mixed seed for each (seed, epoch), so epochs are independent streams
 * rather than shifted copies of one another (murmur3's 64-bit finaliser). */
static uint64_t epoch_seed(uint64_t seed, int64_t epoch)
{
    uint64_t x = seed ^ ((uint64_t)epoch * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static void make_order(jvae_loader *loader)
{
    int64_t n = loader->dataset->size;
    for (int64_t i = 0; i < n; i++) loader->order[i] = i;
    if (!loader->options.shuffle) return;
    jvae_rng rng;
    jvae_rng_seed(&rng, epoch_seed(loader->options.seed, loader->epoch));
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)jvae_rng_below(&rng, (uint64_t)i + 1);
        int64_t swap = loader->order[i];
        loader->order[i] = loader->order[j];
        loader->order[j] = swap;
    }
}

jvae_status jvae_loader_options_init(jvae_loader_options *options)
{
    JVAE_CHECK_NOT_NULL(options, "jvae_loader_options_init");
    memset(options, 0, sizeof *options);
    options->version = JVAE_LOADER_OPTIONS_VERSION;
    options->batch_size = 64;
    options->shuffle = 1;
    options->drop_last = 0;
    options->seed = 1;
    return JVAE_OK;
}

jvae_status jvae_loader_create(jvae_loader **out, const jvae_dataset *dataset,
                               const jvae_loader_options *options)
{
    const char *fn = "jvae_loader_create";
    JVAE_CHECK_NOT_NULL(out, fn);
    *out = NULL;
    JVAE_CHECK_NOT_NULL(dataset, fn);
    jvae_loader_options defaults;
    jvae_loader_options_init(&defaults);
    if (options == NULL) options = &defaults;
    if (options->version != JVAE_LOADER_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION, "%s: options version %u, this library knows %d", fn,
                         options->version, JVAE_LOADER_OPTIONS_VERSION);
    if (options->batch_size < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: batch_size must be >= 1, got %d", fn,
                         options->batch_size);
    if (options->shuffle != 0 && options->shuffle != 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: shuffle must be 0 or 1, got %d", fn,
                         options->shuffle);
    if (options->drop_last != 0 && options->drop_last != 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: drop_last must be 0 or 1, got %d", fn,
                         options->drop_last);
    int64_t n = dataset->size;
    if (options->drop_last && options->batch_size > n)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: drop_last with batch_size %d over %lld items gives empty epochs", fn,
                         options->batch_size, (long long)n);
    jvae_loader *loader = calloc(1, sizeof *loader);
    if (loader == NULL || (uint64_t)n > SIZE_MAX / sizeof(int64_t) ||
        (loader->order = malloc((size_t)n * sizeof(int64_t))) == NULL) {
        free(loader);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate the order of %lld items",
                         fn, (long long)n);
    }
    loader->dataset = dataset;
    loader->options = *options;
    loader->batches = options->drop_last ? n / options->batch_size
                                         : (n + options->batch_size - 1) / options->batch_size;
    make_order(loader);
    *out = loader;
    return JVAE_OK;
}

void jvae_loader_free(jvae_loader *loader)
{
    if (loader == NULL) return;
    free(loader->order);
    free(loader);
}

jvae_status jvae_loader_next(jvae_loader *loader, jvae_tensor *images, int32_t *labels,
                             int *count)
{
    const char *fn = "jvae_loader_next";
    JVAE_CHECK_NOT_NULL(count, fn);
    *count = 0;
    JVAE_CHECK_NOT_NULL(loader, fn);
    const jvae_dataset *dataset = loader->dataset;
    int64_t shape[4] = {loader->options.batch_size, dataset->channels, dataset->height,
                        dataset->width};
    jvae_status status = jvae_tensor_expect(images, "jvae_loader_next: images", 4, shape);
    if (status) return status;
    if (loader->batch >= loader->batches) {
        loader->epoch++;
        loader->batch = 0;
        make_order(loader);
        return JVAE_OK;
    }
    int64_t start = loader->batch * loader->options.batch_size;
    int64_t end = start + loader->options.batch_size;
    if (end > dataset->size) end = dataset->size;
    size_t floats = jvae_dataset_image_floats(dataset);
    for (int64_t i = start; i < end; i++) {
        int64_t slot = i - start;
        int32_t *item_labels = labels ? labels + slot * dataset->label_count : NULL;
        status = dataset->ops->read(dataset, loader->order[i],
                                    images->data + (size_t)slot * floats, item_labels);
        if (status) return status;
    }
    loader->batch++;
    *count = (int)(end - start);
    return JVAE_OK;
}

int64_t jvae_loader_batches_per_epoch(const jvae_loader *loader)
{
    return loader ? loader->batches : 0;
}

jvae_status jvae_loader_tell(const jvae_loader *loader, int64_t *epoch, int64_t *batch)
{
    JVAE_CHECK_NOT_NULL(loader, "jvae_loader_tell");
    if (epoch) *epoch = loader->epoch;
    if (batch) *batch = loader->batch;
    return JVAE_OK;
}

jvae_status jvae_loader_seek(jvae_loader *loader, int64_t epoch, int64_t batch)
{
    JVAE_CHECK_NOT_NULL(loader, "jvae_loader_seek");
    if (epoch < 0)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "jvae_loader_seek: epoch %lld < 0",
                         (long long)epoch);
    if (batch < 0 || batch > loader->batches)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "jvae_loader_seek: batch %lld outside [0, %lld]", (long long)batch,
                         (long long)loader->batches);
    if (epoch != loader->epoch) {
        loader->epoch = epoch;
        make_order(loader);
    }
    loader->batch = batch;
    return JVAE_OK;
}
