/* Internal: latent units of a model (viz.h), the picture options, and the
 * decode-and-draw steps every model picture shares. */
#ifndef JVAE_VIZ_UNITS_H
#define JVAE_VIZ_UNITS_H

#include "jointvae/viz.h"
#include "viz/grid.h"

/* What the pictures need to know about a model. */
typedef struct jvae_model_view {
    jvae_model_options options;
    int latent_dim;
    int units;                            /* Dz + n_discrete */
    int offset[JVAE_MAX_DISCRETE];        /* latent column of each discrete variable */
} jvae_model_view;

jvae_status jvae_model_view_init(jvae_model_view *view, const jvae_model *model, const char *fn);

/* Check unit is 0 .. units−1 (INVALID_ARGUMENT naming `what` otherwise). */
jvae_status jvae_check_unit(const jvae_model_view *view, int unit, const char *what,
                            const char *fn);

/* Categories of a discrete unit, 0 for a continuous one. */
int jvae_unit_categories(const jvae_model_view *view, int unit);

/* Label of a unit, "z3" or "c0". */
void jvae_unit_name(char *buf, size_t size, const jvae_model_view *view, int unit);

/* Set unit in one latent row (latent_dim floats): a continuous unit to value,
 * a discrete one to the one-hot of category (int)value. */
void jvae_set_unit(float *latent, const jvae_model_view *view, int unit, double value);

/* The fixed base latent: continuous 0, every discrete variable category 0. */
void jvae_fixed_base(float *latent, const jvae_model_view *view);

/* Steps of a unit in a picture: `columns` for a continuous unit, K for a
 * discrete one. */
int jvae_unit_steps(const jvae_model_view *view, int unit, int columns);

/* Value of step s of a unit with `steps` steps: the traversal quantile value
 * (values from jvae_traversal_values with that many steps) or category s mod K. */
double jvae_unit_step_value(const jvae_model_view *view, int unit, const double *values, int s);

/* options or the defaults, checked. */
jvae_status jvae_picture_options_resolve(jvae_picture_options *out,
                                         const jvae_picture_options *options, const char *fn);

/* The base latent (1 row) of a picture: fixed, or one prior draw. */
jvae_status jvae_picture_base(float *latent, const jvae_model *model,
                              const jvae_model_view *view, const jvae_picture_options *o);

/* Decode latent rows (n, latent_dim) into a new images tensor (n, C, H, W),
 * checked finite. */
jvae_status jvae_decode_rows(jvae_tensor **images, const jvae_model *model,
                             const jvae_model_view *view, float *latent, int64_t n,
                             const char *fn);

/* Allocate (n, cols) floats with overflow checks. */
jvae_status jvae_alloc_floats(float **out, int64_t n, int64_t cols, const char *fn);

#endif
