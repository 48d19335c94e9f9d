/* Capacity schedules: pure functions of the step t (t = 1 on the first update),
 * so a run resumed from a checkpoint sees exactly the capacities it would have
 * seen without the interruption. Values are computed in double, like the
 * official Python code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "jointvae/train.h"

typedef enum schedule_kind {
    SCHEDULE_LINEAR,
    SCHEDULE_CONSTANT,
    SCHEDULE_PIECEWISE,
    SCHEDULE_CALLBACK
} schedule_kind;

struct jvae_schedule {
    schedule_kind kind;
    double c_min, c_max;   /* LINEAR */
    int64_t iterations;    /* LINEAR */
    double value;          /* CONSTANT */
    int64_t *steps;        /* PIECEWISE (count) */
    double *values;        /* PIECEWISE (count) */
    int count;             /* PIECEWISE */
    jvae_schedule_fn fn;   /* CALLBACK */
    void *payload;         /* CALLBACK, borrowed */
};

/* Capacities are KL targets in nats: finite and never negative. */
static jvae_status check_capacity(const char *fn, const char *what, double value)
{
    if (!isfinite(value))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: %s must be finite, got %g", fn, what,
                         value);
    if (value < 0.0)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: %s must be >= 0 (a KL target), got %g",
                         fn, what, value);
    return JVAE_OK;
}

static jvae_status new_schedule(const char *fn, jvae_schedule **out, schedule_kind kind)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    (*out)->kind = kind;
    return JVAE_OK;
}

jvae_status jvae_schedule_linear(jvae_schedule **out, double c_min, double c_max,
                                 int64_t iterations)
{
    static const char fn[] = "jvae_schedule_linear";
    JVAE_CHECK_NOT_NULL(out, fn);
    *out = NULL;
    jvae_status st = check_capacity(fn, "c_min", c_min);
    if (st) return st;
    if ((st = check_capacity(fn, "c_max", c_max))) return st;
    if (c_max < c_min)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: c_max (%g) must be >= c_min (%g): the schedule grows to c_max", fn,
                         c_max, c_min);
    if (iterations < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: iterations must be >= 1, got %lld", fn,
                         (long long)iterations);
    if ((st = new_schedule(fn, out, SCHEDULE_LINEAR))) return st;
    (*out)->c_min = c_min;
    (*out)->c_max = c_max;
    (*out)->iterations = iterations;
    return JVAE_OK;
}

jvae_status jvae_schedule_constant(jvae_schedule **out, double value)
{
    static const char fn[] = "jvae_schedule_constant";
    JVAE_CHECK_NOT_NULL(out, fn);
    *out = NULL;
    jvae_status st = check_capacity(fn, "value", value);
    if (st) return st;
    if ((st = new_schedule(fn, out, SCHEDULE_CONSTANT))) return st;
    (*out)->value = value;
    return JVAE_OK;
}

jvae_status jvae_schedule_piecewise(jvae_schedule **out, const int64_t *steps,
                                    const double *values, int count)
{
    static const char fn[] = "jvae_schedule_piecewise";
    JVAE_CHECK_NOT_NULL(out, fn);
    *out = NULL;
    JVAE_CHECK_NOT_NULL(steps, fn);
    JVAE_CHECK_NOT_NULL(values, fn);
    if (count < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: count must be >= 1, got %d", fn, count);
    char what[48];
    for (int i = 0; i < count; i++) {
        snprintf(what, sizeof what, "values[%d]", i);
        jvae_status st = check_capacity(fn, what, values[i]);
        if (st) return st;
        if (i > 0 && steps[i] <= steps[i - 1])
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                             "%s: steps must be strictly increasing, but steps[%d] = %lld "
                             "follows steps[%d] = %lld",
                             fn, i, (long long)steps[i], i - 1, (long long)steps[i - 1]);
    }
    jvae_status st = new_schedule(fn, out, SCHEDULE_PIECEWISE);
    if (st) return st;
    jvae_schedule *s = *out;
    s->steps = malloc((size_t)count * sizeof *s->steps);
    s->values = malloc((size_t)count * sizeof *s->values);
    if (s->steps == NULL || s->values == NULL) {
        jvae_schedule_free(s);
        *out = NULL;
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %d points", fn, count);
    }
    memcpy(s->steps, steps, (size_t)count * sizeof *steps);
    memcpy(s->values, values, (size_t)count * sizeof *values);
    s->count = count;
    return JVAE_OK;
}

jvae_status jvae_schedule_callback(jvae_schedule **out, jvae_schedule_fn fn_ptr, void *payload)
{
    static const char fn[] = "jvae_schedule_callback";
    JVAE_CHECK_NOT_NULL(out, fn);
    *out = NULL;
    if (fn_ptr == NULL)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: fn is NULL", fn);
    jvae_status st = new_schedule(fn, out, SCHEDULE_CALLBACK);
    if (st) return st;
    (*out)->fn = fn_ptr;
    (*out)->payload = payload;
    return JVAE_OK;
}

void jvae_schedule_free(jvae_schedule *schedule)
{
    if (schedule == NULL) return;
    free(schedule->steps);
    free(schedule->values);
    free(schedule);
}

/* The official code's expression, in its order of operations:
 * min(c_max, (c_max − c_min)·t / T + c_min). Steps below 0 count as 0 so the
 * value never drops under c_min. */
static double linear_value(const jvae_schedule *s, int64_t step)
{
    double t = step < 0 ? 0.0 : (double)step;
    double value = (s->c_max - s->c_min) * t / (double)s->iterations + s->c_min;
    return value < s->c_max ? value : s->c_max;
}

static double piecewise_value(const jvae_schedule *s, int64_t step)
{
    if (step <= s->steps[0]) return s->values[0];
    if (step >= s->steps[s->count - 1]) return s->values[s->count - 1];
    /* Binary search for the segment with steps[lo] <= step < steps[hi]. */
    int lo = 0, hi = s->count - 1;
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (s->steps[mid] <= step) lo = mid;
        else hi = mid;
    }
    /* Differences in double: int64 differences of extreme steps could overflow. */
    double fraction = ((double)step - (double)s->steps[lo]) /
                      ((double)s->steps[hi] - (double)s->steps[lo]);
    return s->values[lo] + (s->values[hi] - s->values[lo]) * fraction;
}

double jvae_schedule_value(const jvae_schedule *schedule, int64_t step)
{
    if (schedule == NULL) return NAN;
    switch (schedule->kind) {
    case SCHEDULE_LINEAR: return linear_value(schedule, step);
    case SCHEDULE_CONSTANT: return schedule->value;
    case SCHEDULE_PIECEWISE: return piecewise_value(schedule, step);
    case SCHEDULE_CALLBACK: return schedule->fn(step, schedule->payload);
    }
    return NAN;
}
