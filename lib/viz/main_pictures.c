/* jvae_write_main_pictures: the pictures a training run ends with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "jointvae/data.h"
#include "jointvae/metrics.h"
#include "viz/csv.h"
#include "viz/plot.h"
#include "viz/units.h"

/* Images of the data set used to rank units by KL, and per encode call. */
#define MAIN_KL_IMAGES 10000
#define MAIN_KL_BATCH 256
/* Longest folder name: the file names written into it must still fit a path buffer. */
#define MAIN_MAX_DIR 4000

static void join(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static int matches(const char *pattern, const char *name)
{
    size_t length = strlen(pattern);
    if (length > 0 && pattern[length - 1] == '*') return strncmp(pattern, name, length - 1) == 0;
    return strcmp(pattern, name) == 0;
}

/* Plot the patterns that match a column of the log (none: no picture). */
static jvae_status plot_group(const char *dir, const char *file, const char *csv_path,
                              const jvae_csv_table *table, const char *const *patterns,
                              int n_patterns, const jvae_plot_options *options)
{
    const char *present[8];
    int n = 0;
    for (int p = 0; p < n_patterns; p++)
        for (int c = 0; c < table->n_columns; c++)
            if (matches(patterns[p], table->names[c])) {
                present[n++] = patterns[p];
                break;
            }
    if (n == 0) return JVAE_OK;
    char path[4096];
    join(path, sizeof path, dir, file);
    return jvae_plot_training_curves(path, csv_path, present, n, options);
}

jvae_status jvae_write_training_curves(const char *dir, const char *csv_path,
                                       const jvae_plot_options *options)
{
    static const char fn[] = "jvae_write_training_curves";
    static const char *const losses[] = {"total", "reconstruction", "capacity_term_*"};
    static const char *const capacities[] = {"kl_continuous", "capacity_continuous",
                                             "kl_discrete", "capacity_discrete"};
    static const char *const units[] = {"kl_z*", "kl_c*"};
    JVAE_CHECK_NOT_NULL(dir, fn);
    JVAE_CHECK_NOT_NULL(csv_path, fn);
    if (strlen(dir) > MAIN_MAX_DIR)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: dir is longer than %d bytes", fn,
                         MAIN_MAX_DIR);
    jvae_plot_options defaults;
    if (options == NULL) {
        jvae_plot_options_init(&defaults);
        options = &defaults;
    }
    jvae_status st = jvae_plot_options_check(options, fn);
    if (st) return st;
    jvae_csv_table table;
    st = jvae_csv_read(&table, csv_path, fn);
    if (st) return st;
    if (jvae_csv_column(&table, options->x_column) < 0)
        st = jvae_fail(JVAE_ERR_FORMAT, "%s: '%s' has no '%s' column", fn, csv_path,
                       options->x_column);
    if (st == JVAE_OK)
        st = plot_group(dir, "curves_loss.png", csv_path, &table, losses, 3, options);
    if (st == JVAE_OK)
        st = plot_group(dir, "curves_capacity.png", csv_path, &table, capacities, 4, options);
    if (st == JVAE_OK) st = plot_group(dir, "curves_kl.png", csv_path, &table, units, 2, options);
    jvae_csv_release(&table);
    return st;
}

static jvae_status write_reconstructions(const char *dir, const jvae_model *model,
                                         const jvae_dataset *data, const jvae_model_view *view,
                                         const jvae_picture_options *o)
{
    int64_t n = (int64_t)o->columns * ((o->rows + 1) / 2);
    if (n > jvae_dataset_size(data)) n = jvae_dataset_size(data);
    int64_t shape[4] = {n, view->options.channels, view->options.height, view->options.width};
    jvae_tensor *images = NULL;
    int64_t *indices = malloc((size_t)n * sizeof *indices);
    jvae_status st = indices != NULL ? jvae_tensor_create(&images, 4, shape)
                                     : jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "jvae_write_main_pictures: cannot allocate");
    /* Spread over the whole set: data sets in factor order (dSprites) would
     * otherwise show one shape at one scale. */
    const int64_t size = jvae_dataset_size(data);
    for (int64_t i = 0; st == JVAE_OK && i < n; i++) indices[i] = i * (size / n);
    if (st == JVAE_OK) st = jvae_dataset_read_batch(data, indices, images, NULL);
    char path[4096];
    join(path, sizeof path, dir, "reconstructions.png");
    if (st == JVAE_OK) st = jvae_picture_reconstructions(path, model, images, o);
    jvae_tensor_free(images);
    free(indices);
    return st;
}

jvae_status jvae_write_main_pictures(const char *dir, const jvae_model *model,
                                     const jvae_dataset *data, const char *log_csv,
                                     const jvae_picture_options *options)
{
    static const char fn[] = "jvae_write_main_pictures";
    JVAE_CHECK_NOT_NULL(dir, fn);
    if (strlen(dir) > MAIN_MAX_DIR)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: dir is longer than %d bytes", fn,
                         MAIN_MAX_DIR);
    jvae_picture_options o;
    jvae_model_view view;
    jvae_status st = jvae_picture_options_resolve(&o, options, fn);
    if (st == JVAE_OK) st = jvae_model_view_init(&view, model, fn);
    if (st) return st;
    char path[4096];
    join(path, sizeof path, dir, "samples.png");
    st = jvae_picture_prior_samples(path, model, &o);
    for (int v = 0; st == JVAE_OK && v < view.options.n_discrete; v++) {
        char name[64];
        snprintf(name, sizeof name, "samples_c%d.png", v);
        join(path, sizeof path, dir, name);
        st = jvae_picture_conditional_samples(path, model, v, &o);
    }
    float *kl = NULL;
    if (st == JVAE_OK && data != NULL) {
        kl = malloc((size_t)view.units * sizeof *kl);
        if (kl == NULL) st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
        if (st == JVAE_OK)
            st = jvae_kl_per_unit(kl, view.units, model, data, MAIN_KL_IMAGES, MAIN_KL_BATCH);
    }
    join(path, sizeof path, dir, "traversals.png");
    if (st == JVAE_OK) st = jvae_picture_traversals(path, model, kl, view.units, &o);
    if (st == JVAE_OK && view.units >= 2) {
        /* The two units of largest KL (first on ties), or units 0 and 1. */
        int first = 0, second = 1;
        if (kl != NULL) {
            first = 0;
            for (int u = 1; u < view.units; u++)
                if (kl[u] > kl[first]) first = u;
            second = first == 0 ? 1 : 0;
            for (int u = 0; u < view.units; u++)
                if (u != first && kl[u] > kl[second]) second = u;
        }
        join(path, sizeof path, dir, "traversal_2d.png");
        st = jvae_picture_traversal_2d(path, model, first, second, &o);
    }
    if (st == JVAE_OK && data != NULL) st = write_reconstructions(dir, model, data, &view, &o);
    if (st == JVAE_OK && log_csv != NULL) st = jvae_write_training_curves(dir, log_csv, NULL);
    free(kl);
    return st;
}
