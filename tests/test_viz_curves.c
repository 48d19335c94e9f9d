/* Training curves: the log reader and the line plot, read back with libpng. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_util.h"
#include "test_viz_read_png.h"

#include "jointvae/viz.h"
#include "viz/csv.h"
#include "viz/plot.h"

static const char *write_file(const char *dir, const char *name, const char *text)
{
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
    return path;
}

static const char log_text[] =
    "step, loss, recon, kl_z0, kl_z1, kl_c0\r\n"
    "0, 700, 690, 0.0, 0.1, 0.5\n"
    "\n"
    "100, 400, 380, 1.0, 0.2, nan\n"
    "200, 300, 270, 2.0, , 1.5\n"
    "300, 250, 210, 3.0, 0.4, 2.0\n";

static void test_csv_reader(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-csv");
    const char *path = write_file(dir, "log.csv", log_text);
    jvae_csv_table table;
    assert_int_equal(jvae_csv_read(&table, path, "test"), JVAE_OK);
    assert_int_equal(table.n_columns, 6);
    assert_int_equal(table.n_rows, 4);
    assert_string_equal(table.names[0], "step");
    assert_string_equal(table.names[5], "kl_c0");
    assert_int_equal(jvae_csv_column(&table, "kl_z1"), 4);
    assert_int_equal(jvae_csv_column(&table, "nope"), -1);
    assert_true(table.values[1 * 6 + 0] == 100.0);
    assert_true(isnan(table.values[1 * 6 + 5]));
    assert_true(isnan(table.values[2 * 6 + 4]));
    assert_true(table.values[3 * 6 + 3] == 3.0);
    jvae_csv_release(&table);
}

static void test_plot_puts_points_where_the_frame_says(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-curves");
    const char *csv = write_file(dir, "log.csv", log_text);
    char png_path[1300];
    snprintf(png_path, sizeof png_path, "%s/curves.png", dir);
    jvae_plot_options options;
    assert_int_equal(jvae_plot_options_init(&options), JVAE_OK);
    options.width = 640;
    options.height = 360;
    const char *columns[1] = {"kl_*"};
    assert_int_equal(jvae_plot_training_curves(png_path, csv, columns, 1, &options), JVAE_OK);
    decoded_png png;
    assert_int_equal(read_png(png_path, &png), 0);
    assert_int_equal(png.width, 640);
    assert_int_equal(png.height, 360);
    assert_int_equal(png.channels, 3);

    /* Rebuild the same frame through the internal renderer and check that
     * every data point of every series has that series' colour. Later series
     * are drawn over earlier ones, so only points not shared with a later
     * series are checked. */
    jvae_csv_table table;
    assert_int_equal(jvae_csv_read(&table, csv, "test"), JVAE_OK);
    int series[3] = {3, 4, 5};
    jvae_canvas canvas;
    jvae_plot_frame frame;
    assert_int_equal(jvae_plot_render(&canvas, &frame, &table, 0, series, 3, &options, "test"),
                     JVAE_OK);
    assert_int_equal(memcmp(canvas.pixels, png.pixels, (size_t)640 * 360 * 3), 0);
    assert_true(frame.y_low <= 0.0 && frame.y_high >= 3.0);
    assert_true(frame.x_low <= 0.0 && frame.x_high >= 300.0);
    int checked = 0;
    for (int r = 0; r < table.n_rows; r++) {
        for (int s = 0; s < 3; s++) {
            double y = table.values[r * 6 + series[s]];
            if (isnan(y)) continue;
            int px, py;
            jvae_plot_map(&frame, table.values[r * 6], y, &px, &py);
            int shared = 0;
            for (int later = s + 1; later < 3; later++)
                shared |= table.values[r * 6 + series[later]] == y;
            if (shared) continue;
            assert_memory_equal(png_pixel(&png, px, py), jvae_plot_series_colour(s), 3);
            checked++;
        }
    }
    assert_true(checked >= 8);
    /* kl_z1 at step 200 is missing: the isolated point at step 300 gets a marker */
    int px, py;
    jvae_plot_map(&frame, 300.0, 0.4, &px, &py);
    assert_memory_equal(png_pixel(&png, px + 1, py + 1), jvae_plot_series_colour(1), 3);
    /* the plot's corners are white */
    const unsigned char white[3] = {255, 255, 255};
    assert_memory_equal(png_pixel(&png, 0, 0), white, 3);
    assert_memory_equal(png_pixel(&png, 639, 359), white, 3);
    jvae_canvas_release(&canvas);
    jvae_csv_release(&table);
    free(png.pixels);

    /* every column but step, with the defaults */
    assert_int_equal(jvae_plot_training_curves(png_path, csv, NULL, 0, NULL), JVAE_OK);
    assert_int_equal(read_png(png_path, &png), 0);
    assert_int_equal(png.width, 800);
    assert_int_equal(png.height, 480);
    free(png.pixels);
}

static void test_bad_logs_and_arguments(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-curves-bad");
    char png_path[1300], csv[1300];
    snprintf(png_path, sizeof png_path, "%s/out.png", dir);
    snprintf(csv, sizeof csv, "%s", write_file(dir, "log.csv", log_text));

    assert_int_equal(jvae_plot_training_curves(NULL, csv, NULL, 0, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_plot_training_curves(png_path, NULL, NULL, 0, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_plot_training_curves(png_path, csv, NULL, 2, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    const char *unknown[2] = {"loss", "kl_q*"};
    assert_int_equal(jvae_plot_training_curves(png_path, csv, unknown, 2, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("no column 'kl_q*'");
    assert_error_contains("step, loss, recon");
    const char *null_name[1] = {NULL};
    assert_int_equal(jvae_plot_training_curves(png_path, csv, null_name, 1, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);

    jvae_plot_options options;
    assert_int_equal(jvae_plot_options_init(NULL), JVAE_ERR_INVALID_ARGUMENT);
    jvae_plot_options_init(&options);
    options.x_column = "epoch";
    assert_int_equal(jvae_plot_training_curves(png_path, csv, NULL, 0, &options),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("no column 'epoch'");
    jvae_plot_options_init(&options);
    options.width = 10;
    assert_int_equal(jvae_plot_training_curves(png_path, csv, NULL, 0, &options),
                     JVAE_ERR_INVALID_ARGUMENT);
    jvae_plot_options_init(&options);
    options.text_scale = 0;
    assert_int_equal(jvae_plot_training_curves(png_path, csv, NULL, 0, &options),
                     JVAE_ERR_INVALID_ARGUMENT);
    jvae_plot_options_init(&options);
    options.text_scale = 8;
    options.width = 200;
    options.height = 200;
    assert_int_equal(jvae_plot_training_curves(png_path, csv, NULL, 0, &options),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("no room");
    jvae_plot_options_init(&options);
    options.x_column = NULL;
    assert_int_equal(jvae_plot_training_curves(png_path, csv, NULL, 0, &options),
                     JVAE_ERR_INVALID_ARGUMENT);
    jvae_plot_options_init(&options);
    options.version = 7;
    assert_int_equal(jvae_plot_training_curves(png_path, csv, NULL, 0, &options),
                     JVAE_ERR_VERSION);

    char missing[1300];
    snprintf(missing, sizeof missing, "%s/missing.csv", dir);
    assert_int_equal(jvae_plot_training_curves(png_path, missing, NULL, 0, NULL), JVAE_ERR_IO);
    assert_error_contains("missing.csv");

    struct {
        const char *text, *message;
    } malformed[] = {
        {"", "empty"},
        {"step,,loss\n1,2,3\n", "empty name"},
        {"step,loss\n1,2\n3\n", "line 3 has 1 fields"},
        {"step,loss\n1,2\n3,abc\n", "line 3, column 'loss': 'abc' is not a number"},
        {"step,loss\n1,2x\n", "not a number"},
        {"step,loss\n1,nan\n2,\n", "no finite value"},
        {"step\n1\n2\n", "no column besides 'step'"},
        {"step,loss\n1,2\0garbage", "NUL"},
        /* Ranges whose width or rounding out overflows a double. */
        {"step,loss\n0,-1e308\n1,1e308\n", "too large to plot"},
        {"step,loss\n-1e308,1\n1e308,2\n", "too large to plot"},
        {"step,loss\n0,1.7e308\n1,1.79e308\n", "too large to plot"},
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.csv", i);
        const char *bad = write_file(dir, name, malformed[i].text);
        if (i == 7) { /* a NUL byte needs fwrite */
            FILE *file = fopen(bad, "wb");
            fwrite("step,loss\n1,2\0garbage", 1, 21, file);
            fclose(file);
        }
        assert_int_equal(jvae_plot_training_curves(png_path, bad, NULL, 0, NULL), JVAE_ERR_FORMAT);
        assert_error_contains(malformed[i].message);
    }

    /* Values a few ulps apart (found while fuzzing the loaders: stepping the ticks from 1e17
     * by 2 never moved) plot as a flat line, as do huge and tiny equal ones
     * and denormal spreads. */
    const char *narrow[] = {"step,loss\n0,100000000000000000\n1,100000000000000016\n",
                            "step,loss\n0,1e300\n1e300,1e300\n",
                            "step,loss\n0,4.9e-324\n1,4.9e-324\n",
                            "step,loss\n0,0\n1,4.9e-324\n", "step,loss\n0,-1e-300\n1,0\n"};
    for (size_t i = 0; i < sizeof narrow / sizeof narrow[0]; i++) {
        const char *log = write_file(dir, "narrow.csv", narrow[i]);
        assert_int_equal(jvae_plot_training_curves(png_path, log, NULL, 0, NULL), JVAE_OK);
        decoded_png png;
        assert_int_equal(read_png(png_path, &png), 0);
        assert_int_equal(png.width, 800);
        assert_int_equal(png.height, 480);
        free(png.pixels);
    }
}

static void test_training_curves_groups(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-curves-groups");
    char csv[1300];
    snprintf(csv, sizeof csv, "%s", write_file(dir, "log.csv", log_text));
    assert_int_equal(jvae_write_training_curves(dir, csv, NULL), JVAE_OK);
    char path[1400];
    decoded_png png;
    /* log_text has "loss" and "recon" (no loss-group name) and kl_z0, kl_z1, kl_c0 */
    snprintf(path, sizeof path, "%s/curves_kl.png", dir);
    assert_int_equal(read_png(path, &png), 0);
    free(png.pixels);
    snprintf(path, sizeof path, "%s/curves_loss.png", dir);
    assert_int_not_equal(read_png(path, &png), 0);
    snprintf(path, sizeof path, "%s/curves_capacity.png", dir);
    assert_int_not_equal(read_png(path, &png), 0);

    assert_int_equal(jvae_write_training_curves(NULL, csv, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_write_training_curves(dir, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    jvae_plot_options options;
    jvae_plot_options_init(&options);
    options.version = 0;
    assert_int_equal(jvae_write_training_curves(dir, csv, &options), JVAE_ERR_VERSION);
    jvae_plot_options_init(&options);
    options.x_column = "epoch";
    assert_int_equal(jvae_write_training_curves(dir, csv, &options), JVAE_ERR_FORMAT);
    assert_error_contains("no 'epoch' column");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_reader),
        cmocka_unit_test(test_plot_puts_points_where_the_frame_says),
        cmocka_unit_test(test_bad_logs_and_arguments),
        cmocka_unit_test(test_training_curves_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
