/* The FactorVAE metric on oracle codes: the true factors, swapped factors,
 * constant codes, pruning, and bad input. Vote counts are small (the presets'
 * counts are for the program); each oracle below is exact whatever the count. */
#include <math.h>
#include <string.h>

#include "test_util.h"

#include "jointvae/metrics.h"

static const int32_t dsprites_sizes[5] = {3, 6, 40, 32, 32};

/* How an oracle turns factors into a code. */
typedef struct oracle {
    int code_dim;
    int permutation[8]; /* code dim d holds factor permutation[d], or −1: constant 0 */
    float scale[8];     /* code dim d is multiplied by this */
    int calls;
    jvae_status fail_with;
    int write_nan;
} oracle;

static jvae_status oracle_encode(float *codes, const int32_t *factors, int count, void *payload)
{
    oracle *o = payload;
    o->calls++;
    if (o->fail_with != JVAE_OK) return o->fail_with;
    for (int i = 0; i < count; i++)
        for (int d = 0; d < o->code_dim; d++) {
            int f = o->permutation[d];
            codes[i * o->code_dim + d] = f < 0 ? 0.0f : (float)factors[i * 5 + f] * o->scale[d];
        }
    if (o->write_nan) codes[0] = NAN;
    return JVAE_OK;
}

static oracle identity_oracle(void)
{
    oracle o;
    memset(&o, 0, sizeof o);
    o.code_dim = 5;
    for (int d = 0; d < 5; d++) {
        o.permutation[d] = d;
        o.scale[d] = 1.0f;
    }
    return o;
}

static jvae_factor_code code_of(oracle *o)
{
    jvae_factor_code code;
    memset(&code, 0, sizeof code);
    code.n_factors = 5;
    code.factor_sizes = dsprites_sizes;
    code.code_dim = o->code_dim;
    code.encode = oracle_encode;
    code.payload = o;
    return code;
}

static jvae_factorvae_options small(jvae_factorvae_preset preset)
{
    jvae_factorvae_options options;
    assert_int_equal(jvae_factorvae_options_init(&options, preset), JVAE_OK);
    options.train_votes = 100;
    options.eval_votes = preset == JVAE_FACTORVAE_DLIB ? 50 : 0;
    options.variance_images = 2000;
    return options;
}

static void test_presets(void **state)
{
    (void)state;
    jvae_factorvae_options o;
    assert_int_equal(jvae_factorvae_options_init(&o, JVAE_FACTORVAE_DLIB), JVAE_OK);
    assert_int_equal(o.images_per_vote, 64);
    assert_int_equal(o.train_votes, 10000);
    assert_int_equal(o.eval_votes, 5000);
    assert_int_equal(o.variance_images, 10000);
    assert_false(o.balanced);
    assert_true(o.prune_std == 0.05 && o.prune_kl == 0.0);
    assert_int_equal(jvae_factorvae_options_init(&o, JVAE_FACTORVAE_PAPER), JVAE_OK);
    assert_int_equal(o.images_per_vote, 100);
    assert_int_equal(o.train_votes, 800);
    assert_int_equal(o.eval_votes, 0);
    assert_int_equal(o.variance_images, 0);
    assert_true(o.balanced);
    assert_true(o.prune_kl == 0.1 && o.prune_std == 0.0);
    assert_string_equal(jvae_factorvae_preset_name(JVAE_FACTORVAE_DLIB), "dlib");
    assert_string_equal(jvae_factorvae_preset_name(JVAE_FACTORVAE_PAPER), "paper");
    assert_string_equal(jvae_factorvae_preset_name((jvae_factorvae_preset)9), "unknown");
    assert_int_equal(jvae_factorvae_options_init(NULL, JVAE_FACTORVAE_DLIB),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_factorvae_options_init(&o, (jvae_factorvae_preset)9),
                     JVAE_ERR_INVALID_ARGUMENT);
}

static void test_true_factors_score_one(void **state)
{
    (void)state;
    for (int preset = 0; preset < 2; preset++) {
        oracle o = identity_oracle();
        jvae_factor_code code = code_of(&o);
        jvae_factorvae_options options = small((jvae_factorvae_preset)preset);
        jvae_factorvae_result result;
        assert_int_equal(jvae_factorvae_score(&result, &code, &options), JVAE_OK);
        assert_int_equal(result.preset, preset);
        assert_int_equal(result.active_dims, 5);
        assert_true(result.train_accuracy == 1.0);
        assert_true(result.eval_accuracy == 1.0);
        assert_int_equal(result.train_votes, 100);
    }
    /* the same as index dims scored by their Gini variance */
    oracle o = identity_oracle();
    jvae_factor_code code = code_of(&o);
    code.code_categories = dsprites_sizes;
    jvae_factorvae_options options = small(JVAE_FACTORVAE_DLIB);
    jvae_factorvae_result result;
    assert_int_equal(jvae_factorvae_score(&result, &code, &options), JVAE_OK);
    assert_true(result.eval_accuracy == 1.0);
}

static void test_swapped_factors_and_extra_dims_score_one(void **state)
{
    (void)state;
    oracle o = identity_oracle();
    o.code_dim = 7;
    int permutation[7] = {1, 0, 2, 4, 3, -1, 2};
    float scale[7] = {1, 1, 1, 1, 1, 1, 0.001f}; /* dim 6: factor 2 squeezed below the std cut */
    memcpy(o.permutation, permutation, sizeof permutation);
    memcpy(o.scale, scale, sizeof scale);
    jvae_factor_code code = code_of(&o);
    jvae_factorvae_options options = small(JVAE_FACTORVAE_DLIB);
    jvae_factorvae_result result;
    assert_int_equal(jvae_factorvae_score(&result, &code, &options), JVAE_OK);
    assert_int_equal(result.active_dims, 5); /* the constant dim and the squeezed one are pruned */
    assert_true(result.train_accuracy == 1.0);
    assert_true(result.eval_accuracy == 1.0);
}

static void test_constant_code_scores_chance(void **state)
{
    (void)state;
    oracle o = identity_oracle();
    for (int d = 0; d < 5; d++) o.permutation[d] = -1;
    jvae_factor_code code = code_of(&o);
    /* paper: no std pruning, every ratio is 0/0 -> +inf, every vote goes to
     * dim 0, and with balanced votes the classifier is right for exactly one
     * factor in five */
    jvae_factorvae_options paper = small(JVAE_FACTORVAE_PAPER);
    jvae_factorvae_result result;
    assert_int_equal(jvae_factorvae_score(&result, &code, &paper), JVAE_OK);
    assert_int_equal(result.active_dims, 5);
    assert_true(result.train_accuracy == 0.2);
    assert_true(result.eval_accuracy == 0.2);
    /* dlib: a constant continuous dim is inactive; none active scores 0 */
    jvae_factorvae_options dlib = small(JVAE_FACTORVAE_DLIB);
    assert_int_equal(jvae_factorvae_score(&result, &code, &dlib), JVAE_OK);
    assert_int_equal(result.active_dims, 0);
    assert_true(result.train_accuracy == 0.0 && result.eval_accuracy == 0.0);
    /* dlib with a constant index dim (never pruned): chance with random
     * factors. 500 votes: the most voted of 5 factors holds 20 % ± 1.8 %
     * (one sd), so 0.3 is more than 5 sd away. */
    const int32_t two[5] = {2, 2, 2, 2, 2};
    code.code_categories = two;
    dlib.train_votes = 500;
    dlib.eval_votes = 500;
    assert_int_equal(jvae_factorvae_score(&result, &code, &dlib), JVAE_OK);
    assert_int_equal(result.active_dims, 5);
    assert_true(result.train_accuracy >= 0.2 && result.train_accuracy < 0.3);
    assert_true(result.eval_accuracy > 0.1 && result.eval_accuracy < 0.3);
}

static void test_kl_pruning_and_full_enumeration(void **state)
{
    (void)state;
    oracle o = identity_oracle();
    jvae_factor_code code = code_of(&o);
    const double kl[5] = {0.05, 1.0, 1.0, 1.0, 1.0};
    code.code_kl = kl;
    jvae_factorvae_options paper = small(JVAE_FACTORVAE_PAPER);
    jvae_factorvae_result result;
    assert_int_equal(jvae_factorvae_score(&result, &code, &paper), JVAE_OK);
    assert_int_equal(result.active_dims, 4);
    /* factor 0's 20 votes cannot land on its pruned dim: exactly they are wrong */
    assert_true(result.train_accuracy == 0.8);

    /* variance over every combination of small factors, as the paper preset does */
    static const int32_t sizes[5] = {2, 3, 2, 2, 3};
    oracle all = identity_oracle();
    jvae_factor_code small_code = code_of(&all);
    small_code.factor_sizes = sizes;
    paper.variance_images = 0;
    assert_int_equal(jvae_factorvae_score(&result, &small_code, &paper), JVAE_OK);
    assert_true(result.train_accuracy == 1.0);
    /* 72 combinations in one encode call of 256, then one call per vote */
    assert_int_equal(all.calls, 1 + 100);
}

static void test_same_seed_same_votes(void **state)
{
    (void)state;
    oracle o = identity_oracle();
    o.permutation[4] = -1;
    const int32_t two[5] = {0, 0, 0, 0, 2};
    jvae_factor_code code = code_of(&o);
    code.code_categories = two;
    jvae_factorvae_options options = small(JVAE_FACTORVAE_DLIB);
    jvae_factorvae_result a, b;
    assert_int_equal(jvae_factorvae_score(&a, &code, &options), JVAE_OK);
    assert_int_equal(jvae_factorvae_score(&b, &code, &options), JVAE_OK);
    assert_memory_equal(&a, &b, sizeof a);
    /* factor 4 has no dim of its own: its votes go elsewhere and are wrong */
    assert_true(a.train_accuracy < 1.0 && a.train_accuracy > 0.6);
}

/* What a progress callback saw; it asks to stop at call stop_at (0: never). */
typedef struct progress_log {
    int calls, stop_at, went_back;
    int64_t last_done, total;
} progress_log;

static int log_progress(int64_t done, int64_t total, void *payload)
{
    progress_log *log = payload;
    log->calls++;
    if (done < log->last_done || done > total) log->went_back = 1;
    log->last_done = done;
    log->total = total;
    return log->calls == log->stop_at;
}

static void test_progress_counts_every_image_and_can_stop(void **state)
{
    (void)state;
    oracle o = identity_oracle();
    jvae_factor_code code = code_of(&o);
    jvae_factorvae_options options = small(JVAE_FACTORVAE_DLIB);
    options.encode_batch = 300;
    progress_log log = {0, 0, 0, 0, 0};
    options.progress = log_progress;
    options.progress_payload = &log;
    jvae_factorvae_result counted, plain;
    assert_int_equal(jvae_factorvae_score(&counted, &code, &options), JVAE_OK);
    /* 2000 variance items in batches of 300, then one encode per vote of L images */
    const int64_t images = 2000 + (int64_t)(100 + 50) * options.images_per_vote;
    assert_int_equal(log.total, images);
    assert_int_equal(log.last_done, images);
    assert_int_equal(log.calls, 7 + 150);
    assert_false(log.went_back);
    options.progress = NULL;
    assert_int_equal(jvae_factorvae_score(&plain, &code, &options), JVAE_OK);
    assert_memory_equal(&counted, &plain, sizeof plain); /* watching changes nothing */

    progress_log stop = {0, 3, 0, 0, 0};
    options.progress = log_progress;
    options.progress_payload = &stop;
    o.calls = 0;
    jvae_factorvae_result untouched = {.train_votes = -7};
    assert_int_equal(jvae_factorvae_score(&untouched, &code, &options), JVAE_ERR_CANCELLED);
    assert_int_equal(o.calls, 3);
    assert_int_equal(untouched.train_votes, -7);
    assert_non_null(strstr(jvae_last_error(), "stopped by the progress callback after 900 of"));

    /* version 1 options predate the callback: it is not called */
    progress_log old = {0, 1, 0, 0, 0};
    options.version = 1;
    options.progress_payload = &old;
    assert_int_equal(jvae_factorvae_score(&counted, &code, &options), JVAE_OK);
    assert_int_equal(old.calls, 0);
    options.version = JVAE_FACTORVAE_OPTIONS_VERSION;

    /* a count that would pass int64 is refused before anything is encoded */
    o.calls = 0;
    options.variance_images = INT64_MAX;
    assert_int_equal(jvae_factorvae_score(&counted, &code, &options), JVAE_ERR_OVERFLOW);
    assert_int_equal(o.calls, 0);
    assert_non_null(strstr(jvae_last_error(), "more than 2^60 images"));
    options.variance_images = 2000;

    /* nothing left after pruning: no votes, yet the count still ends at the total */
    oracle flat = identity_oracle();
    for (int d = 0; d < 5; d++) flat.scale[d] = 0.0f;
    jvae_factor_code flat_code = code_of(&flat);
    progress_log finish = {0, 0, 0, 0, 0};
    options.progress_payload = &finish;
    assert_int_equal(jvae_factorvae_score(&counted, &flat_code, &options), JVAE_OK);
    assert_int_equal(counted.active_dims, 0);
    assert_int_equal(finish.last_done, images);
    assert_int_equal(finish.calls, 7 + 1);
}

static void test_bad_input(void **state)
{
    (void)state;
    oracle o = identity_oracle();
    jvae_factor_code code = code_of(&o);
    jvae_factorvae_options options = small(JVAE_FACTORVAE_DLIB);
    jvae_factorvae_result result;
    assert_int_equal(jvae_factorvae_score(NULL, &code, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_factorvae_score(&result, NULL, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_factorvae_score(&result, &code, NULL), JVAE_ERR_INVALID_ARGUMENT);

    jvae_factor_code bad = code;
    bad.n_factors = 0;
    assert_int_equal(jvae_factorvae_score(&result, &bad, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("n_factors");
    const int32_t one[5] = {3, 1, 40, 32, 32};
    bad = code;
    bad.factor_sizes = one;
    assert_int_equal(jvae_factorvae_score(&result, &bad, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("factor_sizes[1] is 1");
    bad = code;
    bad.code_dim = 0;
    assert_int_equal(jvae_factorvae_score(&result, &bad, &options), JVAE_ERR_INVALID_ARGUMENT);
    const int32_t categories[5] = {0, 1, 0, 0, 0};
    bad = code;
    bad.code_categories = categories;
    assert_int_equal(jvae_factorvae_score(&result, &bad, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("code_categories[1] is 1");
    const double kl[5] = {0, 0, NAN, 0, 0};
    bad = code;
    bad.code_kl = kl;
    assert_int_equal(jvae_factorvae_score(&result, &bad, &options), JVAE_ERR_INVALID_ARGUMENT);
    bad = code;
    bad.encode = NULL;
    assert_int_equal(jvae_factorvae_score(&result, &bad, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("encode is NULL");

    jvae_factorvae_options wrong = options;
    wrong.version = 0;
    assert_int_equal(jvae_factorvae_score(&result, &code, &wrong), JVAE_ERR_VERSION);
    wrong = options;
    wrong.images_per_vote = 1;
    assert_int_equal(jvae_factorvae_score(&result, &code, &wrong), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("images_per_vote");
    wrong = options;
    wrong.train_votes = 0;
    assert_int_equal(jvae_factorvae_score(&result, &code, &wrong), JVAE_ERR_INVALID_ARGUMENT);
    wrong = options;
    wrong.variance_images = 1;
    assert_int_equal(jvae_factorvae_score(&result, &code, &wrong), JVAE_ERR_INVALID_ARGUMENT);
    wrong = options;
    wrong.prune_std = -1;
    assert_int_equal(jvae_factorvae_score(&result, &code, &wrong), JVAE_ERR_INVALID_ARGUMENT);
    wrong = options;
    wrong.encode_batch = 0;
    assert_int_equal(jvae_factorvae_score(&result, &code, &wrong), JVAE_ERR_INVALID_ARGUMENT);
    wrong = options;
    wrong.preset = (jvae_factorvae_preset)5;
    assert_int_equal(jvae_factorvae_score(&result, &code, &wrong), JVAE_ERR_INVALID_ARGUMENT);

    /* the encoder's failures reach the caller; out is left alone */
    memset(&result, 0x5a, sizeof result);
    jvae_factorvae_result untouched = result;
    o.fail_with = JVAE_ERR_IO;
    assert_int_equal(jvae_factorvae_score(&result, &code, &options), JVAE_ERR_IO);
    assert_memory_equal(&result, &untouched, sizeof result);
    o.fail_with = JVAE_OK;
    o.write_nan = 1;
    assert_int_equal(jvae_factorvae_score(&result, &code, &options), JVAE_ERR_NUMERIC);
    assert_error_contains("dim 0 of item 0");
    o.write_nan = 0;
    const int32_t index[5] = {0, 0, 0, 0, 2}; /* factor 4 holds up to 31: not a category of 2 */
    code.code_categories = index;
    assert_int_equal(jvae_factorvae_score(&result, &code, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("index dim 4");

    static const int32_t huge[5] = {65536, 65536, 65536, 2, 2};
    oracle h = identity_oracle();
    jvae_factor_code huge_code = code_of(&h);
    huge_code.factor_sizes = huge;
    wrong = options;
    wrong.variance_images = 0;
    assert_int_equal(jvae_factorvae_score(&result, &huge_code, &wrong), JVAE_ERR_OVERFLOW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_true_factors_score_one),
        cmocka_unit_test(test_swapped_factors_and_extra_dims_score_one),
        cmocka_unit_test(test_constant_code_scores_chance),
        cmocka_unit_test(test_kl_pruning_and_full_enumeration),
        cmocka_unit_test(test_same_seed_same_votes),
        cmocka_unit_test(test_progress_counts_every_image_and_can_stop),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
