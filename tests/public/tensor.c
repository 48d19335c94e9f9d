/* The tensor API and the error model, through the shared library only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jointvae/jointvae.h>

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(jvae_version_number(), JVAE_VERSION_NUMBER);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", JVAE_VERSION_MAJOR, JVAE_VERSION_MINOR,
             JVAE_VERSION_PATCH);
    assert_string_equal(jvae_version_string(), expected);
}

static void test_create_and_accessors(void **state)
{
    (void)state;
    int64_t shape[4] = {2, 3, 4, 5};
    jvae_tensor *t = NULL;
    assert_int_equal(jvae_tensor_create(&t, 4, shape), JVAE_OK);
    assert_int_equal(jvae_tensor_ndim(t), 4);
    assert_int_equal(jvae_tensor_numel(t), 120);
    assert_int_equal(jvae_tensor_dim(t, 1), 3);
    assert_int_equal(jvae_tensor_dim(t, -1), 5);
    assert_int_equal(jvae_tensor_dim(t, 4), 0);
    for (int i = 0; i < 120; i++) assert_true(jvae_tensor_data(t)[i] == 0.0f);
    assert_int_equal(jvae_tensor_fill(t, 2.5f), JVAE_OK);
    assert_true(jvae_tensor_data_const(t)[119] == 2.5f);
    int ndim = 0;
    int64_t got[JVAE_TENSOR_MAX_DIMS];
    assert_int_equal(jvae_tensor_shape(t, &ndim, got), JVAE_OK);
    assert_int_equal(ndim, 4);
    assert_memory_equal(got, shape, sizeof shape);
    int64_t flat[2] = {6, 20};
    assert_int_equal(jvae_tensor_reshape(t, 2, flat), JVAE_OK);
    assert_int_equal(jvae_tensor_dim(t, 0), 6);
    int64_t wrong[2] = {7, 20};
    assert_int_equal(jvae_tensor_reshape(t, 2, wrong), JVAE_ERR_SHAPE);
    assert_non_null(strstr(jvae_last_error(), "(7, 20) holds 140 elements"));
    jvae_tensor_free(t);
}

static void test_wrap_borrows_and_from_buffer_copies(void **state)
{
    (void)state;
    float buffer[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[2] = {2, 3};
    jvae_tensor *view = NULL, *copy = NULL;
    assert_int_equal(jvae_tensor_wrap(&view, buffer, 2, shape), JVAE_OK);
    assert_ptr_equal(jvae_tensor_data(view), buffer);
    assert_int_equal(jvae_tensor_from_buffer(&copy, buffer, 2, shape), JVAE_OK);
    assert_ptr_not_equal(jvae_tensor_data(copy), buffer);
    buffer[0] = 100;
    assert_true(jvae_tensor_data(copy)[0] == 1.0f);
    assert_int_equal(jvae_tensor_copy(view, copy), JVAE_OK);
    assert_true(buffer[0] == 1.0f);
    float values[6] = {6, 5, 4, 3, 2, 1};
    assert_int_equal(jvae_tensor_copy_from(copy, values, 6), JVAE_OK);
    assert_true(jvae_tensor_data(copy)[0] == 6.0f);
    assert_int_equal(jvae_tensor_copy_from(copy, values, 5), JVAE_ERR_SHAPE);
    jvae_tensor_free(view);
    assert_true(buffer[5] == 6.0f); /* freeing a view leaves the buffer alone */
    jvae_tensor_free(copy);
}

static void test_bad_input(void **state)
{
    (void)state;
    int64_t shape[5] = {2, 3, 4, 5, 6};
    jvae_tensor *t = (jvae_tensor *)&shape; /* must be reset to NULL on failure */
    assert_int_equal(jvae_tensor_create(NULL, 2, shape), JVAE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(jvae_last_error(), "out is NULL"));
    assert_int_equal(jvae_tensor_create(&t, 2, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_null(t);
    assert_int_equal(jvae_tensor_create(&t, 0, shape), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_tensor_create(&t, 5, shape), JVAE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(jvae_last_error(), "ndim must be 1..4, got 5"));
    int64_t zero[2] = {2, 0};
    assert_int_equal(jvae_tensor_create(&t, 2, zero), JVAE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(jvae_last_error(), "extent 1 must be >= 1, got 0"));
    int64_t negative[1] = {-3};
    assert_int_equal(jvae_tensor_create(&t, 1, negative), JVAE_ERR_INVALID_ARGUMENT);
    int64_t huge[4] = {INT64_MAX, INT64_MAX, 2, 2};
    assert_int_equal(jvae_tensor_create(&t, 4, huge), JVAE_ERR_OVERFLOW);
    int64_t bytes_overflow[2] = {(int64_t)1 << 31, (int64_t)1 << 31};
    assert_int_equal(jvae_tensor_create(&t, 2, bytes_overflow), JVAE_ERR_OVERFLOW);
    assert_int_equal(jvae_tensor_wrap(&t, NULL, 2, shape), JVAE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(jvae_last_error(), "data is NULL"));
    assert_int_equal(jvae_tensor_from_buffer(&t, NULL, 2, shape), JVAE_ERR_INVALID_ARGUMENT);
    assert_null(t);

    assert_int_equal(jvae_tensor_fill(NULL, 1.0f), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_tensor_copy(NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_tensor_copy_from(NULL, NULL, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_tensor_reshape(NULL, 1, shape), JVAE_ERR_INVALID_ARGUMENT);
    int nd;
    int64_t out[4];
    assert_int_equal(jvae_tensor_shape(NULL, &nd, out), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_tensor_ndim(NULL), 0);
    assert_int_equal(jvae_tensor_numel(NULL), 0);
    assert_int_equal(jvae_tensor_dim(NULL, 0), 0);
    assert_null(jvae_tensor_data(NULL));
    assert_null(jvae_tensor_data_const(NULL));
    jvae_tensor_free(NULL);

    jvae_tensor *a = NULL, *b = NULL;
    int64_t sa[4] = {64, 1, 32, 32}, sb[4] = {64, 3, 32, 32};
    assert_int_equal(jvae_tensor_create(&a, 4, sa), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&b, 4, sb), JVAE_OK);
    assert_int_equal(jvae_tensor_copy(a, b), JVAE_ERR_SHAPE);
    assert_string_equal(jvae_last_error(),
                        "jvae_tensor_copy: dst has shape (64, 1, 32, 32), src has shape (64, 3, 32, 32)");
    jvae_tensor_free(a);
    jvae_tensor_free(b);
}

static void test_status_strings(void **state)
{
    (void)state;
    assert_string_equal(jvae_status_string(JVAE_OK), "ok");
    for (int s = JVAE_ERR_CANCELLED; s < 0; s++) {
        const char *text = jvae_status_string((jvae_status)s);
        assert_non_null(text);
        assert_string_not_equal(text, "unknown status");
    }
    assert_string_equal(jvae_status_string((jvae_status)-999), "unknown status");
    /* pinned values: the enum is append-only */
    assert_int_equal(JVAE_ERR_INVALID_ARGUMENT, -1);
    assert_int_equal(JVAE_ERR_SHAPE, -2);
    assert_int_equal(JVAE_ERR_FORMAT, -6);
    assert_int_equal(JVAE_ERR_UNSUPPORTED, -10);
    assert_int_equal(JVAE_ERR_CANCELLED, -11);
    jvae_tensor_fill(NULL, 0);
    assert_string_not_equal(jvae_last_error(), "");
    jvae_clear_error();
    assert_string_equal(jvae_last_error(), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_create_and_accessors),
        cmocka_unit_test(test_wrap_borrows_and_from_buffer_copies),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
