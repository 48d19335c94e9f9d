/* Internal: the common shape of every data set. A data set is a table of
 * operations plus the facts every kind shares; kinds keep their own state
 * behind `state`. Views (subset, split) are a kind like the others whose read
 * forwards to their source. */
#ifndef JVAE_DATA_DATASET_H
#define JVAE_DATA_DATASET_H

#include "jointvae/data.h"

typedef enum jvae_dataset_kind {
    JVAE_DATASET_IDX,
    JVAE_DATASET_DSPRITES,
    JVAE_DATASET_FOLDER,
    JVAE_DATASET_VIEW
} jvae_dataset_kind;

typedef struct jvae_dataset_ops {
    /* Write item `index` (already range-checked) as floats (C, H, W) into image
     * and, when labels is not NULL, its label_count labels. Must be safe to
     * call from several threads at once. */
    jvae_status (*read)(const jvae_dataset *dataset, int64_t index, float *image,
                        int32_t *labels);
    /* Release `state` (the struct itself is freed by jvae_dataset_free). */
    void (*release)(void *state);
} jvae_dataset_ops;

struct jvae_dataset {
    const jvae_dataset_ops *ops;
    jvae_dataset_kind kind;
    int64_t size;
    int channels, height, width;
    int label_count;
    int label_classes[JVAE_DATASET_MAX_LABELS];
    /* The data set at the bottom of a chain of views (itself when not a view). */
    const jvae_dataset *root;
    void *state;
};

/* Allocate a data set of `kind` owning `state` (released with ops->release if
 * this fails). The caller fills size, shape and labels. */
jvae_status jvae_dataset_new(jvae_dataset **out, const char *fn, jvae_dataset_kind kind,
                             const jvae_dataset_ops *ops, void *state);

/* Floats in one image: C·H·W. */
size_t jvae_dataset_image_floats(const jvae_dataset *dataset);

#endif
