/* MIG: a hand-computed case, the oracles (identity ≈ 1, zeros = 0, a
 * duplicated code = 0), the callback form and bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "jointvae/metrics.h"

static void test_hand_computed(void **state)
{
    (void)state;
    /* one factor f = [0 0 1 1]; code dim 0 = f (index), dim 1 = [0 0 0 1] (index) */
    const int32_t factors[4] = {0, 0, 1, 1};
    const int32_t sizes[1] = {2};
    const float codes[8] = {0, 0, 0, 0, 1, 0, 1, 1};
    const int32_t categories[2] = {2, 2};
    double mig, gaps[1];
    assert_int_equal(jvae_mig_from_codes(&mig, gaps, codes, 4, 2, categories, factors, 1, sizes, 20),
                     JVAE_OK);
    /* I(dim1; f) = ½ln(4/3) + ¼ln(2/3) + ¼ln 2 from the joint counts
     * (0,0):2 (0,1):1 (1,1):1; I(dim0; f) = H(f) = ln 2 */
    double second = 0.5 * log(4.0 / 3.0) + 0.25 * log(2.0 / 3.0) + 0.25 * log(2.0);
    double expected = (log(2.0) - second) / log(2.0);
    assert_true(fabs(mig - expected) < 1e-12); /* a few roundings of sums of logs */
    assert_true(gaps[0] == mig);
    /* the same code as continuous dims: two values fall in the first and last bin */
    assert_int_equal(jvae_mig_from_codes(&mig, NULL, codes, 4, 2, NULL, factors, 1, sizes, 20),
                     JVAE_OK);
    assert_true(fabs(mig - expected) < 1e-12);
    /* one code dim: the second largest is 0 */
    const float single[4] = {0, 0, 1, 1};
    assert_int_equal(jvae_mig_from_codes(&mig, NULL, single, 4, 1, NULL, factors, 1, sizes, 2),
                     JVAE_OK);
    assert_true(fabs(mig - 1.0) < 1e-12);
}

/* n items with independent uniform factors of the given sizes. */
static int32_t *random_factors(jvae_rng *rng, int n, const int32_t *sizes, int nf)
{
    int32_t *f = malloc((size_t)n * (size_t)nf * sizeof *f);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < nf; k++) f[i * nf + k] = (int32_t)jvae_rng_below(rng, (uint64_t)sizes[k]);
    return f;
}

static void test_oracles(void **state)
{
    (void)state;
    enum { N = 10000, NF = 4 };
    const int32_t sizes[NF] = {2, 3, 5, 10}; /* each class gets its own of 20 bins */
    jvae_rng rng;
    jvae_rng_seed(&rng, 3);
    int32_t *factors = random_factors(&rng, N, sizes, NF);
    float *codes = malloc((size_t)N * 2 * NF * sizeof *codes);
    double mig, gaps[NF];

    /* identity, scaled and shifted: each dim carries its factor exactly. The
     * plug-in MI of independent variables is biased up by about
     * (a−1)(b−1)/(2N) ≤ 0.005 nats here, hence 0.02. */
    for (int i = 0; i < N; i++)
        for (int k = 0; k < NF; k++) codes[i * NF + k] = 3.0f * (float)factors[i * NF + k] - 7.0f;
    assert_int_equal(jvae_mig_from_codes(&mig, gaps, codes, N, NF, NULL, factors, NF, sizes, 20),
                     JVAE_OK);
    assert_true(mig > 0.98 && mig <= 1.0);
    for (int k = 0; k < NF; k++) assert_true(gaps[k] > 0.98);

    /* zeros: no information at all */
    memset(codes, 0, (size_t)N * NF * sizeof *codes);
    assert_int_equal(jvae_mig_from_codes(&mig, gaps, codes, N, NF, NULL, factors, NF, sizes, 20),
                     JVAE_OK);
    assert_true(mig == 0.0);

    /* [x, x]: every factor is in two dims, so the gap is exactly 0 */
    for (int i = 0; i < N; i++)
        for (int k = 0; k < NF; k++)
            codes[i * 2 * NF + k] = codes[i * 2 * NF + NF + k] = (float)factors[i * NF + k];
    assert_int_equal(jvae_mig_from_codes(&mig, NULL, codes, N, 2 * NF, NULL, factors, NF, sizes, 20),
                     JVAE_OK);
    assert_true(mig == 0.0);
    free(codes);
    free(factors);
}

static jvae_status identity_index(float *codes, const int32_t *factors, int count, void *payload)
{
    int *calls = payload;
    (*calls)++;
    for (int i = 0; i < count * 5; i++) codes[i] = (float)factors[i];
    return JVAE_OK;
}

/* payload: {last done, calls, the call that asks to stop (0: none)} */
static int count_progress(int64_t done, int64_t total, void *payload)
{
    int64_t *seen = payload;
    assert_true(done > seen[0] && done <= total && total == 1000);
    seen[0] = done;
    return ++seen[1] == seen[2];
}

static void test_callback_form(void **state)
{
    (void)state;
    static const int32_t sizes[5] = {3, 6, 40, 32, 32};
    int calls = 0;
    jvae_factor_code code;
    memset(&code, 0, sizeof code);
    code.n_factors = 5;
    code.factor_sizes = sizes;
    code.code_dim = 5;
    code.code_categories = sizes; /* index dims: the code is the factor itself */
    code.encode = identity_index;
    code.payload = &calls;
    jvae_mig_options options;
    assert_int_equal(jvae_mig_options_init(&options), JVAE_OK);
    assert_int_equal(options.images, 10000);
    assert_int_equal(options.bins, 20);
    double mig, gaps[5], again;
    assert_int_equal(jvae_mig_score(&mig, gaps, &code, &options), JVAE_OK);
    assert_int_equal(calls, (10000 + 255) / 256);
    /* 40 x 32 classes: plug-in bias ≈ 39·31/(2·10000) = 0.06 nats over
     * H ≈ 3.47..3.69 nats, so each gap is above 1 − 0.06/3.4 − margin */
    for (int k = 0; k < 5; k++) assert_true(gaps[k] > 0.97 && gaps[k] <= 1.0);
    assert_true(mig > 0.97);
    assert_int_equal(jvae_mig_score(&again, NULL, &code, &options), JVAE_OK);
    assert_true(again == mig); /* same seed, same draws */

    int64_t seen[3] = {0, 0, 0};
    options.progress = count_progress;
    options.progress_payload = seen;
    options.images = 1000;
    options.encode_batch = 400;
    assert_int_equal(jvae_mig_score(&again, NULL, &code, &options), JVAE_OK);
    assert_int_equal(seen[0], 1000);
    assert_int_equal(seen[1], 3); /* 400, 800, 1000 */
    seen[0] = seen[1] = 0;
    seen[2] = 3;
    options.encode_batch = 100;
    assert_int_equal(jvae_mig_score(&again, NULL, &code, &options), JVAE_ERR_CANCELLED);
    assert_error_contains("after 300 of 1000 images");

    /* version 1 predates the callback: its fields are never read */
    options.version = 1;
    seen[0] = seen[1] = seen[2] = 0;
    assert_int_equal(jvae_mig_score(&again, NULL, &code, &options), JVAE_OK);
    assert_int_equal(seen[1], 0);
    options.version = 0;
    assert_int_equal(jvae_mig_score(&mig, NULL, &code, &options), JVAE_ERR_VERSION);
    jvae_mig_options_init(&options);
    options.version = 3;
    assert_int_equal(jvae_mig_score(&mig, NULL, &code, &options), JVAE_ERR_VERSION);
    jvae_mig_options_init(&options);
    options.images = 1;
    assert_int_equal(jvae_mig_score(&mig, NULL, &code, &options), JVAE_ERR_INVALID_ARGUMENT);
    jvae_mig_options_init(&options);
    options.bins = 1;
    options.images = 100;
    assert_int_equal(jvae_mig_score(&mig, NULL, &code, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("bins");
    assert_int_equal(jvae_mig_score(NULL, NULL, &code, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_mig_score(&mig, NULL, NULL, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_mig_score(&mig, NULL, &code, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_mig_options_init(NULL), JVAE_ERR_INVALID_ARGUMENT);
}

static void test_bad_input(void **state)
{
    (void)state;
    const int32_t factors[4] = {0, 1, 0, 1}, sizes[1] = {2};
    float codes[4] = {0, 1, 2, 3};
    const int32_t categories[1] = {2};
    double mig;
    assert_int_equal(jvae_mig_from_codes(NULL, NULL, codes, 4, 1, NULL, factors, 1, sizes, 20),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_mig_from_codes(&mig, NULL, NULL, 4, 1, NULL, factors, 1, sizes, 20),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_mig_from_codes(&mig, NULL, codes, 1, 1, NULL, factors, 1, sizes, 20),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("n must be >= 2");
    assert_int_equal(jvae_mig_from_codes(&mig, NULL, codes, 4, 0, NULL, factors, 1, sizes, 20),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_mig_from_codes(&mig, NULL, codes, 4, 1, NULL, factors, 1, sizes, 1),
                     JVAE_ERR_INVALID_ARGUMENT);
    const int32_t out_of_range[4] = {0, 2, 0, 1};
    assert_int_equal(jvae_mig_from_codes(&mig, NULL, codes, 4, 1, NULL, out_of_range, 1, sizes, 20),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("item 1 has class 2 of factor 0");
    assert_int_equal(jvae_mig_from_codes(&mig, NULL, codes, 4, 1, categories, factors, 1, sizes, 20),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("index dim 0");
    codes[2] = INFINITY;
    assert_int_equal(jvae_mig_from_codes(&mig, NULL, codes, 4, 1, NULL, factors, 1, sizes, 20),
                     JVAE_ERR_NUMERIC);
    assert_error_contains("item 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_oracles),
        cmocka_unit_test(test_callback_form),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
