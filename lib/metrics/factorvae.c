/* The FactorVAE metric (Kim & Mnih 2018), presets "dlib" and "paper"
 * (docs/metrics.md §2). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "metrics/factor_code.h"

/* Most images a FactorVAE run may plan: far beyond any real run, and small
 * enough that the count and the dSprites KL images stay within int64. */
#define METRIC_IMAGES_MAX ((int64_t)1 << 60)

const char *jvae_factorvae_preset_name(jvae_factorvae_preset preset)
{
    switch (preset) {
    case JVAE_FACTORVAE_DLIB: return "dlib";
    case JVAE_FACTORVAE_PAPER: return "paper";
    }
    return "unknown";
}

jvae_status jvae_factorvae_options_init(jvae_factorvae_options *options,
                                        jvae_factorvae_preset preset)
{
    static const char fn[] = "jvae_factorvae_options_init";
    JVAE_CHECK_NOT_NULL(options, fn);
    memset(options, 0, sizeof *options);
    options->version = JVAE_FACTORVAE_OPTIONS_VERSION;
    options->preset = preset;
    options->encode_batch = 256;
    options->seed = 0;
    switch (preset) {
    case JVAE_FACTORVAE_DLIB:
        options->images_per_vote = 64;
        options->train_votes = 10000;
        options->eval_votes = 5000;
        options->balanced = 0;
        options->variance_images = 10000;
        options->prune_std = 0.05;
        options->prune_kl = 0.0;
        return JVAE_OK;
    case JVAE_FACTORVAE_PAPER:
        options->images_per_vote = 100;
        options->train_votes = 800;
        options->eval_votes = 0;
        options->balanced = 1;
        options->variance_images = 0;
        options->prune_std = 0.0;
        options->prune_kl = 0.1;
        return JVAE_OK;
    }
    return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: unknown preset %d", fn, (int)preset);
}

static jvae_status check_options(const jvae_factorvae_options *o, const char *fn)
{
    JVAE_CHECK_NOT_NULL(o, fn);
    if (o->version < 1 || o->version > JVAE_FACTORVAE_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION, "%s: options version %u, this library knows 1..%u",
                         fn, o->version, JVAE_FACTORVAE_OPTIONS_VERSION);
    if (o->preset != JVAE_FACTORVAE_DLIB && o->preset != JVAE_FACTORVAE_PAPER)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: unknown preset %d", fn, (int)o->preset);
    if (o->images_per_vote < 2)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: images_per_vote must be >= 2, got %d",
                         fn, o->images_per_vote);
    if (o->train_votes < 1 || o->eval_votes < 0)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: train_votes must be >= 1 and eval_votes >= 0, got %d and %d", fn,
                         o->train_votes, o->eval_votes);
    if (o->variance_images < 0 || o->variance_images == 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: variance_images must be 0 (every combination) or >= 2, got %lld",
                         fn, (long long)o->variance_images);
    if (!(o->prune_std >= 0.0 && isfinite(o->prune_std)) ||
        !(o->prune_kl >= 0.0 && isfinite(o->prune_kl)))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: prune_std and prune_kl must be finite and >= 0, got %g and %g", fn,
                         o->prune_std, o->prune_kl);
    if (o->encode_batch < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: encode_batch must be >= 1, got %d", fn,
                         o->encode_batch);
    return JVAE_OK;
}

/* Spread of every code dimension over a set of items: running mean and sum
 * of squared deviations (Welford) for continuous dims, per-category counts for
 * index dims. */
typedef struct spread {
    int dims;
    int64_t n;
    double *mean, *m2;  /* (dims) */
    int64_t **counts;   /* (dims) arrays of K counts; NULL for continuous dims */
} spread;

static jvae_status spread_init(spread *s, const jvae_factor_code *code, const char *fn)
{
    s->dims = code->code_dim;
    s->n = 0;
    s->mean = calloc((size_t)s->dims, sizeof *s->mean);
    s->m2 = calloc((size_t)s->dims, sizeof *s->m2);
    s->counts = calloc((size_t)s->dims, sizeof *s->counts);
    if (!s->mean || !s->m2 || !s->counts)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    for (int d = 0; d < s->dims; d++) {
        int k = jvae_factor_code_categories(code, d);
        if (k > 0 && (s->counts[d] = calloc((size_t)k, sizeof(int64_t))) == NULL)
            return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    }
    return JVAE_OK;
}

static void spread_free(spread *s)
{
    for (int d = 0; s->counts != NULL && d < s->dims; d++) free(s->counts[d]);
    free(s->counts);
    free(s->mean);
    free(s->m2);
}

static void spread_reset(spread *s, const jvae_factor_code *code)
{
    s->n = 0;
    for (int d = 0; d < s->dims; d++) {
        s->mean[d] = s->m2[d] = 0.0;
        if (s->counts[d] != NULL)
            memset(s->counts[d], 0, (size_t)jvae_factor_code_categories(code, d) * sizeof(int64_t));
    }
}

static void spread_add(spread *s, const float *codes, int count)
{
    for (int i = 0; i < count; i++) {
        s->n++;
        for (int d = 0; d < s->dims; d++) {
            double x = codes[(size_t)i * (size_t)s->dims + (size_t)d];
            if (s->counts[d] != NULL) {
                s->counts[d][(int)x]++;
                continue;
            }
            double delta = x - s->mean[d];
            s->mean[d] += delta / (double)s->n;
            s->m2[d] += delta * (x - s->mean[d]);
        }
    }
}

/* Unbiased variance (ddof = 1), or the Gini variance of an index dim. */
static double spread_variance(const spread *s, const jvae_factor_code *code, int d)
{
    if (s->counts[d] != NULL)
        return jvae_gini_variance(s->counts[d], jvae_factor_code_categories(code, d), s->n);
    return s->n > 1 ? s->m2[d] / (double)(s->n - 1) : 0.0;
}

/* Items of the global variance: variance_images, or every combination. */
static jvae_status variance_items(int64_t *items, const jvae_factor_code *code,
                                  const jvae_factorvae_options *o, const char *fn)
{
    int64_t total = o->variance_images;
    if (total == 0) {
        total = 1;
        for (int f = 0; f < code->n_factors; f++) {
            total *= code->factor_sizes[f];
            if (total > INT32_MAX)
                return jvae_fail(JVAE_ERR_OVERFLOW,
                                 "%s: more than 2^31 factor combinations; set variance_images",
                                 fn);
        }
    }
    *items = total;
    return JVAE_OK;
}

/* Global variance from variance_images random items, or from every
 * combination of the factors once (mixed radix, last factor fastest). */
static jvae_status global_variances(double *variance, const jvae_factor_code *code,
                                    const jvae_factorvae_options *o, jvae_rng *rng, spread *s,
                                    int32_t *factors, float *codes, jvae_progress *progress,
                                    const char *fn)
{
    int64_t total = 0;
    jvae_status st = variance_items(&total, code, o, fn);
    if (st) return st;
    spread_reset(s, code);
    for (int64_t done = 0; done < total;) {
        int count = total - done < o->encode_batch ? (int)(total - done) : o->encode_batch;
        if (o->variance_images > 0) {
            jvae_factor_sample(code, rng, factors, count);
        } else {
            for (int i = 0; i < count; i++) {
                int64_t index = done + i;
                for (int f = code->n_factors - 1; f >= 0; f--) {
                    factors[(size_t)i * (size_t)code->n_factors + (size_t)f] =
                        (int32_t)(index % code->factor_sizes[f]);
                    index /= code->factor_sizes[f];
                }
            }
        }
        st = jvae_factor_encode(code, factors, count, codes, progress, fn);
        if (st) return st;
        spread_add(s, codes, count);
        done += count;
    }
    for (int d = 0; d < code->code_dim; d++) variance[d] = spread_variance(s, code, d);
    return JVAE_OK;
}

/* Cast `n_votes` votes into votes (n_factors, code_dim). */
static jvae_status cast_votes(int64_t *votes, int n_votes, const jvae_factor_code *code,
                              const jvae_factorvae_options *o, const double *global,
                              const char *active, jvae_rng *rng, spread *s, int32_t *factors,
                              float *codes, jvae_progress *progress, const char *fn)
{
    const int L = o->images_per_vote, dims = code->code_dim;
    for (int v = 0; v < n_votes; v++) {
        int k = o->balanced ? v % code->n_factors
                            : (int)jvae_rng_below(rng, (uint64_t)code->n_factors);
        int32_t fixed = (int32_t)jvae_rng_below(rng, (uint64_t)code->factor_sizes[k]);
        jvae_factor_sample(code, rng, factors, L);
        for (int i = 0; i < L; i++) factors[(size_t)i * (size_t)code->n_factors + (size_t)k] = fixed;
        jvae_status st = jvae_factor_encode(code, factors, L, codes, progress, fn);
        if (st) return st;
        spread_reset(s, code);
        spread_add(s, codes, L);
        int best = -1;
        double best_ratio = 0.0;
        for (int d = 0; d < dims; d++) {
            if (!active[d]) continue;
            /* 0/0 and x/0: a dim constant over the data cannot tell factors apart. */
            double ratio = global[d] > 0.0 ? spread_variance(s, code, d) / global[d] : INFINITY;
            if (best < 0 || ratio < best_ratio) {
                best = d;
                best_ratio = ratio;
            }
        }
        votes[(size_t)k * (size_t)dims + (size_t)best]++;
    }
    return JVAE_OK;
}

jvae_status jvae_factorvae_images(int64_t *images, const jvae_factor_code *code,
                                  const jvae_factorvae_options *options, const char *fn)
{
    jvae_status st = jvae_factor_code_check(code, fn);
    if (st == JVAE_OK) st = check_options(options, fn);
    int64_t variance = 0;
    if (st == JVAE_OK) st = variance_items(&variance, code, options, fn);
    if (st) return st;
    const int64_t votes = (int64_t)options->train_votes + options->eval_votes;
    if (variance > METRIC_IMAGES_MAX || votes > METRIC_IMAGES_MAX / options->images_per_vote)
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: %lld variance images and %lld votes of %d images "
                         "are more than 2^60 images", fn, (long long)variance, (long long)votes,
                         options->images_per_vote);
    *images = variance + votes * options->images_per_vote;
    return JVAE_OK;
}

jvae_progress jvae_factorvae_progress(const jvae_factorvae_options *options, int64_t total)
{
    jvae_progress progress = {NULL, NULL, 0, total};
    if (options->version >= 2) { /* version 1 ends before the callback's fields */
        progress.report = options->progress;
        progress.payload = options->progress_payload;
    }
    return progress;
}

jvae_status jvae_factorvae_score(jvae_factorvae_result *out, const jvae_factor_code *code,
                                 const jvae_factorvae_options *options)
{
    static const char fn[] = "jvae_factorvae_score";
    JVAE_CHECK_NOT_NULL(out, fn);
    int64_t images = 0;
    jvae_status st = jvae_factorvae_images(&images, code, options, fn);
    if (st) return st;
    jvae_progress progress = jvae_factorvae_progress(options, images);
    return jvae_factorvae_score_counted(out, code, options, &progress, fn);
}

jvae_status jvae_factorvae_score_counted(jvae_factorvae_result *out, const jvae_factor_code *code,
                                         const jvae_factorvae_options *options,
                                         jvae_progress *progress, const char *fn)
{
    JVAE_CHECK_NOT_NULL(out, fn);
    jvae_status st = jvae_factor_code_check(code, fn);
    if (st == JVAE_OK) st = check_options(options, fn);
    if (st) return st;
    const int dims = code->code_dim, nf = code->n_factors;
    const int batch = options->encode_batch > options->images_per_vote ? options->encode_batch
                                                                       : options->images_per_vote;
    spread s = {0, 0, NULL, NULL, NULL};
    double *global = malloc((size_t)dims * sizeof *global);
    char *active = malloc((size_t)dims);
    int32_t *factors = malloc((size_t)batch * (size_t)nf * sizeof *factors);
    float *codes = malloc((size_t)batch * (size_t)dims * sizeof *codes);
    int64_t *train = calloc((size_t)nf * (size_t)dims, sizeof *train);
    int64_t *eval = calloc((size_t)nf * (size_t)dims, sizeof *eval);
    if (!global || !active || !factors || !codes || !train || !eval)
        st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate for %d dims", fn, dims);
    if (st == JVAE_OK) st = spread_init(&s, code, fn);
    jvae_rng rng;
    jvae_rng_seed(&rng, options->seed);
    if (st == JVAE_OK)
        st = global_variances(global, code, options, &rng, &s, factors, codes, progress, fn);
    int n_active = 0;
    for (int d = 0; st == JVAE_OK && d < dims; d++) {
        int index_dim = jvae_factor_code_categories(code, d) > 0;
        active[d] = 1;
        if (!index_dim && sqrt(global[d]) < options->prune_std) active[d] = 0;
        if (code->code_kl != NULL && code->code_kl[d] < options->prune_kl) active[d] = 0;
        n_active += active[d];
    }
    jvae_factorvae_result result;
    memset(&result, 0, sizeof result);
    result.preset = options->preset;
    result.active_dims = n_active;
    if (st == JVAE_OK && n_active > 0) {
        st = cast_votes(train, options->train_votes, code, options, global, active, &rng, &s,
                        factors, codes, progress, fn);
        if (st == JVAE_OK)
            st = cast_votes(eval, options->eval_votes, code, options, global, active, &rng, &s,
                            factors, codes, progress, fn);
    }
    if (st == JVAE_OK) st = jvae_progress_finish(progress, fn);
    if (st == JVAE_OK && n_active > 0) {
        /* The classifier maps each dim to the factor with most training votes
         * (first on ties); accuracy is the share of votes it gets right. */
        int64_t train_right = 0, eval_right = 0;
        for (int d = 0; d < dims; d++) {
            int cls = 0;
            for (int k = 1; k < nf; k++)
                if (train[(size_t)k * dims + d] > train[(size_t)cls * dims + d]) cls = k;
            train_right += train[(size_t)cls * dims + d];
            eval_right += eval[(size_t)cls * dims + d];
        }
        result.train_votes = options->train_votes;
        result.eval_votes = options->eval_votes;
        result.train_accuracy = (double)train_right / options->train_votes;
        result.eval_accuracy = options->eval_votes > 0 ? (double)eval_right / options->eval_votes
                                                       : result.train_accuracy;
    }
    if (st == JVAE_OK) *out = result;
    spread_free(&s);
    free(global);
    free(active);
    free(factors);
    free(codes);
    free(train);
    free(eval);
    return st;
}
