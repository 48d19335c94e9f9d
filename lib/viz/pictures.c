/* Pictures of a model: reconstructions, prior and conditional samples,
 * traversals (1-D ranked by KL, 2-D), image editing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/tensor.h"
#include "viz/units.h"

/* A grid picture being drawn: layout, canvas and the model's image size. */
typedef struct picture {
    jvae_grid_layout layout;
    jvae_canvas canvas;
    int channels, height, width;
    size_t image_floats;
} picture;

static jvae_status picture_begin(picture *p, const jvae_model_view *view,
                                 const jvae_picture_options *o, int rows, int columns,
                                 int label_width, const char *fn)
{
    p->canvas.pixels = NULL;
    p->channels = view->options.channels;
    p->height = view->options.height;
    p->width = view->options.width;
    p->image_floats = (size_t)p->channels * (size_t)p->height * (size_t)p->width;
    jvae_status st = jvae_grid_layout_make(&p->layout, fn, rows, columns, p->height, p->width,
                                           o->padding, o->scale, label_width);
    if (st) return st;
    return jvae_grid_canvas(&p->canvas, &p->layout, fn, p->channels, o->background);
}

static void picture_put(picture *p, int row, int column, const float *image)
{
    int x, y;
    jvae_grid_cell_origin(&p->layout, row, column, &x, &y);
    jvae_canvas_put_image(&p->canvas, x, y, image, p->height, p->width, p->layout.scale);
}

/* Put images[0 .. n−1] row-major into the grid starting at row first_row. */
static void picture_put_all(picture *p, const jvae_tensor *images, int first_row, int columns)
{
    for (int64_t i = 0; i < images->shape[0]; i++)
        picture_put(p, first_row + (int)(i / columns), (int)(i % columns),
                    images->data + (size_t)i * p->image_floats);
}

static jvae_status picture_finish(picture *p, const char *path, const char *fn)
{
    jvae_status st = jvae_canvas_write_png(&p->canvas, path, fn);
    jvae_canvas_release(&p->canvas);
    return st;
}

static jvae_status check_images(const jvae_tensor *images, const jvae_model_view *view,
                                const char *fn)
{
    char what[96];
    snprintf(what, sizeof what, "%s: images", fn);
    int64_t want[4] = {-1, view->options.channels, view->options.height, view->options.width};
    jvae_status st = jvae_tensor_expect(images, what, 4, want);
    if (st) return st;
    return jvae_check_finite(fn, "images", images->data, images->numel);
}

/* Deterministic latents (n, latent_dim) of images: mu and the argmax one-hot. */
static jvae_status encode_deterministic(float *latent, const jvae_model *model,
                                        const jvae_model_view *view, const jvae_tensor *images)
{
    const int64_t n = images->shape[0];
    const int dz = view->options.n_continuous, sum_k = view->latent_dim - dz;
    jvae_tensor *mu = NULL, *alpha = NULL, *out = NULL;
    int64_t mu_shape[2] = {n, dz}, alpha_shape[2] = {n, sum_k}, out_shape[2] = {n, view->latent_dim};
    jvae_status st = JVAE_OK;
    if (dz > 0) st = jvae_tensor_create(&mu, 2, mu_shape);
    if (st == JVAE_OK && sum_k > 0) st = jvae_tensor_create(&alpha, 2, alpha_shape);
    if (st == JVAE_OK) st = jvae_tensor_wrap(&out, latent, 2, out_shape);
    if (st == JVAE_OK) st = jvae_encode(model, images, mu, NULL, alpha);
    if (st == JVAE_OK) st = jvae_latent_deterministic(model, mu, alpha, out);
    jvae_tensor_free(mu);
    jvae_tensor_free(alpha);
    jvae_tensor_free(out);
    return st;
}

jvae_status jvae_traversal_latents(const jvae_model *model, int unit, const jvae_tensor *base,
                                   double quantile_low, double quantile_high,
                                   jvae_tensor *latent)
{
    static const char fn[] = "jvae_traversal_latents";
    jvae_model_view view;
    jvae_status st = jvae_model_view_init(&view, model, fn);
    if (st) return st;
    JVAE_CHECK_NOT_NULL(latent, fn);
    st = jvae_check_unit(&view, unit, "unit", fn);
    if (st) return st;
    int64_t latent_shape[2] = {-1, view.latent_dim};
    st = jvae_tensor_expect(latent, "jvae_traversal_latents: latent", 2, latent_shape);
    if (st) return st;
    if (base != NULL) {
        int64_t base_shape[2] = {1, view.latent_dim};
        st = jvae_tensor_expect(base, "jvae_traversal_latents: base", 2, base_shape);
        if (st) return st;
    }
    const int steps = (int)latent->shape[0];
    double *values = malloc((size_t)steps * sizeof *values);
    if (values == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    st = jvae_traversal_values(values, steps, quantile_low, quantile_high);
    if (st == JVAE_OK) {
        for (int s = 0; s < steps; s++) {
            float *row = latent->data + (size_t)s * (size_t)view.latent_dim;
            if (base != NULL)
                memcpy(row, base->data, (size_t)view.latent_dim * sizeof *row);
            else
                jvae_fixed_base(row, &view);
            jvae_set_unit(row, &view, unit, jvae_unit_step_value(&view, unit, values, s));
        }
    }
    free(values);
    return st;
}

static jvae_status check_unit_value(const jvae_model_view *view, int unit, double value,
                                    const char *fn)
{
    if (!isfinite(value))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: value is %g", fn, value);
    int k = jvae_unit_categories(view, unit);
    if (k > 0 && !(value >= 0.0 && value < k && value == floor(value)))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: unit %d is a discrete variable of %d categories; value %g is not "
                         "one of 0..%d",
                         fn, unit, k, value, k - 1);
    return JVAE_OK;
}

jvae_status jvae_edit_images(const jvae_model *model, const jvae_tensor *images, int unit,
                             double value, jvae_tensor *edited)
{
    static const char fn[] = "jvae_edit_images";
    jvae_model_view view;
    jvae_status st = jvae_model_view_init(&view, model, fn);
    if (st) return st;
    JVAE_CHECK_NOT_NULL(images, fn);
    JVAE_CHECK_NOT_NULL(edited, fn);
    st = jvae_check_unit(&view, unit, "unit", fn);
    if (st == JVAE_OK) st = check_unit_value(&view, unit, value, fn);
    if (st == JVAE_OK) st = check_images(images, &view, fn);
    if (st) return st;
    int64_t want[4] = {images->shape[0], view.options.channels, view.options.height,
                       view.options.width};
    st = jvae_tensor_expect(edited, "jvae_edit_images: edited", 4, want);
    if (st) return st;
    const int64_t n = images->shape[0];
    float *latent = NULL;
    st = jvae_alloc_floats(&latent, n, view.latent_dim, fn);
    if (st == JVAE_OK) st = encode_deterministic(latent, model, &view, images);
    if (st == JVAE_OK) {
        for (int64_t i = 0; i < n; i++)
            jvae_set_unit(latent + (size_t)i * (size_t)view.latent_dim, &view, unit, value);
        int64_t shape[2] = {n, view.latent_dim};
        jvae_tensor *latent_tensor = NULL;
        st = jvae_tensor_wrap(&latent_tensor, latent, 2, shape);
        if (st == JVAE_OK) st = jvae_decode(model, latent_tensor, edited);
        jvae_tensor_free(latent_tensor);
    }
    free(latent);
    return st;
}

/* ------------------------------------------------------------ pictures */

jvae_status jvae_picture_reconstructions(const char *path, const jvae_model *model,
                                         const jvae_tensor *images,
                                         const jvae_picture_options *options)
{
    static const char fn[] = "jvae_picture_reconstructions";
    JVAE_CHECK_NOT_NULL(path, fn);
    jvae_picture_options o;
    jvae_model_view view;
    jvae_status st = jvae_picture_options_resolve(&o, options, fn);
    if (st == JVAE_OK) st = jvae_model_view_init(&view, model, fn);
    if (st == JVAE_OK) {
        JVAE_CHECK_NOT_NULL(images, fn);
        st = check_images(images, &view, fn);
    }
    if (st) return st;
    const int64_t n = images->shape[0];
    if (n > (int64_t)o.columns * 1024)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: %lld images need more than 1024 rows of %d", fn, (long long)n,
                         o.columns);
    const int columns = n < o.columns ? (int)n : o.columns;
    const int half = (int)((n + columns - 1) / columns);
    float *latent = NULL;
    jvae_tensor *decoded = NULL;
    picture p;
    p.canvas.pixels = NULL;
    st = jvae_alloc_floats(&latent, n, view.latent_dim, fn);
    if (st == JVAE_OK) st = encode_deterministic(latent, model, &view, images);
    if (st == JVAE_OK) st = jvae_decode_rows(&decoded, model, &view, latent, n, fn);
    if (st == JVAE_OK) st = picture_begin(&p, &view, &o, 2 * half, columns, 0, fn);
    if (st == JVAE_OK) {
        picture_put_all(&p, images, 0, columns);
        picture_put_all(&p, decoded, half, columns);
        st = picture_finish(&p, path, fn);
    }
    jvae_canvas_release(&p.canvas);
    jvae_tensor_free(decoded);
    free(latent);
    return st;
}

/* Prior draws (n rows of latent) decoded and drawn rows x columns. */
static jvae_status draw_latents(const char *path, const jvae_model *model,
                                const jvae_model_view *view, const jvae_picture_options *o,
                                float *latent, int rows, int columns, const char *fn)
{
    jvae_tensor *decoded = NULL;
    picture p;
    p.canvas.pixels = NULL;
    jvae_status st =
        jvae_decode_rows(&decoded, model, view, latent, (int64_t)rows * columns, fn);
    if (st == JVAE_OK) st = picture_begin(&p, view, o, rows, columns, 0, fn);
    if (st == JVAE_OK) {
        picture_put_all(&p, decoded, 0, columns);
        st = picture_finish(&p, path, fn);
    }
    jvae_canvas_release(&p.canvas);
    jvae_tensor_free(decoded);
    return st;
}

static jvae_status sample_prior_rows(float *latent, const jvae_model *model,
                                     const jvae_model_view *view, uint64_t seed, int64_t n)
{
    int64_t shape[2] = {n, view->latent_dim};
    jvae_tensor *t = NULL;
    jvae_status st = jvae_tensor_wrap(&t, latent, 2, shape);
    if (st == JVAE_OK) st = jvae_sample_prior(model, seed, NULL, t, NULL);
    jvae_tensor_free(t);
    return st;
}

jvae_status jvae_picture_prior_samples(const char *path, const jvae_model *model,
                                       const jvae_picture_options *options)
{
    static const char fn[] = "jvae_picture_prior_samples";
    JVAE_CHECK_NOT_NULL(path, fn);
    jvae_picture_options o;
    jvae_model_view view;
    jvae_status st = jvae_picture_options_resolve(&o, options, fn);
    if (st == JVAE_OK) st = jvae_model_view_init(&view, model, fn);
    if (st) return st;
    const int64_t n = (int64_t)o.rows * o.columns;
    float *latent = NULL;
    st = jvae_alloc_floats(&latent, n, view.latent_dim, fn);
    if (st == JVAE_OK) st = sample_prior_rows(latent, model, &view, o.seed, n);
    if (st == JVAE_OK) st = draw_latents(path, model, &view, &o, latent, o.rows, o.columns, fn);
    free(latent);
    return st;
}

jvae_status jvae_picture_conditional_samples(const char *path, const jvae_model *model,
                                             int discrete_index,
                                             const jvae_picture_options *options)
{
    static const char fn[] = "jvae_picture_conditional_samples";
    JVAE_CHECK_NOT_NULL(path, fn);
    jvae_picture_options o;
    jvae_model_view view;
    jvae_status st = jvae_picture_options_resolve(&o, options, fn);
    if (st == JVAE_OK) st = jvae_model_view_init(&view, model, fn);
    if (st) return st;
    if (discrete_index < 0 || discrete_index >= view.options.n_discrete)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: discrete_index %d, the model has %d discrete variable(s)", fn,
                         discrete_index, view.options.n_discrete);
    const int unit = view.options.n_continuous + discrete_index;
    const int k = view.options.discrete_sizes[discrete_index];
    const int64_t n = (int64_t)k * o.columns;
    float *latent = NULL;
    st = jvae_alloc_floats(&latent, n, view.latent_dim, fn);
    if (st == JVAE_OK) st = sample_prior_rows(latent, model, &view, o.seed, n);
    if (st == JVAE_OK) {
        for (int64_t i = 0; i < n; i++)
            jvae_set_unit(latent + (size_t)i * (size_t)view.latent_dim, &view, unit,
                          (double)(i / o.columns));
        st = draw_latents(path, model, &view, &o, latent, k, o.columns, fn);
    }
    free(latent);
    return st;
}

/* Text scale of labels: the bitmap font grows with the images. */
static int label_scale(const jvae_model_view *view, const jvae_picture_options *o)
{
    int by_size = view->options.height / 32;
    return o->scale * (by_size > 1 ? by_size : 1);
}

jvae_status jvae_picture_traversals(const char *path, const jvae_model *model, const float *kl,
                                    int kl_count, const jvae_picture_options *options)
{
    static const char fn[] = "jvae_picture_traversals";
    JVAE_CHECK_NOT_NULL(path, fn);
    jvae_picture_options o;
    jvae_model_view view;
    jvae_status st = jvae_picture_options_resolve(&o, options, fn);
    if (st == JVAE_OK) st = jvae_model_view_init(&view, model, fn);
    if (st) return st;
    const int units = view.units, columns = o.columns;
    if (kl != NULL && kl_count != units)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: kl_count is %d, the model has %d units",
                         fn, kl_count, units);
    for (int u = 0; kl != NULL && u < units; u++)
        if (!isfinite(kl[u]))
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: kl[%d] is %g", fn, u, (double)kl[u]);
    int *rank = malloc((size_t)units * sizeof *rank);
    double *values = malloc((size_t)columns * sizeof *values);
    float *base = malloc((size_t)view.latent_dim * sizeof *base);
    float *latent = NULL;
    if (rank == NULL || values == NULL || base == NULL)
        st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    if (st == JVAE_OK) st = jvae_alloc_floats(&latent, (int64_t)units * columns, view.latent_dim, fn);
    if (st == JVAE_OK) st = jvae_traversal_values(values, columns, o.quantile_low, o.quantile_high);
    if (st == JVAE_OK) st = jvae_picture_base(base, model, &view, &o);
    if (st == JVAE_OK) {
        /* Insertion sort by KL, largest first; equal values keep unit order. */
        for (int u = 0; u < units; u++) {
            int at = u;
            while (kl != NULL && at > 0 && kl[rank[at - 1]] < kl[u]) {
                rank[at] = rank[at - 1];
                at--;
            }
            rank[at] = u;
        }
        for (int r = 0; r < units; r++)
            for (int s = 0; s < columns; s++) {
                float *row = latent + ((size_t)r * columns + (size_t)s) * (size_t)view.latent_dim;
                memcpy(row, base, (size_t)view.latent_dim * sizeof *row);
                jvae_set_unit(row, &view, rank[r], jvae_unit_step_value(&view, rank[r], values, s));
            }
    }
    jvae_tensor *decoded = NULL;
    if (st == JVAE_OK)
        st = jvae_decode_rows(&decoded, model, &view, latent, (int64_t)units * columns, fn);
    picture p;
    p.canvas.pixels = NULL;
    const int ts = label_scale(&view, &o);
    char label[64], name[16];
    int label_width = 0;
    for (int u = 0; st == JVAE_OK && u < units; u++) {
        jvae_unit_name(name, sizeof name, &view, u);
        if (kl != NULL)
            snprintf(label, sizeof label, "%s %.2f", name, (double)kl[u]);
        else
            snprintf(label, sizeof label, "%s", name);
        int w = jvae_text_width(label, ts);
        if (w > label_width) label_width = w;
    }
    label_width += 2 * (o.padding + 2 * ts);
    if (st == JVAE_OK) st = picture_begin(&p, &view, &o, units, columns, label_width, fn);
    if (st == JVAE_OK) {
        picture_put_all(&p, decoded, 0, columns);
        uint8_t ink[4] = {0, 0, 0, 0};
        ink[p.channels - 1] = (p.channels == 2 || p.channels == 4) ? 255 : 0;
        for (int r = 0; r < units; r++) {
            jvae_unit_name(name, sizeof name, &view, rank[r]);
            if (kl != NULL)
                snprintf(label, sizeof label, "%s %.2f", name, (double)kl[rank[r]]);
            else
                snprintf(label, sizeof label, "%s", name);
            int x, y;
            jvae_grid_cell_origin(&p.layout, r, 0, &x, &y);
            int cell_h = view.options.height * o.scale;
            jvae_canvas_draw_text(&p.canvas, o.padding + 2 * ts,
                                  y + (cell_h - jvae_text_height(ts)) / 2, label, ts, ink);
        }
        st = picture_finish(&p, path, fn);
    }
    jvae_canvas_release(&p.canvas);
    jvae_tensor_free(decoded);
    free(rank);
    free(values);
    free(base);
    free(latent);
    return st;
}

jvae_status jvae_picture_traversal_2d(const char *path, const jvae_model *model, int unit_rows,
                                      int unit_columns, const jvae_picture_options *options)
{
    static const char fn[] = "jvae_picture_traversal_2d";
    JVAE_CHECK_NOT_NULL(path, fn);
    jvae_picture_options o;
    jvae_model_view view;
    jvae_status st = jvae_picture_options_resolve(&o, options, fn);
    if (st == JVAE_OK) st = jvae_model_view_init(&view, model, fn);
    if (st == JVAE_OK) st = jvae_check_unit(&view, unit_rows, "unit_rows", fn);
    if (st == JVAE_OK) st = jvae_check_unit(&view, unit_columns, "unit_columns", fn);
    if (st) return st;
    if (unit_rows == unit_columns)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: unit_rows and unit_columns are both %d",
                         fn, unit_rows);
    const int rows = jvae_unit_steps(&view, unit_rows, o.columns);
    const int columns = jvae_unit_steps(&view, unit_columns, o.columns);
    double *row_values = malloc((size_t)o.columns * sizeof *row_values);
    float *base = malloc((size_t)view.latent_dim * sizeof *base);
    float *latent = NULL;
    if (row_values == NULL || base == NULL)
        st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    if (st == JVAE_OK) st = jvae_alloc_floats(&latent, (int64_t)rows * columns, view.latent_dim, fn);
    if (st == JVAE_OK)
        st = jvae_traversal_values(row_values, o.columns, o.quantile_low, o.quantile_high);
    if (st == JVAE_OK) st = jvae_picture_base(base, model, &view, &o);
    if (st == JVAE_OK) {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) {
                float *row = latent + ((size_t)r * columns + (size_t)c) * (size_t)view.latent_dim;
                memcpy(row, base, (size_t)view.latent_dim * sizeof *row);
                jvae_set_unit(row, &view, unit_rows,
                              jvae_unit_step_value(&view, unit_rows, row_values, r));
                jvae_set_unit(row, &view, unit_columns,
                              jvae_unit_step_value(&view, unit_columns, row_values, c));
            }
        st = draw_latents(path, model, &view, &o, latent, rows, columns, fn);
    }
    free(row_values);
    free(base);
    free(latent);
    return st;
}

jvae_status jvae_picture_edits(const char *path, const jvae_model *model,
                               const jvae_tensor *images, int unit,
                               const jvae_picture_options *options)
{
    static const char fn[] = "jvae_picture_edits";
    JVAE_CHECK_NOT_NULL(path, fn);
    jvae_picture_options o;
    jvae_model_view view;
    jvae_status st = jvae_picture_options_resolve(&o, options, fn);
    if (st == JVAE_OK) st = jvae_model_view_init(&view, model, fn);
    if (st == JVAE_OK) st = jvae_check_unit(&view, unit, "unit", fn);
    if (st == JVAE_OK) {
        JVAE_CHECK_NOT_NULL(images, fn);
        st = check_images(images, &view, fn);
    }
    if (st) return st;
    const int64_t n = images->shape[0];
    if (n > 1024)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: %lld images, at most 1024 rows", fn,
                         (long long)n);
    const int steps = jvae_unit_steps(&view, unit, o.columns);
    double *values = malloc((size_t)o.columns * sizeof *values);
    float *encoded = NULL, *latent = NULL;
    if (values == NULL) st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    if (st == JVAE_OK) st = jvae_alloc_floats(&encoded, n, view.latent_dim, fn);
    if (st == JVAE_OK) st = jvae_alloc_floats(&latent, n * steps, view.latent_dim, fn);
    if (st == JVAE_OK) st = jvae_traversal_values(values, o.columns, o.quantile_low, o.quantile_high);
    if (st == JVAE_OK) st = encode_deterministic(encoded, model, &view, images);
    if (st == JVAE_OK) {
        for (int64_t i = 0; i < n; i++)
            for (int s = 0; s < steps; s++) {
                float *row = latent + ((size_t)i * steps + (size_t)s) * (size_t)view.latent_dim;
                memcpy(row, encoded + (size_t)i * (size_t)view.latent_dim,
                       (size_t)view.latent_dim * sizeof *row);
                jvae_set_unit(row, &view, unit, jvae_unit_step_value(&view, unit, values, s));
            }
    }
    jvae_tensor *decoded = NULL;
    if (st == JVAE_OK) st = jvae_decode_rows(&decoded, model, &view, latent, n * steps, fn);
    picture p;
    p.canvas.pixels = NULL;
    if (st == JVAE_OK) st = picture_begin(&p, &view, &o, (int)n, steps + 1, 0, fn);
    if (st == JVAE_OK) {
        for (int64_t i = 0; i < n; i++) {
            picture_put(&p, (int)i, 0, images->data + (size_t)i * p.image_floats);
            for (int s = 0; s < steps; s++)
                picture_put(&p, (int)i, s + 1,
                            decoded->data + ((size_t)i * steps + (size_t)s) * p.image_floats);
        }
        st = picture_finish(&p, path, fn);
    }
    jvae_canvas_release(&p.canvas);
    jvae_tensor_free(decoded);
    free(values);
    free(encoded);
    free(latent);
    return st;
}
