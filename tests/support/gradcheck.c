#include "gradcheck.h"

#include <math.h>
#include <stdlib.h>

#include "test_util.h"

/* Mismatches printed one by one; the rest are only counted. */
#define PRINTED_MISMATCHES 10

/* The first `points` entries of a random permutation of 0..count-1
 * (a partial Fisher–Yates shuffle driven by the seeded generator). */
static size_t *random_indices(size_t count, size_t points, uint64_t seed)
{
    size_t *order = malloc(count * sizeof *order);
    assert_non_null(order);
    for (size_t i = 0; i < count; i++) order[i] = i;
    jvae_rng rng;
    jvae_rng_seed(&rng, seed);
    for (size_t i = 0; i < points; i++) {
        const size_t j = i + (size_t)jvae_rng_below(&rng, count - i);
        const size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    return order;
}

gradcheck_report gradcheck_run(const char *name, float *x, size_t count, const float *analytic,
                               gradcheck_loss_fn loss, void *payload,
                               const gradcheck_options *options)
{
    assert_non_null(x);
    assert_non_null(analytic);
    assert_non_null(loss);
    assert_non_null(options);
    assert_true(options->step > 0.0 && options->abs_tol >= 0.0 && options->rel_tol >= 0.0);

    gradcheck_report report = {0};
    size_t points = count;
    size_t *order = NULL;
    if (options->max_points > 0 && options->max_points < count) {
        points = options->max_points;
        order = random_indices(count, points, options->seed);
    }
    const int detect_kinks = options->kink_tol > 0.0;
    const double base = detect_kinks ? loss(payload) : 0.0;
    if (!isfinite(base)) {
        print_error("gradcheck %s: the unperturbed loss is %g\n", name, base);
        report.mismatches = 1;
        report.worst_ratio = INFINITY;
        free(order);
        return report;
    }

    for (size_t k = 0; k < points; k++) {
        const size_t i = order != NULL ? order[k] : k;
        if (options->skip_point != NULL && options->skip_point(i, payload)) {
            report.skipped++;
            continue;
        }
        const float original = x[i];
        const float up = (float)((double)original + options->step);
        const float down = (float)((double)original - options->step);
        x[i] = up;
        const double loss_up = loss(payload);
        x[i] = down;
        const double loss_down = loss(payload);
        x[i] = original;
        const double step_up = (double)up - (double)original;
        const double step_down = (double)original - (double)down;

        if (detect_kinks && isfinite(loss_up) && isfinite(loss_down)) {
            const double slope_up = (loss_up - base) / step_up;
            const double slope_down = (base - loss_down) / step_down;
            if (fabs(slope_up - slope_down) > options->kink_tol) {
                report.skipped++;
                continue;
            }
        }

        const double numeric = (loss_up - loss_down) / (step_up + step_down);
        const double exact = analytic[i];
        double ratio = INFINITY;
        if (isfinite(numeric) && isfinite(exact)) {
            const double allowed =
                options->abs_tol + options->rel_tol * fmax(fabs(numeric), fabs(exact));
            const double error = fabs(numeric - exact);
            ratio = allowed > 0.0 ? error / allowed : (error > 0.0 ? INFINITY : 0.0);
        }
        report.checked++;
        if (report.checked == 1 || !(ratio <= report.worst_ratio)) {
            report.worst_index = i;
            report.worst_numeric = numeric;
            report.worst_analytic = exact;
            report.worst_ratio = ratio;
        }
        if (!(ratio <= 1.0)) {
            report.mismatches++;
            if (report.mismatches <= PRINTED_MISMATCHES)
                print_error("gradcheck %s: [%zu] numeric %.9g analytic %.9g (%.3g x tolerance)\n",
                            name, i, numeric, exact, ratio);
        }
    }
    if (report.mismatches > PRINTED_MISMATCHES)
        print_error("gradcheck %s: ... %zu mismatches in all\n", name, report.mismatches);
    free(order);
    return report;
}

gradcheck_report gradcheck_assert(const char *name, float *x, size_t count,
                                  const float *analytic, gradcheck_loss_fn loss, void *payload,
                                  const gradcheck_options *options)
{
    const gradcheck_report report =
        gradcheck_run(name, x, count, analytic, loss, payload, options);
    print_message("gradcheck %s: %zu checked, %zu skipped, %zu mismatched; worst [%zu] numeric "
                  "%.9g analytic %.9g (%.3g x tolerance)\n",
                  name, report.checked, report.skipped, report.mismatches, report.worst_index,
                  report.worst_numeric, report.worst_analytic, report.worst_ratio);
    assert_true(report.checked > 0);
    assert_int_equal(report.mismatches, 0);
    return report;
}

void gradcheck_assert_close(const char *name, const float *got, const float *want, size_t count,
                            double abs_tol, double rel_tol)
{
    size_t violations = 0, worst = 0;
    double worst_ratio = 0.0;
    for (size_t i = 0; i < count; i++) {
        const double allowed = abs_tol + rel_tol * fabs((double)want[i]);
        const double error = fabs((double)got[i] - (double)want[i]);
        double ratio = INFINITY;
        if (isfinite(got[i]) && isfinite(want[i]))
            ratio = allowed > 0.0 ? error / allowed : (error > 0.0 ? INFINITY : 0.0);
        if (i == 0 || !(ratio <= worst_ratio)) {
            worst = i;
            worst_ratio = ratio;
        }
        if (!(ratio <= 1.0)) violations++;
    }
    if (violations > 0 || count == 0)
        print_error("%s: %zu of %zu values differ; worst [%zu] got %.9g want %.9g (%.3g x "
                    "tolerance)\n",
                    name, violations, count, worst, count ? got[worst] : 0.0,
                    count ? want[worst] : 0.0, worst_ratio);
    assert_true(count > 0);
    assert_int_equal(violations, 0);
}
