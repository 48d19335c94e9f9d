/* dSprites rendered procedurally, against the oracles of the spec
 * (/work/shared/specs/dsprites.md, summarised in docs/data.md) and against a
 * naive per-pixel even-odd reference written here from the spec's formulas. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "jointvae/data.h"
#include "data/dsprites.h"

#define SIDE 64
#define PIXELS (SIDE * SIDE)
#define PI 3.14159265358979323846

/* Tolerances. The spec's counts and heart spans were fitted to the real
 * dSprites preview ("a generator within a few pixels of these counts is
 * right"; boundary pixels depend on float rounding). At pos (0, 0) and θ = 0
 * the sprites are mirror-symmetric about their centre column (the ellipse also
 * about its centre row), so one ambiguous boundary pixel class flips 2 or 4
 * pixels at once: COUNT_SLACK allows exactly one such class. The axis-aligned
 * square has no fitted parameter, so its counts must be exact. A heart span
 * end may move by one pixel (SPAN_SLACK) for the same reason. */
#define COUNT_SLACK 4
#define SPAN_SLACK 1

static jvae_dataset *dsprites;

static void make_heart(void);

static int setup(void **state)
{
    (void)state;
    make_heart();
    return jvae_dataset_dsprites(&dsprites) == JVAE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    jvae_dataset_free(dsprites);
    return 0;
}

static void render_one(const int32_t classes[6], float *image)
{
    int64_t shape[4] = {1, 1, SIDE, SIDE};
    jvae_tensor *view = NULL;
    assert_int_equal(jvae_tensor_wrap(&view, image, 4, shape), JVAE_OK);
    assert_int_equal(jvae_dsprites_render(dsprites, classes, view), JVAE_OK);
    jvae_tensor_free(view);
}

static int count_on(const float *image)
{
    int count = 0;
    for (int i = 0; i < PIXELS; i++) {
        assert_true(image[i] == 0.0f || image[i] == 1.0f);
        count += image[i] == 1.0f;
    }
    return count;
}

static void test_oracle_counts_and_boxes(void **state)
{
    (void)state;
    static const int oracle[3][6] = {{100, 144, 196, 256, 324, 400},
                                     {76, 104, 144, 184, 228, 288},
                                     {58, 84, 108, 140, 182, 222}};
    /* rows r0..r1 x columns c0..c1 at scale 1 */
    static const int boxes[3][4] = {{6, 25, 6, 25}, {9, 22, 3, 28}, {7, 23, 6, 25}};
    float image[PIXELS];
    for (int shape = 0; shape < 3; shape++) {
        for (int scale = 0; scale < 6; scale++) {
            int32_t classes[6] = {0, shape, scale, 0, 0, 0};
            render_one(classes, image);
            int count = count_on(image);
            int slack = shape == 0 ? 0 : COUNT_SLACK;
            if (abs(count - oracle[shape][scale]) > slack)
                fail_msg("shape %d scale %d: %d pixels, oracle %d", shape, scale, count,
                         oracle[shape][scale]);
        }
        int32_t classes[6] = {0, shape, 5, 0, 0, 0};
        render_one(classes, image);
        int r0 = SIDE, r1 = -1, c0 = SIDE, c1 = -1;
        for (int r = 0; r < SIDE; r++)
            for (int c = 0; c < SIDE; c++)
                if (image[r * SIDE + c] == 1.0f) {
                    if (r < r0) r0 = r;
                    if (r > r1) r1 = r;
                    if (c < c0) c0 = c;
                    if (c > c1) c1 = c;
                }
        int slack = shape == 2 ? SPAN_SLACK : 0;
        assert_true(abs(r0 - boxes[shape][0]) <= slack && abs(r1 - boxes[shape][1]) <= slack);
        assert_true(abs(c0 - boxes[shape][2]) <= slack && abs(c1 - boxes[shape][3]) <= slack);
    }
}

static void test_rotated_counts(void **state)
{
    (void)state;
    float image[PIXELS];
    static const int square[3] = {368, 364, 372};
    static const int thetas[3] = {1, 5, 10};
    for (int k = 0; k < 3; k++) {
        int32_t sq[6] = {0, 0, 5, thetas[k], 0, 0};
        render_one(sq, image);
        int count = count_on(image);
        if (abs(count - square[k]) > COUNT_SLACK)
            fail_msg("square θ %d: %d pixels, oracle %d", thetas[k], count, square[k]);
        int32_t ellipse[6] = {0, 1, 5, thetas[k], 0, 0};
        render_one(ellipse, image);
        count = count_on(image);
        if (count < 288 - COUNT_SLACK || count > 290 + COUNT_SLACK)
            fail_msg("ellipse θ %d: %d pixels, oracle 288-290", thetas[k], count);
        int32_t heart[6] = {0, 2, 5, thetas[k], 0, 0};
        render_one(heart, image);
        count = count_on(image);
        if (count < 225 - COUNT_SLACK || count > 226 + COUNT_SLACK)
            fail_msg("heart θ %d: %d pixels, oracle 225-226", thetas[k], count);
    }
}

static void test_heart_row_spans(void **state)
{
    (void)state;
    /* row, then column spans (inclusive); one or two spans per row */
    static const int spans[17][5] = {
        {7, 9, 13, 18, 22}, {8, 8, 14, 17, 23}, {9, 7, 14, 17, 24}, {10, 7, 24, -1, -1},
        {11, 6, 25, -1, -1}, {12, 6, 25, -1, -1}, {13, 7, 24, -1, -1}, {14, 7, 24, -1, -1},
        {15, 8, 23, -1, -1}, {16, 8, 23, -1, -1}, {17, 9, 22, -1, -1}, {18, 10, 21, -1, -1},
        {19, 11, 20, -1, -1}, {20, 12, 19, -1, -1}, {21, 13, 18, -1, -1}, {22, 14, 17, -1, -1},
        {23, 15, 16, -1, -1}};
    float image[PIXELS];
    int32_t classes[6] = {0, 2, 5, 0, 0, 0};
    render_one(classes, image);
    for (int r = 0; r < SIDE; r++) {
        const int *expected = NULL;
        for (int k = 0; k < 17; k++)
            if (spans[k][0] == r) expected = spans[k];
        int found[4], n = 0;
        for (int c = 0; c < SIDE; c++) {
            int on = image[r * SIDE + c] == 1.0f;
            int before = c > 0 && image[r * SIDE + c - 1] == 1.0f;
            int after = c < SIDE - 1 && image[r * SIDE + c + 1] == 1.0f;
            if (on && !before && n < 4) found[n++] = c;
            if (on && !after && n < 4) found[n++] = c;
        }
        if (expected == NULL) {
            if (n != 0) fail_msg("row %d: expected empty, found a span at %d", r, found[0]);
            continue;
        }
        int want = expected[3] < 0 ? 2 : 4;
        if (n != want) fail_msg("row %d: %d span ends, expected %d", r, n, want);
        for (int i = 0; i < want; i++)
            if (abs(found[i] - expected[1 + i]) > SPAN_SLACK)
                fail_msg("row %d: span end %d at column %d, expected %d", r, i, found[i],
                         expected[1 + i]);
    }
}

/* The spec's heart polygon, computed here independently of the renderer. */
static double heart_u[JVAE_DSPRITES_HEART_VERTICES], heart_v[JVAE_DSPRITES_HEART_VERTICES];

static void make_heart(void)
{
    for (int i = 0; i < JVAE_DSPRITES_HEART_VERTICES; i++) {
        double t = 2.0 * PI * i / JVAE_DSPRITES_HEART_VERTICES;
        heart_u[i] = 9.6 * pow(sin(t), 3);
        heart_v[i] = -0.66 * (13 * cos(t) - 5 * cos(2 * t) - 2 * cos(3 * t) - cos(4 * t)) - 1.4;
    }
}

/* The spec, pixel by pixel: the heart by casting a ray along +u from the pixel
 * centre and counting the edges it crosses (even-odd, half-open in v). */
static int naive_inside(const int32_t *classes, int r, int c)
{
    double scale = 0.5 + 0.1 * classes[2];
    double theta = classes[3] * 2.0 * PI / 39.0;
    double cx = 16.0 + 32.0 * classes[4] / 31.0, cy = 16.0 + 32.0 * classes[5] / 31.0;
    double dx = c + 0.5 - cx, dy = r + 0.5 - cy;
    double u = (dx * cos(theta) - dy * sin(theta)) / scale;
    double v = (dx * sin(theta) + dy * cos(theta)) / scale;
    if (classes[1] == 0) return fabs(u) <= 9.6 && fabs(v) <= 9.6;
    if (classes[1] == 1) return (u / 12.8) * (u / 12.8) + (v / 7.2) * (v / 7.2) <= 1.0;
    int inside = 0;
    for (int i = 0, j = JVAE_DSPRITES_HEART_VERTICES - 1; i < JVAE_DSPRITES_HEART_VERTICES;
         j = i++) {
        double ui = heart_u[i], vi = heart_v[i], uj = heart_u[j], vj = heart_v[j];
        if ((vi > v) != (vj > v) && u < (uj - ui) * (v - vi) / (vj - vi) + ui) inside = !inside;
    }
    return inside;
}

static void test_matches_naive_reference(void **state)
{
    (void)state;
    /* Random poses. The renderer and the reference evaluate the same
     * predicate with different rounding, so they can only disagree for a
     * pixel centre within ~1e-12 px of an edge: in 120 random images, never.
     * θ index 39 is excluded: the renderer maps it to θ = 0 exactly, the
     * reference evaluates sin(2π) ≈ −2.4e-16 (checked separately). */
    enum { COUNT = 120 };
    int32_t classes[COUNT * 6];
    assert_int_equal(jvae_dsprites_sample(classes, COUNT, 2024), JVAE_OK);
    float *images = malloc(sizeof(float) * COUNT * PIXELS);
    assert_non_null(images);
    int64_t shape[4] = {COUNT, 1, SIDE, SIDE};
    jvae_tensor *batch = NULL;
    for (int i = 0; i < COUNT; i++) {
        classes[i * 6 + 1] = i % 3; /* every shape equally */
        if (classes[i * 6 + 3] == 39) classes[i * 6 + 3] = 38;
    }
    assert_int_equal(jvae_tensor_wrap(&batch, images, 4, shape), JVAE_OK);
    assert_int_equal(jvae_dsprites_render(dsprites, classes, batch), JVAE_OK);
    for (int i = 0; i < COUNT; i++)
        for (int r = 0; r < SIDE; r++)
            for (int c = 0; c < SIDE; c++) {
                float want = (float)naive_inside(classes + i * 6, r, c);
                if (images[(size_t)i * PIXELS + r * SIDE + c] != want)
                    fail_msg("item %d (shape %d scale %d θ %d x %d y %d) pixel (%d, %d): "
                             "renderer %g, reference %g",
                             i, classes[i * 6 + 1], classes[i * 6 + 2], classes[i * 6 + 3],
                             classes[i * 6 + 4], classes[i * 6 + 5], r, c,
                             images[(size_t)i * PIXELS + r * SIDE + c], want);
            }
    jvae_tensor_free(batch);
    free(images);
}

static void test_theta_0_and_39_identical(void **state)
{
    (void)state;
    float a[PIXELS], b[PIXELS];
    int32_t samples[40 * 6];
    assert_int_equal(jvae_dsprites_sample(samples, 40, 7), JVAE_OK);
    for (int i = 0; i < 40; i++) {
        int32_t *classes = samples + i * 6;
        classes[3] = 0;
        int64_t index0, index39;
        assert_int_equal(jvae_dsprites_index(&index0, classes), JVAE_OK);
        classes[3] = 39;
        assert_int_equal(jvae_dsprites_index(&index39, classes), JVAE_OK);
        assert_true(index0 != index39);
        assert_int_equal(jvae_dataset_read(dsprites, index0, a, PIXELS, NULL, 0), JVAE_OK);
        assert_int_equal(jvae_dataset_read(dsprites, index39, b, PIXELS, NULL, 0), JVAE_OK);
        assert_memory_equal(a, b, sizeof a);
        assert_true(count_on(a) > 0);
    }
}

static void test_index_classes_round_trip(void **state)
{
    (void)state;
    assert_int_equal(jvae_dataset_size(dsprites), JVAE_DSPRITES_COUNT);
    assert_int_equal(jvae_dataset_label_count(dsprites), 6);
    static const int sizes[6] = {1, 3, 6, 40, 32, 32};
    for (int f = 0; f < 6; f++) assert_int_equal(jvae_dataset_label_classes(dsprites, f), sizes[f]);
    assert_int_equal(jvae_dataset_label_classes(dsprites, 6), 0);
    int channels, height, width;
    assert_int_equal(jvae_dataset_image_shape(dsprites, &channels, &height, &width), JVAE_OK);
    assert_true(channels == 1 && height == SIDE && width == SIDE);

    int32_t classes[6], previous[6] = {0, 0, 0, 0, 0, -1};
    for (int64_t index = 0; index < JVAE_DSPRITES_COUNT; index++) {
        assert_int_equal(jvae_dsprites_classes(classes, index), JVAE_OK);
        /* the last factor changes fastest: indices enumerate classes in order */
        int f = 5;
        while (previous[f] + 1 == sizes[f]) previous[f--] = 0;
        previous[f]++;
        if (memcmp(classes, previous, sizeof classes) != 0) fail_msg("index %lld", (long long)index);
        int64_t back;
        assert_int_equal(jvae_dsprites_index(&back, classes), JVAE_OK);
        assert_int_equal(back, index);
    }
    /* labels read with an image are its classes */
    float image[PIXELS];
    int32_t labels[6];
    int64_t index = 123457;
    assert_int_equal(jvae_dataset_read(dsprites, index, image, PIXELS, labels, 6), JVAE_OK);
    assert_int_equal(jvae_dsprites_classes(classes, index), JVAE_OK);
    assert_memory_equal(labels, classes, sizeof labels);
}

/* Number of on pixels and their centroid (column, row). */
static int centroid(const float *image, double *column, double *row)
{
    int count = count_on(image);
    double sum_c = 0, sum_r = 0;
    for (int i = 0; i < PIXELS; i++)
        if (image[i] == 1.0f) {
            sum_r += i / SIDE + 0.5;
            sum_c += i % SIDE + 0.5;
        }
    *column = sum_c / count;
    *row = sum_r / count;
    return count;
}

static void test_positions_move_the_sprite(void **state)
{
    (void)state;
    /* posX moves the sprite right by 32/31 px per class, posY down; at the
     * extreme positions the sprite still fits whole on the canvas. */
    float image[PIXELS];
    for (int shape = 0; shape < 3; shape++) {
        int32_t origin[6] = {0, shape, 5, 7, 0, 0};
        render_one(origin, image);
        double c0, r0;
        int reference = centroid(image, &c0, &r0);
        for (int x = 0; x < 32; x += 31)
            for (int y = 0; y < 32; y += 31) {
                int32_t classes[6] = {0, shape, 5, 7, x, y};
                render_one(classes, image);
                double c, r;
                int count = centroid(image, &c, &r);
                /* The pixel grid shifts under the sprite, so only boundary
                 * pixels change: a few percent of the count, and the centroid
                 * moves with the sprite to within a fraction of a pixel. */
                assert_true(abs(count - reference) <= reference / 20);
                assert_true(fabs(c - c0 - 32.0 * x / 31) < 0.5);
                assert_true(fabs(r - r0 - 32.0 * y / 31) < 0.5);
                for (int k = 0; k < SIDE; k++) /* nothing touches the border */
                    assert_true(image[k] == 0.0f && image[PIXELS - 1 - k] == 0.0f &&
                                image[k * SIDE] == 0.0f && image[k * SIDE + SIDE - 1] == 0.0f);
            }
    }
}

static void test_sample_is_seeded_and_uniform(void **state)
{
    (void)state;
    enum { COUNT = 24000 };
    int32_t *a = malloc(sizeof(int32_t) * COUNT * 6), *b = malloc(sizeof(int32_t) * COUNT * 6);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(jvae_dsprites_sample(a, COUNT, 99), JVAE_OK);
    assert_int_equal(jvae_dsprites_sample(b, COUNT, 99), JVAE_OK);
    assert_memory_equal(a, b, sizeof(int32_t) * COUNT * 6);
    assert_int_equal(jvae_dsprites_sample(b, COUNT, 100), JVAE_OK);
    assert_memory_not_equal(a, b, sizeof(int32_t) * COUNT * 6);
    static const int sizes[6] = {1, 3, 6, 40, 32, 32};
    for (int f = 0; f < 6; f++) {
        int histogram[40] = {0};
        for (int i = 0; i < COUNT; i++) {
            int value = a[i * 6 + f];
            assert_true(value >= 0 && value < sizes[f]);
            histogram[value]++;
        }
        /* each class expects COUNT/size draws (>= 600); a binomial count
         * stays within 5 standard deviations (< 0.25 of the mean here) */
        for (int k = 0; k < sizes[f]; k++) {
            double mean = (double)COUNT / sizes[f];
            double sd = sqrt(mean * (1.0 - 1.0 / sizes[f]));
            if (fabs(histogram[k] - mean) > 5 * sd)
                fail_msg("factor %d class %d: %d draws, expected %.0f", f, k, histogram[k], mean);
        }
    }
    assert_int_equal(jvae_dsprites_sample(a, 0, 1), JVAE_OK);
    free(a);
    free(b);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    int32_t classes[6] = {0, 3, 0, 0, 0, 0};
    int64_t index;
    assert_int_equal(jvae_dsprites_index(&index, classes), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("shape class 3 out of range [0, 3)");
    classes[1] = 0;
    classes[5] = 32;
    assert_int_equal(jvae_dsprites_index(&index, classes), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("posY class 32");
    assert_int_equal(jvae_dsprites_index(NULL, classes), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_dsprites_classes(classes, JVAE_DSPRITES_COUNT), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_dsprites_classes(classes, -1), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_dsprites_sample(NULL, 1, 1), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_dsprites_sample(classes, -1, 1), JVAE_ERR_INVALID_ARGUMENT);

    int64_t wrong[4] = {2, 1, 32, 32};
    jvae_tensor *images = NULL;
    assert_int_equal(jvae_tensor_create(&images, 4, wrong), JVAE_OK);
    int32_t two[12] = {0};
    assert_int_equal(jvae_dsprites_render(dsprites, two, images), JVAE_ERR_SHAPE);
    assert_error_contains("expected shape (N, 1, 64, 64), got (2, 1, 32, 32)");
    jvae_tensor_free(images);
    int64_t right[4] = {2, 1, 64, 64};
    assert_int_equal(jvae_tensor_create(&images, 4, right), JVAE_OK);
    two[6 + 2] = 6;
    assert_int_equal(jvae_dsprites_render(dsprites, two, images), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("item 1: scale class 6 out of range [0, 6)");
    assert_int_equal(jvae_dsprites_render(NULL, two, images), JVAE_ERR_INVALID_ARGUMENT);
    /* a view of dSprites still renders */
    jvae_dataset *view = NULL;
    int64_t pick[2] = {5, 6};
    assert_int_equal(jvae_dataset_subset(&view, dsprites, pick, 2), JVAE_OK);
    two[6 + 2] = 0;
    assert_int_equal(jvae_dsprites_render(view, two, images), JVAE_OK);
    jvae_dataset_free(view);
    jvae_tensor_free(images);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_counts_and_boxes),
        cmocka_unit_test(test_rotated_counts),
        cmocka_unit_test(test_heart_row_spans),
        cmocka_unit_test(test_matches_naive_reference),
        cmocka_unit_test(test_theta_0_and_39_identical),
        cmocka_unit_test(test_index_classes_round_trip),
        cmocka_unit_test(test_positions_move_the_sprite),
        cmocka_unit_test(test_sample_is_seeded_and_uniform),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
