/* Maximum-weight assignment (Kuhn–Munkres with row/column potentials). */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "jointvae/metrics.h"

/* Minimum-cost assignment on the K x K matrix cost(i, j) = top − w(i, j), with
 * w = 0 in the padding, so the minimum cost is the maximum weight. The
 * classic O(K³) shortest augmenting path form: rows are added one by one and
 * the potentials u (rows) and v (columns) keep every reduced cost >= 0.
 * Arrays are 1-based; column 0 is the virtual start of each augmenting path. */
jvae_status jvae_assignment_max(int *assignment, double *total, const double *weights, int rows,
                                int cols)
{
    static const char fn[] = "jvae_assignment_max";
    JVAE_CHECK_NOT_NULL(assignment, fn);
    JVAE_CHECK_NOT_NULL(weights, fn);
    if (rows < 1 || rows > JVAE_MAX_CLUSTERS || cols < 1 || cols > JVAE_MAX_CLUSTERS)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: rows and cols must be 1..%d, got %d x %d",
                         fn, JVAE_MAX_CLUSTERS, rows, cols);
    double top = 0.0;
    for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++) {
        if (!isfinite(weights[i]))
            return jvae_fail(JVAE_ERR_NUMERIC, "%s: weight %zu (row %zu, column %zu) is %g", fn, i,
                             i / (size_t)cols, i % (size_t)cols, weights[i]);
        if (weights[i] > top) top = weights[i];
    }
    const int k = rows > cols ? rows : cols;
    double *u = calloc((size_t)k + 1, sizeof *u), *v = calloc((size_t)k + 1, sizeof *v);
    double *min_reduced = malloc(((size_t)k + 1) * sizeof *min_reduced);
    int *row_of = calloc((size_t)k + 1, sizeof *row_of), *way = calloc((size_t)k + 1, sizeof *way);
    char *used = malloc((size_t)k + 1);
    if (!u || !v || !min_reduced || !row_of || !way || !used) {
        free(u), free(v), free(min_reduced), free(row_of), free(way), free(used);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate for %d x %d", fn, rows, cols);
    }
#define COST(i, j) \
    (top - (((i) <= rows && (j) <= cols) ? weights[(size_t)((i)-1) * (size_t)cols + (size_t)((j)-1)] : 0.0))
    for (int i = 1; i <= k; i++) {
        row_of[0] = i;
        int j0 = 0;
        for (int j = 0; j <= k; j++) {
            min_reduced[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            int i0 = row_of[j0], j1 = 0;
            double delta = INFINITY;
            for (int j = 1; j <= k; j++) {
                if (used[j]) continue;
                double reduced = COST(i0, j) - u[i0] - v[j];
                if (reduced < min_reduced[j]) {
                    min_reduced[j] = reduced;
                    way[j] = j0;
                }
                if (min_reduced[j] < delta) {
                    delta = min_reduced[j];
                    j1 = j;
                }
            }
            for (int j = 0; j <= k; j++) {
                if (used[j]) {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_reduced[j] -= delta;
                }
            }
            j0 = j1;
        } while (row_of[j0] != 0);
        do {
            int j1 = way[j0];
            row_of[j0] = row_of[j1];
            j0 = j1;
        } while (j0 != 0);
    }
#undef COST
    for (int r = 0; r < rows; r++) assignment[r] = -1;
    double sum = 0.0;
    for (int j = 1; j <= k; j++) {
        int i = row_of[j];
        if (i >= 1 && i <= rows && j <= cols) {
            assignment[i - 1] = j - 1;
            sum += weights[(size_t)(i - 1) * (size_t)cols + (size_t)(j - 1)];
        }
    }
    if (total != NULL) *total = sum;
    free(u), free(v), free(min_reduced), free(row_of), free(way), free(used);
    return JVAE_OK;
}
