/*
 * Finite-difference gradient checking for the layer, loss and model tests.
 *
 * The caller owns a float vector x (parameters, inputs, logits, …) and a
 * callback that evaluates a scalar loss L in double from the current contents
 * of x. For each checked index i the checker perturbs x[i] in place to
 * x[i] ± h (restoring it afterwards) and compares the central difference
 *     numeric = (L(x⁺) − L(x⁻)) / (x⁺ᵢ − x⁻ᵢ)
 * with analytic[i]. The denominator is the step actually taken after
 * rounding x ± h to float, so the float grid adds no bias.
 * A point passes when |numeric − analytic| ≤ abs_tol + rel_tol·max(|numeric|, |analytic|).
 *
 * Points can be skipped where L has a kink (ReLU at 0, a max, …): by the
 * caller's predicate, or automatically when the one-sided slopes
 * (L(x⁺) − L(x))/h⁺ and (L(x) − L(x⁻))/h⁻ differ by more than kink_tol,
 * which catches kinks hidden inside a model.
 * A NaN or Inf in the loss or the analytic gradient is always a failure.
 */
#ifndef JVAE_TEST_GRADCHECK_H
#define JVAE_TEST_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

/* The scalar loss at the current contents of the checked vector. */
typedef double (*gradcheck_loss_fn)(void *payload);
/* Nonzero to skip index i (read x[i] or anything else through payload). */
typedef int (*gradcheck_skip_fn)(size_t index, void *payload);

typedef struct gradcheck_options {
    double step;             /* h, in the units of x; > 0 */
    double abs_tol, rel_tol; /* see the pass criterion above */
    gradcheck_skip_fn skip_point; /* optional (NULL: none) */
    double kink_tol;         /* > 0: skip where one-sided slopes differ by more; 0: off */
    size_t max_points;       /* 0: every index; else this many distinct random indices */
    uint64_t seed;           /* draws the indices when max_points is used */
} gradcheck_options;

typedef struct gradcheck_report {
    size_t checked;    /* indices compared */
    size_t skipped;    /* by the predicate or the kink test */
    size_t mismatches; /* beyond tolerance, or not finite */
    size_t worst_index;
    double worst_numeric, worst_analytic;
    double worst_ratio; /* |numeric − analytic| / allowed at worst_index (∞ if not finite) */
} gradcheck_report;

/* Check analytic[0..count) against finite differences of loss over x[0..count)
 * and return the report; prints each mismatch (the first few) and never asserts. */
gradcheck_report gradcheck_run(const char *name, float *x, size_t count, const float *analytic,
                               gradcheck_loss_fn loss, void *payload,
                               const gradcheck_options *options);

/* gradcheck_run, then print the worst point and fail the current cmocka test
 * unless at least one point was checked and none mismatched. */
gradcheck_report gradcheck_assert(const char *name, float *x, size_t count,
                                  const float *analytic, gradcheck_loss_fn loss, void *payload,
                                  const gradcheck_options *options);

/* Element-wise |got − want| ≤ abs_tol + rel_tol·|want| over count values (an
 * oracle comparison, e.g. a fast kernel against its reference); prints the
 * worst element and fails the current cmocka test on any violation, NaN or Inf. */
void gradcheck_assert_close(const char *name, const float *got, const float *want, size_t count,
                            double abs_tol, double rel_tol);

#endif
