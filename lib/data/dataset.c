/* The common interface of every data set: size, shape, labels, reads. */
#include "data/dataset.h"

#include <stdlib.h>

#include "core/error.h"
#include "core/tensor.h"

jvae_status jvae_dataset_new(jvae_dataset **out, const char *fn, jvae_dataset_kind kind,
                             const jvae_dataset_ops *ops, void *state)
{
    jvae_dataset *dataset = calloc(1, sizeof *dataset);
    if (dataset == NULL) {
        ops->release(state);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate the data set", fn);
    }
    dataset->ops = ops;
    dataset->kind = kind;
    dataset->root = dataset;
    dataset->state = state;
    *out = dataset;
    return JVAE_OK;
}

size_t jvae_dataset_image_floats(const jvae_dataset *dataset)
{
    return (size_t)dataset->channels * (size_t)dataset->height * (size_t)dataset->width;
}

void jvae_dataset_free(jvae_dataset *dataset)
{
    if (dataset == NULL) return;
    dataset->ops->release(dataset->state);
    free(dataset);
}

int64_t jvae_dataset_size(const jvae_dataset *dataset) { return dataset ? dataset->size : 0; }

jvae_status jvae_dataset_image_shape(const jvae_dataset *dataset, int *channels, int *height,
                                     int *width)
{
    JVAE_CHECK_NOT_NULL(dataset, "jvae_dataset_image_shape");
    if (channels) *channels = dataset->channels;
    if (height) *height = dataset->height;
    if (width) *width = dataset->width;
    return JVAE_OK;
}

int jvae_dataset_label_count(const jvae_dataset *dataset)
{
    return dataset ? dataset->label_count : 0;
}

int jvae_dataset_label_classes(const jvae_dataset *dataset, int label)
{
    if (dataset == NULL || label < 0 || label >= dataset->label_count) return 0;
    return dataset->label_classes[label];
}

jvae_status jvae_dataset_read(const jvae_dataset *dataset, int64_t index, float *image,
                              size_t image_capacity, int32_t *labels, size_t label_capacity)
{
    const char *fn = "jvae_dataset_read";
    JVAE_CHECK_NOT_NULL(dataset, fn);
    JVAE_CHECK_NOT_NULL(image, fn);
    if (index < 0 || index >= dataset->size)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: index %lld out of range [0, %lld)", fn,
                         (long long)index, (long long)dataset->size);
    size_t floats = jvae_dataset_image_floats(dataset);
    if (image_capacity < floats)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: image buffer holds %zu floats, an image needs %zu (%d x %d x %d)",
                         fn, image_capacity, floats, dataset->channels, dataset->height,
                         dataset->width);
    if (labels != NULL && label_capacity < (size_t)dataset->label_count)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: label buffer holds %zu values, an item has %d labels", fn,
                         label_capacity, dataset->label_count);
    return dataset->ops->read(dataset, index, image, labels);
}

jvae_status jvae_dataset_read_batch(const jvae_dataset *dataset, const int64_t *indices,
                                    jvae_tensor *images, int32_t *labels)
{
    const char *fn = "jvae_dataset_read_batch";
    JVAE_CHECK_NOT_NULL(dataset, fn);
    JVAE_CHECK_NOT_NULL(indices, fn);
    int64_t shape[4] = {-1, dataset->channels, dataset->height, dataset->width};
    jvae_status status = jvae_tensor_expect(images, "jvae_dataset_read_batch: images", 4, shape);
    if (status) return status;
    size_t floats = jvae_dataset_image_floats(dataset);
    for (int64_t i = 0; i < images->shape[0]; i++) {
        if (indices[i] < 0 || indices[i] >= dataset->size)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                             "%s: indices[%lld] = %lld out of range [0, %lld)", fn, (long long)i,
                             (long long)indices[i], (long long)dataset->size);
        int32_t *item_labels = labels ? labels + i * dataset->label_count : NULL;
        status = dataset->ops->read(dataset, indices[i], images->data + (size_t)i * floats,
                                    item_labels);
        if (status) return status;
    }
    return JVAE_OK;
}
