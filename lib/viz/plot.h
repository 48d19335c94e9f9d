/* Internal: the line plot behind jvae_plot_training_curves, split out so the
 * tests can check where a data point lands. */
#ifndef JVAE_VIZ_PLOT_H
#define JVAE_VIZ_PLOT_H

#include "jointvae/viz.h"
#include "viz/canvas.h"
#include "viz/csv.h"

/* Where the data go: the plot area [left, right] x [top, bottom] in pixels
 * shows [x_low, x_high] x [y_low, y_high] (bounds rounded out to ticks). */
typedef struct jvae_plot_frame {
    int left, right, top, bottom;
    double x_low, x_high, y_low, y_high;
    double x_step, y_step; /* tick spacing */
} jvae_plot_frame;

/* VERSION or INVALID_ARGUMENT naming the bad field of options. */
jvae_status jvae_plot_options_check(const jvae_plot_options *options, const char *fn);

/* Colour (RGB) of series i. */
const uint8_t *jvae_plot_series_colour(int i);

/* Pixel of the data point (x, y). */
void jvae_plot_map(const jvae_plot_frame *frame, double x, double y, int *px, int *py);

/* Draw series[0..n_series-1] (column indices of table) against column x_column
 * on an RGB canvas of options->width x options->height (allocated here).
 * Errors: FORMAT when no selected value (with a finite x) is finite, and those
 * of jvae_canvas_init. */
jvae_status jvae_plot_render(jvae_canvas *canvas, jvae_plot_frame *frame,
                             const jvae_csv_table *table, int x_column, const int *series,
                             int n_series, const jvae_plot_options *options, const char *fn);

#endif
