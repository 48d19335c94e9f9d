/*
 * libjointvae — pictures: image grids, reconstructions, samples, latent
 * traversals, image editing and training curves, written as PNG files.
 *
 * Every picture is an 8-bit PNG written to "<path>.tmp-XXXXXX" in the same
 * folder and renamed over `path` once complete. Image values are taken in
 * [0, 1] and clamped; a NaN or infinite value is refused (NUMERIC). Images
 * with 1 channel give a grey PNG, 3 channels RGB, 2 and 4 channels the same
 * with alpha. Labels and axes use a small built-in 5x7 bitmap font (digits,
 * letters drawn as capitals, and . , - + _ : = / ( ) %).
 *
 * Latent units. Pictures address the latents of a model as units
 * u = 0 .. Dz + n_discrete − 1: unit u < Dz is continuous unit u (named "z<u>"
 * in labels); unit Dz + i is discrete variable i (named "c<i>").
 *
 * Traversals follow the paper (appendix G) and the official code: a continuous
 * unit takes the values Φ⁻¹(q) for `steps` quantiles q evenly spaced from
 * quantile_low to quantile_high (default 0.05 .. 0.95, about ±1.645); a
 * discrete variable of K categories takes category (column mod K). The other
 * latents are either fixed (continuous 0, every discrete variable category 0)
 * or one draw from the prior shared by the whole picture (seeded).
 *
 * Threads: every call here only reads the model (see model.h) and writes its
 * own file, so calls may run concurrently on one model when they write
 * different paths.
 */
#ifndef JOINTVAE_VIZ_H
#define JOINTVAE_VIZ_H

#include "jointvae/core.h"
#include "jointvae/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ image grids */

#define JVAE_GRID_OPTIONS_VERSION 1

typedef struct jvae_grid_options {
    unsigned version; /* JVAE_GRID_OPTIONS_VERSION */
    int rows;         /* rows of the grid, >= 0; 0: as many as the images need */
    int columns;      /* images per row, >= 0; 0: ceil(sqrt(N)) (or ceil(N / rows) when rows
                         is given). rows x columns must hold every image. */
    int padding;      /* pixels between cells and around the grid, 0..1024 (default 2) */
    int scale;        /* nearest-neighbour upscaling of each image, 1..64 (default 1) */
    float background; /* grey level of the padding and empty cells, in [0, 1] (default 0.5) */
} jvae_grid_options;

/* Fill the defaults above. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_grid_options_init(jvae_grid_options *options);

/* Size in pixels of the PNG that jvae_write_image_grid writes for `count`
 * images of height x width pixels: width = columns·width·scale + (columns+1)·padding,
 * and likewise for the height. options may be NULL (defaults).
 * Errors: INVALID_ARGUMENT (NULL outputs, count/height/width < 1, bad option,
 * rows x columns too small), VERSION, OVERFLOW (larger than 1,000,000 pixels a side). */
JVAE_API jvae_status jvae_image_grid_size(int *png_width, int *png_height, int64_t count,
                                          int height, int width,
                                          const jvae_grid_options *options);

/* Write the images (N, C, H, W), C in 1..4, values in [0, 1] (clamped), as one
 * PNG grid, image i in row i / columns, column i % columns. options may be NULL.
 * Errors: INVALID_ARGUMENT (NULL, bad option, grid too small), VERSION, SHAPE
 * (images not 4-D or C outside 1..4), NUMERIC (NaN or Inf in images), OVERFLOW,
 * OUT_OF_MEMORY, IO (message has the path and errno text), FORMAT (libpng
 * refused the image). */
JVAE_API jvae_status jvae_write_image_grid(const char *path, const jvae_tensor *images,
                                           const jvae_grid_options *options);

/* ------------------------------------------------------------ traversal values */

/* Φ⁻¹(p), the quantile function of the standard normal distribution, accurate
 * to about 1e-15 relative (Acklam's rational approximation refined by one
 * Halley step on erfc). Returns −Inf for p = 0, +Inf for p = 1 and NaN for p
 * outside [0, 1] or NaN. Pure and thread-safe. */
JVAE_API double jvae_normal_quantile(double p);

/* values[i] = Φ⁻¹(q_i), q_i = quantile_low + (quantile_high − quantile_low)·i/(count−1)
 * (q_0 = quantile_low when count is 1), as numpy.linspace does.
 * Errors: INVALID_ARGUMENT (NULL values, count < 1, not
 * 0 < quantile_low < quantile_high < 1). */
JVAE_API jvae_status jvae_traversal_values(double *values, int count, double quantile_low,
                                           double quantile_high);

/* ------------------------------------------------------------ model pictures */

typedef enum jvae_traversal_base {
    JVAE_TRAVERSAL_BASE_ZERO = 0, /* other latents: continuous 0, discrete category 0 */
    JVAE_TRAVERSAL_BASE_PRIOR = 1 /* other latents: one draw from the prior (seeded) */
} jvae_traversal_base;

#define JVAE_PICTURE_OPTIONS_VERSION 1

typedef struct jvae_picture_options {
    unsigned version;         /* JVAE_PICTURE_OPTIONS_VERSION */
    int columns;              /* images per row and steps of a continuous traversal,
                                 1..1024 (default 10) */
    int rows;                 /* rows of prior samples, 1..1024 (default 8) */
    int padding;              /* as jvae_grid_options (default 2) */
    int scale;                /* as jvae_grid_options (default 1) */
    float background;         /* as jvae_grid_options (default 0.5) */
    uint64_t seed;            /* every random draw of a picture (default 1) */
    jvae_traversal_base base; /* (default JVAE_TRAVERSAL_BASE_ZERO) */
    double quantile_low;      /* first traversal quantile (default 0.05) */
    double quantile_high;     /* last traversal quantile (default 0.95) */
} jvae_picture_options;

/* Fill the defaults above. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_picture_options_init(jvae_picture_options *options);

/* The latents of one traversal of `unit`: latent (steps, latent_dim) row s is
 * `base` with the unit set to its s-th traversal value (see the top of this
 * header; a discrete variable gets the one-hot of category s mod K). base is
 * (1, latent_dim) or NULL for the fixed base (continuous 0, categories 0).
 * Errors: INVALID_ARGUMENT (NULL model/latent, unit out of range, bad
 * quantiles), SHAPE (latent not (steps, latent_dim), base not (1, latent_dim)). */
JVAE_API jvae_status jvae_traversal_latents(const jvae_model *model, int unit,
                                            const jvae_tensor *base, double quantile_low,
                                            double quantile_high, jvae_tensor *latent);

/* Image editing (paper Fig. 8b): encode images (N, C, H, W), take the
 * deterministic latent, set `unit` to `value` (a continuous value, or for a
 * discrete variable the category: value must be an integer in 0..K−1) and
 * decode into edited (N, C, H, W).
 * Errors: INVALID_ARGUMENT (NULL, unit or category out of range, non-finite
 * value), SHAPE, NUMERIC, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_edit_images(const jvae_model *model, const jvae_tensor *images,
                                      int unit, double value, jvae_tensor *edited);

/* Common errors of the jvae_picture_* calls below, besides those named with
 * each: INVALID_ARGUMENT (NULL path/model, a bad option: the message names it),
 * VERSION (options of an unknown version), SHAPE (images not (N, C, H, W) of the
 * model), NUMERIC (non-finite images or decoder output), OVERFLOW,
 * OUT_OF_MEMORY, IO, FORMAT — as jvae_write_image_grid. options may be NULL
 * for the defaults. */

/* Originals above, deterministic reconstructions below (mu and the argmax
 * category): ceil(N / columns) rows of each. images (N, C, H, W). */
JVAE_API jvae_status jvae_picture_reconstructions(const char *path, const jvae_model *model,
                                                  const jvae_tensor *images,
                                                  const jvae_picture_options *options);

/* rows x columns decoded draws from the prior (seeded). */
JVAE_API jvae_status jvae_picture_prior_samples(const char *path, const jvae_model *model,
                                                const jvae_picture_options *options);

/* Paper Fig. 4a: one row per category k of discrete variable `discrete_index`,
 * each row `columns` independent prior draws with that variable fixed to k.
 * Errors: also INVALID_ARGUMENT when discrete_index is not a variable of the
 * model. */
JVAE_API jvae_status jvae_picture_conditional_samples(const char *path, const jvae_model *model,
                                                      int discrete_index,
                                                      const jvae_picture_options *options);

/* One row per latent unit, `columns` steps each (a discrete row cycles through
 * its categories). With kl == NULL the rows are in unit order and labelled by
 * name; with kl (kl_count = Dz + n_discrete values, unit order, in nats, e.g.
 * from jvae_kl_per_unit) the rows are ranked from the largest KL down (stable
 * on ties) and each label also shows the value with two decimals (paper
 * Fig. 7b). Labels sit in a white margin on the left.
 * Errors: also INVALID_ARGUMENT when kl_count does not match or a value is
 * not finite. */
JVAE_API jvae_status jvae_picture_traversals(const char *path, const jvae_model *model,
                                             const float *kl, int kl_count,
                                             const jvae_picture_options *options);

/* A 2-D traversal grid: unit_rows varies down the rows and unit_columns along
 * the columns (each over `columns` steps, or its K categories if discrete);
 * the two units must differ. Errors: also INVALID_ARGUMENT (unit out of range,
 * same unit twice). */
JVAE_API jvae_status jvae_picture_traversal_2d(const char *path, const jvae_model *model,
                                               int unit_rows, int unit_columns,
                                               const jvae_picture_options *options);

/* One row per image of images (N, C, H, W): the original, then the image
 * edited (jvae_edit_images) to each traversal value of `unit` (`columns`
 * steps, or the K categories of a discrete variable).
 * Errors: also INVALID_ARGUMENT (unit out of range). */
JVAE_API jvae_status jvae_picture_edits(const char *path, const jvae_model *model,
                                        const jvae_tensor *images, int unit,
                                        const jvae_picture_options *options);

/* ------------------------------------------------------------ training curves */

#define JVAE_PLOT_OPTIONS_VERSION 1

typedef struct jvae_plot_options {
    unsigned version;     /* JVAE_PLOT_OPTIONS_VERSION */
    int width, height;    /* PNG size, each 200..8192 (default 800 x 480) */
    const char *x_column; /* name of the x column (default "step"); borrowed */
    int text_scale;       /* size of the bitmap font, 1..8 (default 1) */
} jvae_plot_options;

/* Fill the defaults above. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_plot_options_init(jvae_plot_options *options);

/* Line plot of columns of a training log (paper Fig. 7a) read from csv_path: a
 * header line of comma-separated column names, then one line of numbers per
 * record (an empty field or "nan" leaves a gap in that line). The x axis is the
 * column options->x_column; `columns` names the series (n_columns of them; a
 * name ending in '*' selects every column starting with the rest, e.g.
 * "kl_z*"); columns == NULL with n_columns == 0 plots every column but x.
 * One colour per series, a legend on the right, ticks and labels on both axes.
 * Errors: INVALID_ARGUMENT (NULL paths, bad option, a name that matches no
 * column: the message lists the columns), VERSION, IO (cannot read csv_path or
 * write path), FORMAT (malformed log: the message has the line number; a log
 * without a finite value to plot), OVERFLOW, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_plot_training_curves(const char *path, const char *csv_path,
                                               const char *const *columns, int n_columns,
                                               const jvae_plot_options *options);

/* The curves of a training log as the training program writes it (columns
 * named as in docs/pictures.md), into the existing folder `dir`, one picture
 * per group of columns the log has (a group with no column is skipped):
 *   curves_loss.png      total, reconstruction, capacity_term_*
 *   curves_capacity.png  kl_continuous, capacity_continuous, kl_discrete,
 *                        capacity_discrete
 *   curves_kl.png        kl_z*, kl_c* (the KL of each unit, paper Fig. 7a)
 * The x axis is options->x_column ("step"). options may be NULL.
 * Errors: as jvae_plot_training_curves, plus FORMAT when the log has no x column. */
JVAE_API jvae_status jvae_write_training_curves(const char *dir, const char *csv_path,
                                                const jvae_plot_options *options);

/* ------------------------------------------------------------ all at once */

/* Write the main pictures of a model into the existing folder `dir`:
 *   samples.png              prior samples
 *   samples_c<i>.png         samples conditioned on discrete variable i (each i)
 *   traversals.png           every unit, ranked by KL on `data` when given
 *   traversal_2d.png         the two units of largest KL (unit 0 and 1 without
 *                            data), when the model has two units
 *   reconstructions.png      ceil(rows / 2) x columns images of `data` (the
 *                            items 0, s, 2s, … with s = size / count, spread over the whole set) above
 *                            their reconstructions
 *   curves_*.png             jvae_write_training_curves, when log_csv is given
 * data (may be NULL) must hold images of the model's shape; 10,000 of its
 * images, spread evenly over it, rank the units by KL. log_csv may be NULL.
 * Errors: those of the calls above and of jvae_kl_per_unit; the first failure
 * stops the call (pictures already written stay). */
JVAE_API jvae_status jvae_write_main_pictures(const char *dir, const jvae_model *model,
                                              const jvae_dataset *data, const char *log_csv,
                                              const jvae_picture_options *options);

#ifdef __cplusplus
}
#endif

#endif /* JOINTVAE_VIZ_H */
