/* Pictures of a model, read back with libpng and compared byte for byte with
 * what the model computes through the public calls; traversal latents;
 * image editing; the main pictures; bad input. A small random model is enough:
 * the pictures only arrange what encode/decode/sample produce. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "test_util.h"
#include "test_viz_read_png.h"

#include "core/tensor.h"
#include "jointvae/data.h"
#include "jointvae/metrics.h"
#include "jointvae/viz.h"

enum { DZ = 3, K = 3, UNITS = DZ + 1, LATENT = DZ + K, SIDE = 32 };

static jvae_model *small_model(void)
{
    jvae_model_options options;
    assert_int_equal(jvae_model_options_init(&options), JVAE_OK);
    options.n_continuous = DZ;
    options.n_discrete = 1;
    options.discrete_sizes[0] = K;
    options.hidden = 16;
    options.seed = 11;
    jvae_model *model = NULL;
    assert_int_equal(jvae_model_create(&model, &options), JVAE_OK);
    return model;
}

static jvae_tensor *random_images(int n, uint64_t seed)
{
    int64_t shape[4] = {n, 1, SIDE, SIDE};
    jvae_tensor *t = NULL;
    assert_int_equal(jvae_tensor_create(&t, 4, shape), JVAE_OK);
    jvae_rng rng;
    jvae_rng_seed(&rng, seed);
    test_fill_uniform(&rng, t->data, t->numel, 0.0f, 1.0f);
    return t;
}

static unsigned char byte_of(float v)
{
    if (!(v > 0.0f)) return 0;
    if (v >= 1.0f) return 255;
    return (unsigned char)(v * 255.0f + 0.5f);
}

/* Cell (row, col) of a grey picture with padding 2, scale 1, label margin
 * `left`, holds image (1, SIDE, SIDE). */
static void assert_cell(const decoded_png *png, int left, int row, int col, const float *image)
{
    int x0 = left + 2 + col * (SIDE + 2), y0 = 2 + row * (SIDE + 2);
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            assert_int_equal(png_pixel(png, x0 + x, y0 + y)[0], byte_of(image[y * SIDE + x]));
}

static jvae_tensor *decode_rows(const jvae_model *model, const float *latent, int n)
{
    int64_t ls[2] = {n, LATENT}, is[4] = {n, 1, SIDE, SIDE};
    jvae_tensor *l = NULL, *images = NULL;
    assert_int_equal(jvae_tensor_from_buffer(&l, latent, 2, ls), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&images, 4, is), JVAE_OK);
    assert_int_equal(jvae_decode(model, l, images), JVAE_OK);
    jvae_tensor_free(l);
    return images;
}

static const char *path_in(const char *dir, const char *name)
{
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void test_traversal_latents(void **state)
{
    (void)state;
    jvae_model *model = small_model();
    int64_t shape[2] = {5, LATENT};
    jvae_tensor *latent = NULL;
    assert_int_equal(jvae_tensor_create(&latent, 2, shape), JVAE_OK);
    assert_int_equal(jvae_traversal_latents(model, 1, NULL, 0.05, 0.95, latent), JVAE_OK);
    for (int s = 0; s < 5; s++) {
        const float *row = latent->data + s * LATENT;
        double q = s == 4 ? 0.95 : 0.05 + s * ((0.95 - 0.05) / 4);
        assert_true(row[1] == (float)jvae_normal_quantile(q));
        assert_true(row[0] == 0.0f && row[2] == 0.0f);
        assert_true(row[DZ] == 1.0f && row[DZ + 1] == 0.0f && row[DZ + 2] == 0.0f);
    }
    /* Φ⁻¹(0.05) itself, to 1e-9 before the cast to float */
    assert_true(fabs(latent->data[1] - -1.6448536269514729) < 1e-6); /* float rounding: 1.2e-7 */
    assert_true(fabs(jvae_normal_quantile(0.05) - -1.6448536269514729) < 1e-9);

    /* a discrete unit cycles its categories over a given base */
    int64_t bshape[2] = {1, LATENT};
    float base_values[LATENT] = {0.5f, -1.0f, 2.0f, 0.0f, 1.0f, 0.0f};
    jvae_tensor *base = NULL;
    assert_int_equal(jvae_tensor_wrap(&base, base_values, 2, bshape), JVAE_OK);
    assert_int_equal(jvae_traversal_latents(model, DZ, base, 0.05, 0.95, latent), JVAE_OK);
    for (int s = 0; s < 5; s++) {
        const float *row = latent->data + s * LATENT;
        assert_true(row[0] == 0.5f && row[1] == -1.0f && row[2] == 2.0f);
        for (int c = 0; c < K; c++) assert_true(row[DZ + c] == (c == s % K ? 1.0f : 0.0f));
    }
    assert_int_equal(jvae_traversal_latents(model, UNITS, NULL, 0.05, 0.95, latent),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("unit 4 is not a unit of the model (0..3");
    assert_int_equal(jvae_traversal_latents(model, -1, NULL, 0.05, 0.95, latent),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_traversal_latents(model, 0, NULL, 0.5, 0.4, latent),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_traversal_latents(NULL, 0, NULL, 0.05, 0.95, latent),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_traversal_latents(model, 0, NULL, 0.05, 0.95, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    int64_t wrong[2] = {5, LATENT + 1};
    jvae_tensor *bad = NULL;
    assert_int_equal(jvae_tensor_create(&bad, 2, wrong), JVAE_OK);
    assert_int_equal(jvae_traversal_latents(model, 0, NULL, 0.05, 0.95, bad), JVAE_ERR_SHAPE);
    assert_error_contains("expected shape (N, 6), got (5, 7)");
    assert_int_equal(jvae_traversal_latents(model, 0, bad, 0.05, 0.95, latent), JVAE_ERR_SHAPE);
    jvae_tensor_free(bad);
    jvae_tensor_free(base);
    jvae_tensor_free(latent);
    jvae_model_free(model);
}

static void test_reconstructions_and_samples(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-pictures");
    jvae_model *model = small_model();
    jvae_tensor *images = random_images(5, 1);
    jvae_picture_options o;
    assert_int_equal(jvae_picture_options_init(&o), JVAE_OK);
    o.columns = 3;
    o.rows = 2;
    o.seed = 42;

    /* reconstructions: 2 rows of originals, 2 of reconstructions */
    assert_int_equal(jvae_picture_reconstructions(path_in(dir, "rec.png"), model, images, &o),
                     JVAE_OK);
    decoded_png png;
    assert_int_equal(read_png(path_in(dir, "rec.png"), &png), 0);
    assert_int_equal(png.width, 3 * SIDE + 4 * 2);
    assert_int_equal(png.height, 4 * SIDE + 5 * 2);
    int64_t ms[2] = {5, DZ}, as[2] = {5, K}, ls[2] = {5, LATENT};
    jvae_tensor *mu = NULL, *alpha = NULL, *latent = NULL;
    jvae_tensor_create(&mu, 2, ms);
    jvae_tensor_create(&alpha, 2, as);
    jvae_tensor_create(&latent, 2, ls);
    assert_int_equal(jvae_encode(model, images, mu, NULL, alpha), JVAE_OK);
    assert_int_equal(jvae_latent_deterministic(model, mu, alpha, latent), JVAE_OK);
    jvae_tensor *recon = decode_rows(model, latent->data, 5);
    for (int i = 0; i < 5; i++) {
        assert_cell(&png, 0, i / 3, i % 3, images->data + i * SIDE * SIDE);
        assert_cell(&png, 0, 2 + i / 3, i % 3, recon->data + i * SIDE * SIDE);
    }
    free(png.pixels);
    jvae_tensor_free(recon);

    /* prior samples: the model's own prior draws with the picture's seed */
    assert_int_equal(jvae_picture_prior_samples(path_in(dir, "samples.png"), model, &o), JVAE_OK);
    assert_int_equal(read_png(path_in(dir, "samples.png"), &png), 0);
    assert_int_equal(png.height, 2 * SIDE + 3 * 2);
    int64_t ps[2] = {6, LATENT};
    jvae_tensor *prior = NULL;
    jvae_tensor_create(&prior, 2, ps);
    assert_int_equal(jvae_sample_prior(model, 42, NULL, prior, NULL), JVAE_OK);
    jvae_tensor *samples = decode_rows(model, prior->data, 6);
    for (int i = 0; i < 6; i++) assert_cell(&png, 0, i / 3, i % 3, samples->data + i * SIDE * SIDE);
    free(png.pixels);
    jvae_tensor_free(samples);

    /* conditional samples: the same draws (K·columns of them) with the
     * discrete variable set to the row */
    assert_int_equal(jvae_picture_conditional_samples(path_in(dir, "cond.png"), model, 0, &o),
                     JVAE_OK);
    assert_int_equal(read_png(path_in(dir, "cond.png"), &png), 0);
    assert_int_equal(png.height, K * SIDE + (K + 1) * 2);
    int64_t cs[2] = {K * 3, LATENT};
    jvae_tensor *cond = NULL;
    jvae_tensor_create(&cond, 2, cs);
    assert_int_equal(jvae_sample_prior(model, 42, NULL, cond, NULL), JVAE_OK);
    for (int i = 0; i < K * 3; i++)
        for (int c = 0; c < K; c++) cond->data[i * LATENT + DZ + c] = c == i / 3 ? 1.0f : 0.0f;
    jvae_tensor *cond_images = decode_rows(model, cond->data, K * 3);
    for (int i = 0; i < K * 3; i++)
        assert_cell(&png, 0, i / 3, i % 3, cond_images->data + i * SIDE * SIDE);
    free(png.pixels);
    jvae_tensor_free(cond_images);
    jvae_tensor_free(cond);
    jvae_tensor_free(prior);
    jvae_tensor_free(mu);
    jvae_tensor_free(alpha);
    jvae_tensor_free(latent);
    jvae_tensor_free(images);
    jvae_model_free(model);
}

static void test_traversals_ranked_by_kl(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-traversals");
    jvae_model *model = small_model();
    jvae_picture_options o;
    jvae_picture_options_init(&o);
    o.columns = 4;
    const float kl[UNITS] = {0.25f, 3.5f, 0.0f, 1.0f};
    assert_int_equal(jvae_picture_traversals(path_in(dir, "t.png"), model, kl, UNITS, &o), JVAE_OK);
    decoded_png png;
    assert_int_equal(read_png(path_in(dir, "t.png"), &png), 0);
    /* the widest label is "z0 0.25" (7 glyphs): 41 pixels + 2·(2 + 2) margin */
    const int left = 41 + 8;
    assert_int_equal(png.width, left + 4 * SIDE + 5 * 2);
    assert_int_equal(png.height, UNITS * SIDE + (UNITS + 1) * 2);
    const int order[UNITS] = {1, 3, 0, 2};
    int64_t ts[2] = {4, LATENT};
    jvae_tensor *latent = NULL;
    jvae_tensor_create(&latent, 2, ts);
    for (int r = 0; r < UNITS; r++) {
        assert_int_equal(jvae_traversal_latents(model, order[r], NULL, 0.05, 0.95, latent), JVAE_OK);
        jvae_tensor *row = decode_rows(model, latent->data, 4);
        for (int s = 0; s < 4; s++) assert_cell(&png, left, r, s, row->data + s * SIDE * SIDE);
        jvae_tensor_free(row);
    }
    /* labels: black ink on a white margin, in the row of each unit */
    int ink = 0, white = 0;
    for (int y = 0; y < png.height; y++)
        for (int x = 0; x < left; x++) {
            unsigned char v = png_pixel(&png, x, y)[0];
            ink += v == 0;
            white += v == 255;
        }
    assert_int_equal(ink + white, left * png.height);
    assert_true(ink > 4 * 20);
    /* first row reads "z1 3.50": the '1' glyph's top pixel is column 2 of the second glyph */
    int text_y = 2 + (SIDE - 7) / 2;
    assert_int_equal(png_pixel(&png, 4 + 6 + 2, text_y)[0], 0);
    assert_int_equal(png_pixel(&png, 4 + 6 + 0, text_y)[0], 255);
    free(png.pixels);

    /* without KL: unit order, names only, and with a prior base */
    o.base = JVAE_TRAVERSAL_BASE_PRIOR;
    assert_int_equal(jvae_picture_traversals(path_in(dir, "u.png"), model, NULL, 0, &o), JVAE_OK);
    assert_int_equal(read_png(path_in(dir, "u.png"), &png), 0);
    const int narrow = 11 + 8; /* "z0" */
    assert_int_equal(png.width, narrow + 4 * SIDE + 5 * 2);
    int64_t bs[2] = {1, LATENT};
    jvae_tensor *base = NULL;
    jvae_tensor_create(&base, 2, bs);
    assert_int_equal(jvae_sample_prior(model, o.seed, NULL, base, NULL), JVAE_OK);
    assert_int_equal(jvae_traversal_latents(model, 2, base, 0.05, 0.95, latent), JVAE_OK);
    jvae_tensor *row = decode_rows(model, latent->data, 4);
    for (int s = 0; s < 4; s++) assert_cell(&png, narrow, 2, s, row->data + s * SIDE * SIDE);
    jvae_tensor_free(row);
    free(png.pixels);

    /* 2-D: the discrete unit down (K rows), a continuous one across */
    o.base = JVAE_TRAVERSAL_BASE_ZERO;
    assert_int_equal(jvae_picture_traversal_2d(path_in(dir, "2d.png"), model, DZ, 0, &o), JVAE_OK);
    assert_int_equal(read_png(path_in(dir, "2d.png"), &png), 0);
    assert_int_equal(png.height, K * SIDE + (K + 1) * 2);
    assert_int_equal(png.width, 4 * SIDE + 5 * 2);
    assert_int_equal(jvae_traversal_latents(model, 0, NULL, 0.05, 0.95, latent), JVAE_OK);
    for (int s = 0; s < 4; s++) {
        latent->data[s * LATENT + DZ] = 0.0f;
        latent->data[s * LATENT + DZ + 2] = 1.0f; /* row 2: category 2 */
    }
    row = decode_rows(model, latent->data, 4);
    for (int s = 0; s < 4; s++) assert_cell(&png, 0, 2, s, row->data + s * SIDE * SIDE);
    jvae_tensor_free(row);
    free(png.pixels);
    jvae_tensor_free(base);
    jvae_tensor_free(latent);
    jvae_model_free(model);
}

static void test_editing(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-edit");
    jvae_model *model = small_model();
    jvae_tensor *images = random_images(2, 5), *edited = random_images(2, 6);
    int64_t ms[2] = {2, DZ}, as[2] = {2, K}, ls[2] = {2, LATENT};
    jvae_tensor *mu = NULL, *alpha = NULL, *latent = NULL;
    jvae_tensor_create(&mu, 2, ms);
    jvae_tensor_create(&alpha, 2, as);
    jvae_tensor_create(&latent, 2, ls);
    assert_int_equal(jvae_encode(model, images, mu, NULL, alpha), JVAE_OK);
    assert_int_equal(jvae_latent_deterministic(model, mu, alpha, latent), JVAE_OK);

    assert_int_equal(jvae_edit_images(model, images, 2, 1.25, edited), JVAE_OK);
    latent->data[2] = latent->data[LATENT + 2] = 1.25f;
    jvae_tensor *expected = decode_rows(model, latent->data, 2);
    assert_memory_equal(edited->data, expected->data, edited->numel * sizeof(float));
    jvae_tensor_free(expected);

    assert_int_equal(jvae_edit_images(model, images, DZ, 1.0, edited), JVAE_OK);
    assert_int_equal(jvae_latent_deterministic(model, mu, alpha, latent), JVAE_OK);
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < K; c++) latent->data[i * LATENT + DZ + c] = c == 1 ? 1.0f : 0.0f;
    expected = decode_rows(model, latent->data, 2);
    assert_memory_equal(edited->data, expected->data, edited->numel * sizeof(float));
    jvae_tensor_free(expected);

    assert_int_equal(jvae_edit_images(model, images, DZ, 1.5, edited), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("value 1.5 is not one of 0..2");
    assert_int_equal(jvae_edit_images(model, images, DZ, 3.0, edited), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_edit_images(model, images, 0, NAN, edited), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_edit_images(model, images, 9, 0.0, edited), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_edit_images(model, NULL, 0, 0.0, edited), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_edit_images(model, images, 0, 0.0, NULL), JVAE_ERR_INVALID_ARGUMENT);
    jvae_tensor *three = random_images(3, 7);
    assert_int_equal(jvae_edit_images(model, images, 0, 0.0, three), JVAE_ERR_SHAPE);
    jvae_tensor_free(three);

    jvae_picture_options o;
    jvae_picture_options_init(&o);
    o.columns = 5;
    assert_int_equal(jvae_picture_edits(path_in(dir, "e.png"), model, images, 0, &o), JVAE_OK);
    decoded_png png;
    assert_int_equal(read_png(path_in(dir, "e.png"), &png), 0);
    assert_int_equal(png.width, 6 * SIDE + 7 * 2);
    assert_int_equal(png.height, 2 * SIDE + 3 * 2);
    assert_cell(&png, 0, 1, 0, images->data + SIDE * SIDE);
    /* column 1 + s of row 1: image 1 with unit 0 set to traversal value s */
    double values[5];
    jvae_traversal_values(values, 5, 0.05, 0.95);
    assert_int_equal(jvae_edit_images(model, images, 0, values[3], edited), JVAE_OK);
    assert_cell(&png, 0, 1, 4, edited->data + SIDE * SIDE);
    free(png.pixels);
    assert_int_equal(jvae_picture_edits(path_in(dir, "d.png"), model, images, DZ, &o), JVAE_OK);
    assert_int_equal(read_png(path_in(dir, "d.png"), &png), 0);
    assert_int_equal(png.width, (1 + K) * SIDE + (K + 2) * 2);
    free(png.pixels);

    jvae_tensor_free(mu);
    jvae_tensor_free(alpha);
    jvae_tensor_free(latent);
    jvae_tensor_free(images);
    jvae_tensor_free(edited);
    jvae_model_free(model);
}

/* A tiny MNIST-like IDX pair (uncompressed) of n 32x32 images. */
static void write_idx(const char *dir, int n)
{
    FILE *f = fopen(path_in(dir, "tiny-images-idx3-ubyte"), "wb");
    unsigned char header[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, SIDE, 0, 0, 0, SIDE};
    fwrite(header, 1, 16, f);
    for (int i = 0; i < n * SIDE * SIDE; i++) fputc((i * 7 + i / 97) % 256, f);
    fclose(f);
    f = fopen(path_in(dir, "tiny-labels-idx1-ubyte"), "wb");
    unsigned char lheader[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
    fwrite(lheader, 1, 8, f);
    for (int i = 0; i < n; i++) fputc(i % 4, f);
    fclose(f);
}

static int exists(const char *dir, const char *name)
{
    struct stat st;
    return stat(path_in(dir, name), &st) == 0;
}

static void test_main_pictures(void **state)
{
    (void)state;
    const char *scratch = test_scratch_dir("viz-main");
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", scratch);
    write_idx(dir, 20);
    char prefix[1200];
    snprintf(prefix, sizeof prefix, "%s/tiny", dir);
    jvae_dataset *data = NULL;
    assert_int_equal(jvae_dataset_idx_open_prefix(&data, prefix, NULL), JVAE_OK);
    FILE *log = fopen(path_in(dir, "log.csv"), "w");
    fputs("step,epoch,reconstruction,kl_continuous,kl_discrete,capacity_continuous,"
          "capacity_discrete,capacity_term_continuous,capacity_term_discrete,total,"
          "kl_z0,kl_z1,kl_z2,kl_c0,elapsed_s\n", log);
    for (int s = 1; s <= 5; s++)
        fprintf(log, "%d,0,%d,%g,%g,%g,%g,1,1,%d,0.1,%g,0.2,%g,%d\n", s * 10, 700 - 50 * s,
                0.5 * s, 0.2 * s, 0.5 * s, 0.2 * s, 702 - 50 * s, 0.4 * s, 0.2 * s, s);
    fclose(log);
    jvae_model *model = small_model();
    jvae_picture_options o;
    jvae_picture_options_init(&o);
    o.columns = 4;
    o.rows = 4;
    char log_path[1200];
    snprintf(log_path, sizeof log_path, "%s/log.csv", dir);
    assert_int_equal(jvae_write_main_pictures(dir, model, data, log_path, &o), JVAE_OK);
    const char *files[] = {"samples.png", "samples_c0.png", "traversals.png", "traversal_2d.png",
                           "reconstructions.png", "curves_loss.png", "curves_capacity.png",
                           "curves_kl.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) assert_true(exists(dir, files[i]));
    decoded_png png;
    assert_int_equal(read_png(path_in(dir, "reconstructions.png"), &png), 0);
    assert_int_equal(png.height, 4 * SIDE + 5 * 2); /* 2 rows of 4 originals, 2 of reconstructions */
    free(png.pixels);
    /* the traversal rows carry the KL on the data set, as jvae_kl_per_unit gives it */
    float kl[UNITS];
    assert_int_equal(jvae_kl_per_unit(kl, UNITS, model, data, 10000, 256), JVAE_OK);
    char widest[32];
    int width = 0;
    for (int u = 0; u < UNITS; u++) {
        snprintf(widest, sizeof widest, u < DZ ? "z%d %.2f" : "c%d %.2f", u < DZ ? u : u - DZ,
                 (double)kl[u]);
        int w = 6 * (int)strlen(widest) - 1;
        if (w > width) width = w;
    }
    assert_int_equal(read_png(path_in(dir, "traversals.png"), &png), 0);
    assert_int_equal(png.width, width + 8 + 4 * SIDE + 5 * 2);
    free(png.pixels);

    /* without data or log: the model-only pictures */
    const char *fresh = test_scratch_dir("viz-main-model-only");
    assert_int_equal(jvae_write_main_pictures(fresh, model, NULL, NULL, &o), JVAE_OK);
    assert_true(exists(fresh, "samples.png"));
    assert_true(exists(fresh, "traversal_2d.png"));
    assert_false(exists(fresh, "reconstructions.png"));
    assert_false(exists(fresh, "curves_loss.png"));
    /* a data set of another image size is refused */
    jvae_dataset *dsprites = NULL;
    assert_int_equal(jvae_dataset_dsprites(&dsprites), JVAE_OK);
    assert_int_equal(jvae_write_main_pictures(fresh, model, dsprites, NULL, &o), JVAE_ERR_SHAPE);
    assert_error_contains("(1, 64, 64)");
    char missing[1300];
    snprintf(missing, sizeof missing, "%s/none", fresh);
    assert_int_equal(jvae_write_main_pictures(missing, model, NULL, NULL, &o), JVAE_ERR_IO);
    assert_int_equal(jvae_write_main_pictures(NULL, model, NULL, NULL, &o),
                     JVAE_ERR_INVALID_ARGUMENT);
    jvae_dataset_free(dsprites);
    jvae_dataset_free(data);
    jvae_model_free(model);
}

static void test_bad_input(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-pictures-bad");
    const char *path = path_in(dir, "x.png");
    jvae_model *model = small_model();
    jvae_tensor *images = random_images(2, 1);
    jvae_picture_options o;
    assert_int_equal(jvae_picture_options_init(NULL), JVAE_ERR_INVALID_ARGUMENT);
    jvae_picture_options_init(&o);

    assert_int_equal(jvae_picture_prior_samples(NULL, model, &o), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_picture_prior_samples(path, NULL, &o), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("model is NULL");
    jvae_picture_options bad = o;
    bad.version = 0;
    assert_int_equal(jvae_picture_prior_samples(path, model, &bad), JVAE_ERR_VERSION);
    bad = o;
    bad.columns = 0;
    assert_int_equal(jvae_picture_prior_samples(path, model, &bad), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("rows and columns");
    bad = o;
    bad.scale = 100;
    assert_int_equal(jvae_picture_prior_samples(path, model, &bad), JVAE_ERR_INVALID_ARGUMENT);
    bad = o;
    bad.base = (jvae_traversal_base)4;
    assert_int_equal(jvae_picture_traversals(path, model, NULL, 0, &bad), JVAE_ERR_INVALID_ARGUMENT);
    bad = o;
    bad.quantile_high = 1.0;
    assert_int_equal(jvae_picture_traversals(path, model, NULL, 0, &bad), JVAE_ERR_INVALID_ARGUMENT);

    assert_int_equal(jvae_picture_reconstructions(path, model, NULL, &o), JVAE_ERR_INVALID_ARGUMENT);
    jvae_tensor *wrong = NULL;
    int64_t ws[4] = {2, 3, SIDE, SIDE};
    jvae_tensor_create(&wrong, 4, ws);
    assert_int_equal(jvae_picture_reconstructions(path, model, wrong, &o), JVAE_ERR_SHAPE);
    assert_error_contains("expected shape (N, 1, 32, 32), got (2, 3, 32, 32)");
    assert_int_equal(jvae_picture_edits(path, model, wrong, 0, &o), JVAE_ERR_SHAPE);
    jvae_tensor_free(wrong);
    images->data[7] = NAN;
    assert_int_equal(jvae_picture_reconstructions(path, model, images, &o), JVAE_ERR_NUMERIC);
    images->data[7] = 0.5f;

    assert_int_equal(jvae_picture_conditional_samples(path, model, 1, &o), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("discrete_index 1, the model has 1");
    float kl[UNITS] = {1, 2, 3, 4};
    assert_int_equal(jvae_picture_traversals(path, model, kl, 3, &o), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("kl_count is 3, the model has 4 units");
    kl[2] = NAN;
    assert_int_equal(jvae_picture_traversals(path, model, kl, UNITS, &o), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_picture_traversal_2d(path, model, 1, 1, &o), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("both 1");
    assert_int_equal(jvae_picture_traversal_2d(path, model, 0, UNITS, &o), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("unit_columns 4");
    assert_int_equal(jvae_picture_edits(path, model, images, -1, &o), JVAE_ERR_INVALID_ARGUMENT);
    char missing[1300];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.png", dir);
    assert_int_equal(jvae_picture_prior_samples(missing, model, &o), JVAE_ERR_IO);
    assert_error_contains("no/such/dir");
    jvae_tensor_free(images);
    jvae_model_free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traversal_latents),
        cmocka_unit_test(test_reconstructions_and_samples),
        cmocka_unit_test(test_traversals_ranked_by_kl),
        cmocka_unit_test(test_editing),
        cmocka_unit_test(test_main_pictures),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
