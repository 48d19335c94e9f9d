/* dSprites rendered procedurally, following /work/shared/specs/dsprites.md
 * (summarised in docs/data.md). Pixel (r, c) is on when its centre
 * (c + 0.5, r + 0.5), mapped into sprite coordinates (u, v) by the inverse
 * rotation and scale, lies inside the shape. Square and ellipse are tested per
 * pixel; the heart, a polygon, is filled one row at a time: along a row the
 * sprite coordinates move on a straight line, so the row's inside intervals
 * come from where that line crosses the polygon's edges (the even-odd rule,
 * with the ray cast along the row). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "data/dataset.h"
#include "data/dsprites.h"

#define SIDE JVAE_DSPRITES_SIDE
#define HEART_V JVAE_DSPRITES_HEART_VERTICES
#define TWO_PI 6.283185307179586
/* Half-extent of any sprite in pixels: 9.6·√2 ≈ 13.6 at scale 1, plus the
 * half pixel between an edge and a pixel centre. */
#define REACH 14.5

static const int factor_sizes[JVAE_DSPRITES_FACTORS] = {1, 3, 6, 40, 32, 32};
static const int64_t factor_bases[JVAE_DSPRITES_FACTORS] = {737280, 245760, 40960, 1024, 32, 1};
static const char *const factor_names[JVAE_DSPRITES_FACTORS] = {
    "color", "shape", "scale", "orientation", "posX", "posY"};

enum { SHAPE_SQUARE = 0, SHAPE_ELLIPSE = 1, SHAPE_HEART = 2 };

typedef struct dsprites_state {
    double heart_u[HEART_V], heart_v[HEART_V]; /* polygon in sprite coordinates */
} dsprites_state;

static jvae_status check_classes(const char *fn, const int32_t *classes, int64_t item)
{
    for (int f = 0; f < JVAE_DSPRITES_FACTORS; f++)
        if (classes[f] < 0 || classes[f] >= factor_sizes[f])
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                             "%s: item %lld: %s class %d out of range [0, %d)", fn,
                             (long long)item, factor_names[f], (int)classes[f], factor_sizes[f]);
    return JVAE_OK;
}

/* Where a row of pixel centres crosses the heart: the row is the line
 * Q(c) = q0 + c·d in sprite coordinates (c the column); crossings[] receives
 * the sorted column parameters, and the return value their count (even). */
static int heart_row_crossings(const dsprites_state *ds, double u0, double v0, double du,
                               double dv, double *crossings)
{
    double side[HEART_V]; /* cross(d, P − q0): which side of the row each vertex is on */
    for (int i = 0; i < HEART_V; i++)
        side[i] = du * (ds->heart_v[i] - v0) - dv * (ds->heart_u[i] - u0);
    double d2 = du * du + dv * dv;
    int count = 0;
    for (int i = 0, j = HEART_V - 1; i < HEART_V; j = i++) {
        if ((side[i] > 0.0) == (side[j] > 0.0)) continue;
        double t = side[j] / (side[j] - side[i]);
        double xu = ds->heart_u[j] + t * (ds->heart_u[i] - ds->heart_u[j]);
        double xv = ds->heart_v[j] + t * (ds->heart_v[i] - ds->heart_v[j]);
        double c = ((xu - u0) * du + (xv - v0) * dv) / d2;
        int k = count++;
        while (k > 0 && crossings[k - 1] > c) {
            crossings[k] = crossings[k - 1];
            k--;
        }
        crossings[k] = c;
    }
    return count;
}

/* image (64, 64) <- 0/1 for the factor classes (already range-checked). */
static void render(const dsprites_state *ds, const int32_t *classes, float *image)
{
    int shape = classes[JVAE_DSPRITES_SHAPE];
    double scale = 0.5 + classes[JVAE_DSPRITES_SCALE] * (0.5 / 5.0);
    /* θ_39 = 2π is θ_0: use the same angle so both images are identical. */
    double theta = (classes[JVAE_DSPRITES_ORIENTATION] % 39) * (TWO_PI / 39.0);
    double cx = 16.0 + 32.0 * (classes[JVAE_DSPRITES_POS_X] / 31.0);
    double cy = 16.0 + 32.0 * (classes[JVAE_DSPRITES_POS_Y] / 31.0);
    double cos_t = cos(theta), sin_t = sin(theta);

    memset(image, 0, (size_t)SIDE * SIDE * sizeof *image);
    int r0 = (int)floor(cy - REACH), r1 = (int)ceil(cy + REACH);
    int c0 = (int)floor(cx - REACH), c1 = (int)ceil(cx + REACH);
    if (r0 < 0) r0 = 0;
    if (c0 < 0) c0 = 0;
    if (r1 > SIDE - 1) r1 = SIDE - 1;
    if (c1 > SIDE - 1) c1 = SIDE - 1;

    for (int r = r0; r <= r1; r++) {
        float *row = image + (size_t)r * SIDE;
        double dy = (r + 0.5) - cy;
        if (shape == SHAPE_HEART) {
            double crossings[HEART_V];
            double dx0 = 0.5 - cx; /* dx of column 0 */
            double u0 = (dx0 * cos_t - dy * sin_t) / scale;
            double v0 = (dx0 * sin_t + dy * cos_t) / scale;
            int n = heart_row_crossings(ds, u0, v0, cos_t / scale, sin_t / scale, crossings);
            /* Column c is inside when an odd number of crossings lie beyond
             * it: crossings[2k] <= c < crossings[2k + 1]. */
            for (int k = 0; k + 1 < n; k += 2) {
                int from = (int)ceil(crossings[k]), to = (int)ceil(crossings[k + 1]) - 1;
                if (from < 0) from = 0;
                if (to > SIDE - 1) to = SIDE - 1;
                for (int c = from; c <= to; c++) row[c] = 1.0f;
            }
            continue;
        }
        for (int c = c0; c <= c1; c++) {
            double dx = (c + 0.5) - cx;
            double u = (dx * cos_t - dy * sin_t) / scale;
            double v = (dx * sin_t + dy * cos_t) / scale;
            int on;
            if (shape == SHAPE_SQUARE) {
                on = fabs(u) <= 9.6 && fabs(v) <= 9.6;
            } else {
                double a = u / 12.8, b = v / 7.2;
                on = a * a + b * b <= 1.0;
            }
            if (on) row[c] = 1.0f;
        }
    }
}

jvae_status jvae_dsprites_index(int64_t *index_out, const int32_t *classes)
{
    JVAE_CHECK_NOT_NULL(index_out, "jvae_dsprites_index");
    JVAE_CHECK_NOT_NULL(classes, "jvae_dsprites_index");
    jvae_status status = check_classes("jvae_dsprites_index", classes, 0);
    if (status) return status;
    int64_t index = 0;
    for (int f = 0; f < JVAE_DSPRITES_FACTORS; f++) index += classes[f] * factor_bases[f];
    *index_out = index;
    return JVAE_OK;
}

static void classes_of(int32_t *classes, int64_t index)
{
    for (int f = 0; f < JVAE_DSPRITES_FACTORS; f++) {
        classes[f] = (int32_t)(index / factor_bases[f]);
        index %= factor_bases[f];
    }
}

jvae_status jvae_dsprites_classes(int32_t *classes_out, int64_t index)
{
    JVAE_CHECK_NOT_NULL(classes_out, "jvae_dsprites_classes");
    if (index < 0 || index >= JVAE_DSPRITES_COUNT)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "jvae_dsprites_classes: index %lld out of range [0, %d)", (long long)index,
                         JVAE_DSPRITES_COUNT);
    classes_of(classes_out, index);
    return JVAE_OK;
}

jvae_status jvae_dsprites_sample(int32_t *classes_out, int64_t count, uint64_t seed)
{
    JVAE_CHECK_NOT_NULL(classes_out, "jvae_dsprites_sample");
    if (count < 0)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "jvae_dsprites_sample: count %lld < 0",
                         (long long)count);
    jvae_rng rng;
    jvae_rng_seed(&rng, seed);
    for (int64_t i = 0; i < count; i++)
        for (int f = 0; f < JVAE_DSPRITES_FACTORS; f++)
            classes_out[i * JVAE_DSPRITES_FACTORS + f] =
                (int32_t)jvae_rng_below(&rng, (uint64_t)factor_sizes[f]);
    return JVAE_OK;
}

jvae_status jvae_dsprites_render(const jvae_dataset *dsprites, const int32_t *classes,
                                 jvae_tensor *images)
{
    const char *fn = "jvae_dsprites_render";
    JVAE_CHECK_NOT_NULL(dsprites, fn);
    JVAE_CHECK_NOT_NULL(classes, fn);
    if (dsprites->root->kind != JVAE_DATASET_DSPRITES)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: the data set is not dSprites", fn);
    int64_t shape[4] = {-1, 1, SIDE, SIDE};
    jvae_status status = jvae_tensor_expect(images, "jvae_dsprites_render: images", 4, shape);
    if (status) return status;
    int64_t n = images->shape[0];
    for (int64_t i = 0; i < n; i++) {
        status = check_classes(fn, classes + i * JVAE_DSPRITES_FACTORS, i);
        if (status) return status;
    }
    const dsprites_state *ds = dsprites->root->state;
    for (int64_t i = 0; i < n; i++)
        render(ds, classes + i * JVAE_DSPRITES_FACTORS, images->data + (size_t)i * SIDE * SIDE);
    return JVAE_OK;
}

static jvae_status dsprites_read(const jvae_dataset *dataset, int64_t index, float *image,
                                 int32_t *labels)
{
    int32_t classes[JVAE_DSPRITES_FACTORS];
    classes_of(classes, index);
    render(dataset->state, classes, image);
    if (labels != NULL) memcpy(labels, classes, sizeof classes);
    return JVAE_OK;
}

static void dsprites_release(void *state) { free(state); }

static const jvae_dataset_ops dsprites_ops = {dsprites_read, dsprites_release};

jvae_status jvae_dataset_dsprites(jvae_dataset **out)
{
    JVAE_CHECK_NOT_NULL(out, "jvae_dataset_dsprites");
    *out = NULL;
    dsprites_state *ds = malloc(sizeof *ds);
    if (ds == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "jvae_dataset_dsprites: cannot allocate");
    /* u = 9.6 sin³t, v = −0.66 (13 cos t − 5 cos 2t − 2 cos 3t − cos 4t) − 1.4:
     * lobes up (negative v is up), tip down. */
    for (int i = 0; i < HEART_V; i++) {
        double t = TWO_PI * i / HEART_V;
        double s = sin(t);
        ds->heart_u[i] = 9.6 * s * s * s;
        ds->heart_v[i] =
            -0.66 * (13.0 * cos(t) - 5.0 * cos(2.0 * t) - 2.0 * cos(3.0 * t) - cos(4.0 * t)) - 1.4;
    }
    jvae_dataset *dataset;
    jvae_status status = jvae_dataset_new(&dataset, "jvae_dataset_dsprites", JVAE_DATASET_DSPRITES,
                                          &dsprites_ops, ds);
    if (status) return status;
    dataset->size = JVAE_DSPRITES_COUNT;
    dataset->channels = 1;
    dataset->height = SIDE;
    dataset->width = SIDE;
    dataset->label_count = JVAE_DSPRITES_FACTORS;
    memcpy(dataset->label_classes, factor_sizes, sizeof factor_sizes);
    *out = dataset;
    return JVAE_OK;
}
