/* Training curves: log.csv → a line plot (paper Fig. 7a). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "viz/plot.h"

#define PLOT_MIN_SIDE 200
#define PLOT_MAX_SIDE 8192
#define PLOT_MAX_TEXT_SCALE 8

static const uint8_t white[3] = {255, 255, 255};
static const uint8_t black[3] = {0, 0, 0};
static const uint8_t grid_grey[3] = {225, 225, 225};

/* matplotlib's "tab10", then the same hues darkened, so 20 series stay apart. */
static const uint8_t palette[20][3] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
    {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
    {16, 60, 90},   {128, 64, 7},   {22, 80, 22},   {107, 20, 20},  {74, 52, 95},
    {70, 43, 38},   {114, 60, 97},  {64, 64, 64},   {94, 95, 17},   {12, 95, 104},
};

const uint8_t *jvae_plot_series_colour(int i) { return palette[i % 20]; }

jvae_status jvae_plot_options_init(jvae_plot_options *options)
{
    JVAE_CHECK_NOT_NULL(options, "jvae_plot_options_init");
    options->version = JVAE_PLOT_OPTIONS_VERSION;
    options->width = 800;
    options->height = 480;
    options->x_column = "step";
    options->text_scale = 1;
    return JVAE_OK;
}

/* 1, 2 or 5 times a power of ten, near range / 6: five to ten ticks. */
static double nice_step(double range)
{
    double rough = range / 6.0;
    double power = pow(10.0, floor(log10(rough)));
    double mantissa = rough / power;
    double nice = mantissa < 1.5 ? 1.0 : mantissa < 3.5 ? 2.0 : mantissa < 7.5 ? 5.0 : 10.0;
    return nice * power;
}

/* Widths and margins below this are too small to divide into ticks (a
 * sixth of them would be denormal). */
#define TINY_RANGE 1e-290

/* Round [low, high] out to whole ticks. A range too narrow to tick at its
 * magnitude (flat, or a few ulps wide, where low + step == low) gets 10 % of
 * its centre around it, or one unit when that is tiny too. 0 when the range
 * cannot be drawn: its width, or its rounding out, overflows a double. */
static int tick_range(double *low, double *high, double *step)
{
    const double centre = *low / 2 + *high / 2;
    if (!(*high - *low > fmax(fabs(centre) * 1e-9, TINY_RANGE))) {
        const double half = fabs(centre) * 0.1 > TINY_RANGE ? fabs(centre) * 0.1 : 1.0;
        *low = centre - half;
        *high = centre + half;
    }
    if (!isfinite(*high - *low)) return 0;
    *step = nice_step(*high - *low);
    *low = floor(*low / *step) * *step;
    *high = ceil(*high / *step) * *step;
    return isfinite(*high - *low);
}

/* Ticks after the first of a range rounded out by tick_range: 4 to 13. */
static int tick_count(double low, double high, double step)
{
    return (int)lround((high - low) / step);
}

static void tick_label(char *buf, size_t size, double value, double step)
{
    if (fabs(value) < step * 1e-9) value = 0.0; /* no "-0" from rounding */
    double magnitude = fmax(fabs(value), step);
    if (magnitude >= 1e6 || step < 1e-4) {
        snprintf(buf, size, "%.3g", value);
        return;
    }
    int decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, size, "%.*f", decimals, value);
}

void jvae_plot_map(const jvae_plot_frame *frame, double x, double y, int *px, int *py)
{
    double fx = (x - frame->x_low) / (frame->x_high - frame->x_low);
    double fy = (y - frame->y_low) / (frame->y_high - frame->y_low);
    *px = frame->left + (int)lround(fx * (frame->right - frame->left));
    *py = frame->bottom - (int)lround(fy * (frame->bottom - frame->top));
}

/* Data range of the selected series over rows with a finite x; 0 when empty. */
static int data_range(const jvae_csv_table *table, int x_column, const int *series,
                      int n_series, double range[4])
{
    int found = 0;
    range[0] = range[2] = INFINITY;
    range[1] = range[3] = -INFINITY;
    for (int64_t r = 0; r < table->n_rows; r++) {
        const double *row = table->values + (size_t)r * (size_t)table->n_columns;
        if (isnan(row[x_column])) continue;
        for (int s = 0; s < n_series; s++) {
            double y = row[series[s]];
            if (isnan(y)) continue;
            found = 1;
            range[0] = fmin(range[0], row[x_column]);
            range[1] = fmax(range[1], row[x_column]);
            range[2] = fmin(range[2], y);
            range[3] = fmax(range[3], y);
        }
    }
    return found;
}

static int max_label_width(double low, double high, double step, int scale)
{
    int widest = 0;
    char label[64];
    const int n = tick_count(low, high, step);
    for (int i = 0; i <= n; i++) {
        tick_label(label, sizeof label, low + i * step, step);
        int w = jvae_text_width(label, scale);
        if (w > widest) widest = w;
    }
    return widest;
}

static void draw_axes(jvae_canvas *canvas, const jvae_plot_frame *f, int ts, const char *x_name)
{
    char label[64];
    int tick = 4 * ts, gap = 3 * ts, text_h = jvae_text_height(ts);
    const int n_x = tick_count(f->x_low, f->x_high, f->x_step);
    for (int i = 0; i <= n_x; i++) {
        double v = f->x_low + i * f->x_step;
        int px, py;
        jvae_plot_map(f, v, f->y_low, &px, &py);
        jvae_canvas_draw_line(canvas, px, f->top, px, f->bottom, grid_grey);
        jvae_canvas_draw_line(canvas, px, f->bottom, px, f->bottom + tick, black);
        tick_label(label, sizeof label, v, f->x_step);
        jvae_canvas_draw_text(canvas, px - jvae_text_width(label, ts) / 2, f->bottom + tick + gap,
                              label, ts, black);
    }
    const int n_y = tick_count(f->y_low, f->y_high, f->y_step);
    for (int i = 0; i <= n_y; i++) {
        double v = f->y_low + i * f->y_step;
        int px, py;
        jvae_plot_map(f, f->x_low, v, &px, &py);
        jvae_canvas_draw_line(canvas, f->left, py, f->right, py, grid_grey);
        jvae_canvas_draw_line(canvas, f->left - tick, py, f->left, py, black);
        tick_label(label, sizeof label, v, f->y_step);
        jvae_canvas_draw_text(canvas, f->left - tick - gap - jvae_text_width(label, ts),
                              py - text_h / 2, label, ts, black);
    }
    jvae_canvas_draw_line(canvas, f->left, f->bottom, f->right, f->bottom, black);
    jvae_canvas_draw_line(canvas, f->left, f->top, f->left, f->bottom, black);
    jvae_canvas_draw_text(canvas, (f->left + f->right - jvae_text_width(x_name, ts)) / 2,
                          f->bottom + tick + 2 * gap + text_h, x_name, ts, black);
}

static void draw_series(jvae_canvas *canvas, const jvae_plot_frame *f,
                        const jvae_csv_table *table, int x_column, int column,
                        const uint8_t *colour, int ts)
{
    int have_previous = 0, previous_x = 0, previous_y = 0;
    for (int64_t r = 0; r < table->n_rows; r++) {
        const double *row = table->values + (size_t)r * (size_t)table->n_columns;
        if (isnan(row[x_column]) || isnan(row[column])) {
            have_previous = 0;
            continue;
        }
        int px, py;
        jvae_plot_map(f, row[x_column], row[column], &px, &py);
        /* A point with no neighbour would be invisible as a line: mark it. */
        int next_missing = 1;
        if (r + 1 < table->n_rows) {
            const double *next = row + table->n_columns;
            next_missing = isnan(next[x_column]) || isnan(next[column]);
        }
        if (!have_previous && next_missing)
            jvae_canvas_fill_rect(canvas, px - ts, py - ts, 2 * ts + 1, 2 * ts + 1, colour);
        if (have_previous)
            for (int t = 0; t < ts; t++)
                jvae_canvas_draw_line(canvas, previous_x, previous_y + t, px, py + t, colour);
        have_previous = 1;
        previous_x = px;
        previous_y = py;
    }
}

jvae_status jvae_plot_render(jvae_canvas *canvas, jvae_plot_frame *frame,
                             const jvae_csv_table *table, int x_column, const int *series,
                             int n_series, const jvae_plot_options *options, const char *fn)
{
    double range[4];
    if (!data_range(table, x_column, series, n_series, range))
        return jvae_fail(JVAE_ERR_FORMAT, "%s: the log has no finite value to plot", fn);
    const int ts = options->text_scale;
    frame->x_low = range[0];
    frame->x_high = range[1];
    frame->y_low = range[2];
    frame->y_high = range[3];
    if (!tick_range(&frame->x_low, &frame->x_high, &frame->x_step) ||
        !tick_range(&frame->y_low, &frame->y_high, &frame->y_step))
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: the log's values are too large to plot (from %g to %g, steps "
                         "%g to %g)",
                         fn, range[2], range[3], range[0], range[1]);

    int legend_width = 0;
    for (int s = 0; s < n_series; s++) {
        int w = jvae_text_width(table->names[series[s]], ts);
        if (w > legend_width) legend_width = w;
    }
    const int text_h = jvae_text_height(ts), swatch = 10 * ts, margin = 8 * ts;
    legend_width += swatch + 3 * margin;
    frame->left = margin + max_label_width(frame->y_low, frame->y_high, frame->y_step, ts) +
                  7 * ts;
    frame->right = options->width - legend_width;
    frame->top = margin + text_h / 2;
    frame->bottom = options->height - (2 * text_h + 10 * ts + margin);
    if (frame->right - frame->left < 40 || frame->bottom - frame->top < 40)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: a %d x %d plot leaves no room for the data once labels and the "
                         "legend are drawn; make it larger or the text smaller",
                         fn, options->width, options->height);

    jvae_status st = jvae_canvas_init(canvas, fn, options->width, options->height, 3, white);
    if (st) return st;
    draw_axes(canvas, frame, ts, table->names[x_column]);
    for (int s = 0; s < n_series; s++)
        draw_series(canvas, frame, table, x_column, series[s], jvae_plot_series_colour(s), ts);
    for (int s = 0; s < n_series; s++) {
        int x = frame->right + 2 * margin, y = frame->top + s * (text_h + 4 * ts);
        jvae_canvas_fill_rect(canvas, x, y, swatch, text_h, jvae_plot_series_colour(s));
        jvae_canvas_draw_text(canvas, x + swatch + margin / 2, y, table->names[series[s]], ts,
                              black);
    }
    return JVAE_OK;
}

jvae_status jvae_plot_options_check(const jvae_plot_options *options, const char *fn)
{
    if (options->version != JVAE_PLOT_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION, "%s: plot options version %u, this library knows %u",
                         fn, options->version, JVAE_PLOT_OPTIONS_VERSION);
    if (options->width < PLOT_MIN_SIDE || options->width > PLOT_MAX_SIDE ||
        options->height < PLOT_MIN_SIDE || options->height > PLOT_MAX_SIDE)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: plot size must be %d..%d a side, got %d x %d",
                         fn, PLOT_MIN_SIDE, PLOT_MAX_SIDE, options->width, options->height);
    if (options->text_scale < 1 || options->text_scale > PLOT_MAX_TEXT_SCALE)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: text_scale must be 1..%d, got %d", fn,
                         PLOT_MAX_TEXT_SCALE, options->text_scale);
    if (options->x_column == NULL)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: x_column is NULL", fn);
    return JVAE_OK;
}

static int name_matches(const char *pattern, const char *name)
{
    size_t length = strlen(pattern);
    if (length > 0 && pattern[length - 1] == '*') return strncmp(pattern, name, length - 1) == 0;
    return strcmp(pattern, name) == 0;
}

static jvae_status no_such_column(const jvae_csv_table *table, const char *name,
                                  const char *csv_path, const char *fn)
{
    char known[256];
    size_t used = 0;
    known[0] = '\0';
    for (int i = 0; i < table->n_columns && used < sizeof known; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, i ? ", %s" : "%s",
                                 table->names[i]);
    return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: no column '%s' in '%s'; its columns are: %s",
                     fn, name, csv_path, known);
}

/* Column indices to plot, in the table's order, each once. */
static jvae_status select_series(const jvae_csv_table *table, int x_column,
                                 const char *const *columns, int n_columns, int *series,
                                 int *n_series, const char *csv_path, const char *fn)
{
    for (int p = 0; p < n_columns; p++) {
        if (columns[p] == NULL)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: columns[%d] is NULL", fn, p);
        int any = 0;
        for (int c = 0; c < table->n_columns && !any; c++)
            any = c != x_column && name_matches(columns[p], table->names[c]);
        if (!any) return no_such_column(table, columns[p], csv_path, fn);
    }
    *n_series = 0;
    for (int c = 0; c < table->n_columns; c++) {
        if (c == x_column) continue;
        int wanted = n_columns == 0;
        for (int p = 0; p < n_columns && !wanted; p++) wanted = name_matches(columns[p], table->names[c]);
        if (wanted) series[(*n_series)++] = c;
    }
    if (*n_series == 0)
        return jvae_fail(JVAE_ERR_FORMAT, "%s: '%s' has no column besides '%s'", fn, csv_path,
                         table->names[x_column]);
    return JVAE_OK;
}

jvae_status jvae_plot_training_curves(const char *path, const char *csv_path,
                                      const char *const *columns, int n_columns,
                                      const jvae_plot_options *options)
{
    static const char fn[] = "jvae_plot_training_curves";
    JVAE_CHECK_NOT_NULL(path, fn);
    JVAE_CHECK_NOT_NULL(csv_path, fn);
    if (n_columns < 0 || (columns == NULL) != (n_columns == 0))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: give columns with n_columns >= 1, or NULL with 0 (got %d)", fn,
                         n_columns);
    jvae_plot_options defaults;
    if (options == NULL) {
        jvae_plot_options_init(&defaults);
        options = &defaults;
    }
    jvae_status st = jvae_plot_options_check(options, fn);
    if (st) return st;
    jvae_csv_table table;
    st = jvae_csv_read(&table, csv_path, fn);
    if (st) return st;
    int *series = NULL;
    int x_column = jvae_csv_column(&table, options->x_column);
    if (x_column < 0) st = no_such_column(&table, options->x_column, csv_path, fn);
    if (st == JVAE_OK) {
        series = malloc((size_t)table.n_columns * sizeof *series);
        if (series == NULL) st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    }
    int n_series = 0;
    if (st == JVAE_OK)
        st = select_series(&table, x_column, columns, n_columns, series, &n_series, csv_path, fn);
    jvae_canvas canvas = {0, 0, 0, NULL};
    jvae_plot_frame frame;
    if (st == JVAE_OK)
        st = jvae_plot_render(&canvas, &frame, &table, x_column, series, n_series, options, fn);
    if (st == JVAE_OK) st = jvae_canvas_write_png(&canvas, path, fn);
    jvae_canvas_release(&canvas);
    free(series);
    jvae_csv_release(&table);
    return st;
}
