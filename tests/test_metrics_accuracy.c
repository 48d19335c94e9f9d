/* Contingency tables, the Hungarian assignment and cluster accuracy. */
#include <string.h>

#include "test_util.h"

#include "jointvae/metrics.h"

/* Best total over every injective map of the smaller side (brute force). */
static double brute_force_best(const double *w, int rows, int cols, int row, unsigned used)
{
    if (row == rows) return 0.0;
    /* a row may stay unmatched only when there are more rows than columns */
    double best = rows > cols ? brute_force_best(w, rows, cols, row + 1, used) : -1e300;
    for (int c = 0; c < cols; c++) {
        if (used & (1u << c)) continue;
        double total = w[row * cols + c] + brute_force_best(w, rows, cols, row + 1, used | (1u << c));
        if (total > best) best = total;
    }
    return best;
}

static void check_assignment(const double *w, int rows, int cols, const int *expected,
                             double expected_total)
{
    int assignment[8];
    double total = -1.0;
    assert_int_equal(jvae_assignment_max(assignment, &total, w, rows, cols), JVAE_OK);
    assert_true(total == expected_total);
    for (int r = 0; r < rows; r++) assert_int_equal(assignment[r], expected[r]);
}

static void test_hungarian_known_optima(void **state)
{
    (void)state;
    const double diagonal_trap[4] = {5, 4, 4, 0}; /* greedy takes 5, the optimum is 4 + 4 */
    check_assignment(diagonal_trap, 2, 2, (int[]){1, 0}, 8.0);
    const double permutation[9] = {10, 0, 0, 0, 0, 10, 0, 10, 0};
    check_assignment(permutation, 3, 3, (int[]){0, 2, 1}, 30.0);
    const double wide[6] = {1, 5, 3, 4, 9, 2}; /* 2 rows, 3 columns */
    check_assignment(wide, 2, 3, (int[]){2, 1}, 12.0);
    const double tall[6] = {7, 1, 2, 8, 6, 5}; /* 3 rows, 2 columns: one row unmatched */
    check_assignment(tall, 3, 2, (int[]){0, 1, -1}, 15.0);
    const double single[1] = {3};
    check_assignment(single, 1, 1, (int[]){0}, 3.0);
    const double negative[4] = {-1, -5, -2, -3}; /* max of (−1 −3) and (−5 −2) */
    check_assignment(negative, 2, 2, (int[]){0, 1}, -4.0);
}

static void test_hungarian_matches_brute_force(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 7);
    for (int trial = 0; trial < 300; trial++) {
        int rows = 1 + (int)jvae_rng_below(&rng, 6), cols = 1 + (int)jvae_rng_below(&rng, 6);
        double w[36];
        /* small integer weights make many ties, the hard case */
        for (int i = 0; i < rows * cols; i++) w[i] = (double)jvae_rng_below(&rng, 5);
        int assignment[6];
        double total;
        assert_int_equal(jvae_assignment_max(assignment, &total, w, rows, cols), JVAE_OK);
        assert_true(total == brute_force_best(w, rows, cols, 0, 0));
        double recomputed = 0.0;
        unsigned used = 0;
        int matched = 0;
        for (int r = 0; r < rows; r++) {
            if (assignment[r] < 0) continue;
            assert_true(assignment[r] < cols);
            assert_false(used & (1u << assignment[r]));
            used |= 1u << assignment[r];
            recomputed += w[r * cols + assignment[r]];
            matched++;
        }
        assert_int_equal(matched, rows < cols ? rows : cols);
        assert_true(recomputed == total);
    }
}

static void test_contingency_and_accuracy(void **state)
{
    (void)state;
    /* labels permuted by y -> (y + 3) % 4: both accuracies are 1 */
    int32_t labels[12], clusters[12];
    for (int i = 0; i < 12; i++) {
        labels[i] = i % 4;
        clusters[i] = (labels[i] + 3) % 4;
    }
    int64_t table[16];
    assert_int_equal(jvae_contingency_table(table, clusters, labels, 12, 4, 4), JVAE_OK);
    assert_int_equal(table[3 * 4 + 0], 3);
    assert_int_equal(table[0 * 4 + 1], 3);
    assert_int_equal(table[0 * 4 + 0], 0);
    jvae_accuracy acc;
    int32_t mapping[4];
    assert_int_equal(jvae_cluster_accuracy(&acc, mapping, clusters, labels, 12, 4, 4), JVAE_OK);
    assert_true(acc.hungarian == 1.0 && acc.majority == 1.0);
    assert_int_equal(acc.n, 12);
    for (int c = 0; c < 4; c++) assert_int_equal(mapping[c], (c + 1) % 4);

    /* three clusters, two labels: clusters 0 and 1 both hold label 0 */
    const int32_t c3[12] = {0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2};
    const int32_t y2[12] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
    int32_t mapping3[3];
    assert_int_equal(jvae_cluster_accuracy(&acc, mapping3, c3, y2, 12, 3, 2), JVAE_OK);
    assert_true(acc.majority == 1.0);
    assert_int_equal(acc.hungarian_correct, 9);
    assert_true(acc.hungarian == 9.0 / 12.0);
    assert_int_equal(mapping3[0], 0);
    assert_int_equal(mapping3[1], -1);
    assert_int_equal(mapping3[2], 1);

    /* two clusters, three labels, one mixed cluster */
    const int32_t c2[6] = {0, 0, 0, 1, 1, 1};
    const int32_t y3[6] = {0, 0, 1, 2, 2, 2};
    assert_int_equal(jvae_cluster_accuracy(&acc, NULL, c2, y3, 6, 2, 3), JVAE_OK);
    assert_int_equal(acc.hungarian_correct, 5);
    assert_int_equal(acc.majority_correct, 5);
}

static void test_bad_input(void **state)
{
    (void)state;
    int32_t ids[3] = {0, 1, 2};
    int64_t table[9];
    jvae_accuracy acc;
    assert_int_equal(jvae_contingency_table(NULL, ids, ids, 3, 3, 3), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("table is NULL");
    assert_int_equal(jvae_contingency_table(table, ids, ids, 0, 3, 3), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("n must be >= 1");
    assert_int_equal(jvae_contingency_table(table, ids, ids, 3, 2, 3), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("clusters[2] = 2 is outside 0..1");
    assert_int_equal(jvae_contingency_table(table, ids, ids, 3, 3, 0), JVAE_ERR_INVALID_ARGUMENT);
    int32_t negative[3] = {0, -1, 0};
    assert_int_equal(jvae_cluster_accuracy(&acc, NULL, ids, negative, 3, 3, 3),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("labels[1] = -1");
    assert_int_equal(jvae_cluster_accuracy(NULL, NULL, ids, ids, 3, 3, 3),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_cluster_accuracy(&acc, NULL, ids, ids, 3, JVAE_MAX_CLUSTERS + 1, 3),
                     JVAE_ERR_INVALID_ARGUMENT);

    double w[4] = {1, 2, 3, 4};
    int assignment[2];
    assert_int_equal(jvae_assignment_max(NULL, NULL, w, 2, 2), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_assignment_max(assignment, NULL, NULL, 2, 2), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_assignment_max(assignment, NULL, w, 0, 2), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("rows and cols must be");
    w[3] = 0.0 / 0.0;
    assert_int_equal(jvae_assignment_max(assignment, NULL, w, 2, 2), JVAE_ERR_NUMERIC);
    assert_error_contains("row 1, column 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hungarian_known_optima),
        cmocka_unit_test(test_hungarian_matches_brute_force),
        cmocka_unit_test(test_contingency_and_accuracy),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
