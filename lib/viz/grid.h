/* Internal: geometry of a grid of equal cells, shared by every picture. */
#ifndef JVAE_VIZ_GRID_H
#define JVAE_VIZ_GRID_H

#include "jointvae/viz.h"
#include "viz/canvas.h"

#define JVAE_GRID_MAX_PADDING 1024
#define JVAE_GRID_MAX_SCALE 64

/* rows x columns cells of (image_height·scale) x (image_width·scale) pixels,
 * `padding` pixels between cells and around the grid, and a margin of
 * label_width pixels on the left (0 for none) for row labels. */
typedef struct jvae_grid_layout {
    int rows, columns;
    int image_height, image_width;
    int padding, scale;
    int label_width;
    int64_t width, height; /* of the whole picture */
} jvae_grid_layout;

/* Fill a layout and check its size (OVERFLOW beyond the PNG limit). */
jvae_status jvae_grid_layout_make(jvae_grid_layout *layout, const char *fn, int rows,
                                  int columns, int image_height, int image_width, int padding,
                                  int scale, int label_width);

/* Top-left pixel of cell (row, column). */
void jvae_grid_cell_origin(const jvae_grid_layout *layout, int row, int column, int *x, int *y);

/* Canvas of the layout's size, `channels` deep, filled with the background
 * grey, and the label margin (if any) white. */
jvae_status jvae_grid_canvas(jvae_canvas *canvas, const jvae_grid_layout *layout,
                             const char *fn, int channels, float background);

/* NUMERIC naming `what` and the first bad index when a value is NaN or Inf. */
jvae_status jvae_check_finite(const char *fn, const char *what, const float *values,
                              size_t count);

/* Check padding, scale and background (shared by grid and picture options). */
jvae_status jvae_check_grid_style(const char *fn, int padding, int scale, float background);

#endif
