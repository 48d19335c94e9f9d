#include "viz/grid.h"

#include <math.h>

#include "core/error.h"
#include "core/tensor.h"

jvae_status jvae_grid_options_init(jvae_grid_options *options)
{
    JVAE_CHECK_NOT_NULL(options, "jvae_grid_options_init");
    options->version = JVAE_GRID_OPTIONS_VERSION;
    options->rows = 0;
    options->columns = 0;
    options->padding = 2;
    options->scale = 1;
    options->background = 0.5f;
    return JVAE_OK;
}

jvae_status jvae_check_grid_style(const char *fn, int padding, int scale, float background)
{
    if (padding < 0 || padding > JVAE_GRID_MAX_PADDING)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: padding must be 0..%d, got %d", fn,
                         JVAE_GRID_MAX_PADDING, padding);
    if (scale < 1 || scale > JVAE_GRID_MAX_SCALE)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: scale must be 1..%d, got %d", fn,
                         JVAE_GRID_MAX_SCALE, scale);
    if (!(background >= 0.0f && background <= 1.0f))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: background must be in [0, 1], got %g",
                         fn, (double)background);
    return JVAE_OK;
}

jvae_status jvae_grid_layout_make(jvae_grid_layout *layout, const char *fn, int rows,
                                  int columns, int image_height, int image_width, int padding,
                                  int scale, int label_width)
{
    layout->rows = rows;
    layout->columns = columns;
    layout->image_height = image_height;
    layout->image_width = image_width;
    layout->padding = padding;
    layout->scale = scale;
    layout->label_width = label_width;
    /* Every factor is below 2^31, so these products fit in int64 before the
     * check against the PNG limit. */
    int64_t cell_w = (int64_t)image_width * scale, cell_h = (int64_t)image_height * scale;
    layout->width = label_width + (int64_t)columns * cell_w + ((int64_t)columns + 1) * padding;
    layout->height = (int64_t)rows * cell_h + ((int64_t)rows + 1) * padding;
    if (layout->width > JVAE_CANVAS_MAX_SIDE || layout->height > JVAE_CANVAS_MAX_SIDE)
        return jvae_fail(JVAE_ERR_OVERFLOW,
                         "%s: picture of %lld x %lld pixels exceeds the PNG limit of %d per side",
                         fn, (long long)layout->width, (long long)layout->height,
                         JVAE_CANVAS_MAX_SIDE);
    return JVAE_OK;
}

void jvae_grid_cell_origin(const jvae_grid_layout *layout, int row, int column, int *x, int *y)
{
    *x = layout->label_width + layout->padding +
         column * (layout->image_width * layout->scale + layout->padding);
    *y = layout->padding + row * (layout->image_height * layout->scale + layout->padding);
}

jvae_status jvae_grid_canvas(jvae_canvas *canvas, const jvae_grid_layout *layout,
                             const char *fn, int channels, float background)
{
    uint8_t fill[4];
    uint8_t grey = jvae_unit_to_byte(background);
    for (int c = 0; c < 4; c++) fill[c] = grey;
    /* A background is opaque: the alpha channel of grey+alpha and RGBA is 255. */
    if (channels == 2 || channels == 4) fill[channels - 1] = 255;
    jvae_status st = jvae_canvas_init(canvas, fn, layout->width, layout->height, channels, fill);
    if (st) return st;
    if (layout->label_width > 0) {
        uint8_t white[4] = {255, 255, 255, 255};
        jvae_canvas_fill_rect(canvas, 0, 0, layout->label_width, canvas->height, white);
    }
    return JVAE_OK;
}

jvae_status jvae_check_finite(const char *fn, const char *what, const float *values,
                              size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(values[i]))
            return jvae_fail(JVAE_ERR_NUMERIC, "%s: %s holds a non-finite value (%g) at index %zu",
                             fn, what, (double)values[i], i);
    return JVAE_OK;
}

static jvae_status grid_shape(const char *fn, const jvae_grid_options *options, int64_t count,
                              int *rows_out, int *columns_out)
{
    if (options->version != JVAE_GRID_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION, "%s: grid options version %u, this library knows %u",
                         fn, options->version, JVAE_GRID_OPTIONS_VERSION);
    jvae_status st = jvae_check_grid_style(fn, options->padding, options->scale,
                                           options->background);
    if (st) return st;
    if (options->rows < 0 || options->columns < 0)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: rows and columns must be >= 0, got %d x %d",
                         fn, options->rows, options->columns);
    /* Each cell is at least one pixel, so more images than pixels of the
     * largest PNG can never fit (and the arithmetic below stays in range). */
    if (count > (int64_t)JVAE_CANVAS_MAX_SIDE * JVAE_CANVAS_MAX_SIDE)
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: %lld images cannot fit in one PNG", fn,
                         (long long)count);
    int64_t rows = options->rows, columns = options->columns;
    if (columns == 0 && rows == 0) {
        columns = (int64_t)ceil(sqrt((double)count));
        while (columns * columns < count) columns++;
    }
    if (columns == 0) columns = (count + rows - 1) / rows;
    if (rows == 0) rows = (count + columns - 1) / columns;
    if (rows * columns < count)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: a grid of %lld x %lld cells cannot hold %lld images", fn,
                         (long long)rows, (long long)columns, (long long)count);
    if (rows > JVAE_CANVAS_MAX_SIDE || columns > JVAE_CANVAS_MAX_SIDE)
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: a grid of %lld x %lld cells is too large", fn,
                         (long long)rows, (long long)columns);
    *rows_out = (int)rows;
    *columns_out = (int)columns;
    return JVAE_OK;
}

jvae_status jvae_image_grid_size(int *png_width, int *png_height, int64_t count, int height,
                                 int width, const jvae_grid_options *options)
{
    static const char fn[] = "jvae_image_grid_size";
    JVAE_CHECK_NOT_NULL(png_width, fn);
    JVAE_CHECK_NOT_NULL(png_height, fn);
    if (count < 1 || height < 1 || width < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: count, height and width must be >= 1, got %lld, %d, %d", fn,
                         (long long)count, height, width);
    jvae_grid_options defaults;
    if (options == NULL) {
        jvae_grid_options_init(&defaults);
        options = &defaults;
    }
    int rows = 0, columns = 0;
    jvae_status st = grid_shape(fn, options, count, &rows, &columns);
    if (st) return st;
    jvae_grid_layout layout;
    st = jvae_grid_layout_make(&layout, fn, rows, columns, height, width, options->padding,
                               options->scale, 0);
    if (st) return st;
    *png_width = (int)layout.width;
    *png_height = (int)layout.height;
    return JVAE_OK;
}

jvae_status jvae_write_image_grid(const char *path, const jvae_tensor *images,
                                  const jvae_grid_options *options)
{
    static const char fn[] = "jvae_write_image_grid";
    JVAE_CHECK_NOT_NULL(path, fn);
    JVAE_CHECK_NOT_NULL(images, fn);
    if (images->ndim != 4 || images->shape[1] > 4) {
        char got[96];
        return jvae_fail(JVAE_ERR_SHAPE,
                         "%s: images: expected shape (N, C, H, W) with C in 1..4, got %s", fn,
                         jvae_shape_text(got, sizeof got, images->ndim, images->shape));
    }
    if (images->shape[2] > JVAE_CANVAS_MAX_SIDE || images->shape[3] > JVAE_CANVAS_MAX_SIDE)
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: images of %lld x %lld pixels are too large", fn,
                         (long long)images->shape[2], (long long)images->shape[3]);
    jvae_grid_options defaults;
    if (options == NULL) {
        jvae_grid_options_init(&defaults);
        options = &defaults;
    }
    int rows = 0, columns = 0;
    jvae_status st = grid_shape(fn, options, images->shape[0], &rows, &columns);
    if (st) return st;
    st = jvae_check_finite(fn, "images", images->data, images->numel);
    if (st) return st;
    const int channels = (int)images->shape[1];
    const int h = (int)images->shape[2], w = (int)images->shape[3];
    jvae_grid_layout layout;
    st = jvae_grid_layout_make(&layout, fn, rows, columns, h, w, options->padding,
                               options->scale, 0);
    if (st) return st;
    jvae_canvas canvas;
    st = jvae_grid_canvas(&canvas, &layout, fn, channels, options->background);
    if (st) return st;
    const size_t image_floats = (size_t)channels * (size_t)h * (size_t)w;
    for (int64_t i = 0; i < images->shape[0]; i++) {
        int x, y;
        jvae_grid_cell_origin(&layout, (int)(i / columns), (int)(i % columns), &x, &y);
        jvae_canvas_put_image(&canvas, x, y, images->data + (size_t)i * image_floats, h, w,
                              options->scale);
    }
    st = jvae_canvas_write_png(&canvas, path, fn);
    jvae_canvas_release(&canvas);
    return st;
}
