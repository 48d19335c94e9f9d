/* The one-call training step and checkpoints through the public API: the step
 * is exactly zero_grad + forward + backward + optimizer step with the
 * scheduled capacities; failures leave the parameters alone; a run resumed from
 * a checkpoint is bit-identical to an uninterrupted one. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jointvae/jointvae.h>

#include "scratch_folder.h"

#define BATCH 4
#define SIDE 32

static jvae_model *small_model(void)
{
    jvae_model_options o;
    assert_int_equal(jvae_model_options_init(&o), JVAE_OK);
    o.n_continuous = 3;
    o.n_discrete = 2;
    o.discrete_sizes[0] = 4;
    o.discrete_sizes[1] = 3;
    o.hidden = 16;
    o.seed = 7;
    jvae_model *model = NULL;
    assert_int_equal(jvae_model_create(&model, &o), JVAE_OK);
    assert_int_equal(jvae_model_reserve(model, BATCH), JVAE_OK);
    return model;
}

/* Batch `step` of a deterministic stream of images in [0, 1]. */
static void fill_batch(jvae_tensor *images, int step)
{
    float *x = jvae_tensor_data(images);
    for (int64_t i = 0; i < jvae_tensor_numel(images); i++)
        x[i] = (float)(0.5 + 0.5 * sin(0.05 * (double)i + 1.3 * step));
}

static jvae_tensor *new_batch(void)
{
    int64_t shape[4] = {BATCH, 1, SIDE, SIDE};
    jvae_tensor *images = NULL;
    assert_int_equal(jvae_tensor_create(&images, 4, shape), JVAE_OK);
    return images;
}

typedef struct schedules {
    jvae_schedule *continuous, *discrete;
} schedules;

static schedules make_schedules(void)
{
    schedules s;
    assert_int_equal(jvae_schedule_linear(&s.continuous, 0.0, 5.0, 10), JVAE_OK);
    assert_int_equal(jvae_schedule_linear(&s.discrete, 0.5, 8.0, 4), JVAE_OK);
    return s;
}

static void free_schedules(schedules s)
{
    jvae_schedule_free(s.continuous);
    jvae_schedule_free(s.discrete);
}

static jvae_optimizer *new_optimizer(jvae_model *model, jvae_optimizer_kind kind)
{
    jvae_optimizer_options o;
    assert_int_equal(jvae_optimizer_options_init(&o), JVAE_OK);
    o.kind = kind;
    o.learning_rate = kind == JVAE_OPTIMIZER_ADAM ? 1e-3f : 1e-4f;
    o.weight_decay = 1e-4f;
    jvae_optimizer *optimizer = NULL;
    assert_int_equal(jvae_optimizer_create(&optimizer, model, &o), JVAE_OK);
    return optimizer;
}

static void train(jvae_model *model, jvae_optimizer *optimizer, schedules s, jvae_tensor *images,
                  int first_step, int steps)
{
    for (int t = first_step; t < first_step + steps; t++) {
        fill_batch(images, t);
        assert_int_equal(jvae_train_step(model, optimizer, s.continuous, s.discrete, images, NULL),
                         JVAE_OK);
    }
}

static void test_step_is_the_manual_loop(void **state)
{
    (void)state;
    jvae_model *a = small_model(), *b = small_model();
    jvae_optimizer *oa = new_optimizer(a, JVAE_OPTIMIZER_ADAM);
    jvae_optimizer *ob = new_optimizer(b, JVAE_OPTIMIZER_ADAM);
    schedules s = make_schedules();
    jvae_tensor *images = new_batch();
    const double log_k_sum = log(4.0) + log(3.0);
    for (int t = 1; t <= 5; t++) {
        fill_batch(images, t);
        jvae_loss_terms terms_a, terms_b;
        assert_int_equal(jvae_train_step(a, oa, s.continuous, s.discrete, images, &terms_a),
                         JVAE_OK);
        assert_int_equal(jvae_optimizer_step_count(oa), t);

        const double cap_z = jvae_schedule_value(s.continuous, t);
        const double cap_c = jvae_schedule_value(s.discrete, t);
        assert_int_equal(jvae_model_zero_grad(b), JVAE_OK);
        assert_int_equal(jvae_model_forward(b, images, NULL, NULL, cap_z, cap_c, &terms_b),
                         JVAE_OK);
        assert_int_equal(jvae_model_backward(b), JVAE_OK);
        assert_int_equal(jvae_optimizer_step(ob), JVAE_OK);

        /* The step used schedule(t) for t = 1, 2, … (the discrete one clipped
         * to Σ log K_i by the model). */
        assert_true(terms_a.capacity_continuous == cap_z);
        assert_true(fabs(terms_a.capacity_discrete - fmin(cap_c, log_k_sum)) < 1e-12);
        assert_true(terms_a.total == terms_b.total);
        assert_memory_equal(jvae_model_params(a), jvae_model_params(b),
                            (size_t)jvae_model_param_count(a) * sizeof(float));
    }
    jvae_tensor_free(images);
    free_schedules(s);
    jvae_optimizer_free(oa);
    jvae_optimizer_free(ob);
    jvae_model_free(a);
    jvae_model_free(b);
}

static void run_resume(jvae_optimizer_kind kind)
{
    const int total = 6, half = 3;
    schedules s = make_schedules();
    jvae_tensor *images = new_batch();

    jvae_model *straight = small_model();
    jvae_optimizer *straight_opt = new_optimizer(straight, kind);
    train(straight, straight_opt, s, images, 1, total);

    jvae_model *first = small_model();
    jvae_optimizer *first_opt = new_optimizer(first, kind);
    train(first, first_opt, s, images, 1, half);
    const char *path = path_in_folder("resume.ckpt.safetensors");
    assert_int_equal(jvae_checkpoint_save(path, first, first_opt), JVAE_OK);
    jvae_optimizer_free(first_opt);
    jvae_model_free(first);

    jvae_model *resumed = NULL;
    jvae_optimizer *resumed_opt = NULL;
    assert_int_equal(jvae_checkpoint_load(&resumed, &resumed_opt, path), JVAE_OK);
    assert_int_equal(jvae_optimizer_step_count(resumed_opt), half);
    jvae_optimizer_options got;
    assert_int_equal(jvae_optimizer_get_options(resumed_opt, &got), JVAE_OK);
    assert_int_equal(got.kind, kind);
    assert_int_equal(jvae_model_reserve(resumed, BATCH), JVAE_OK);
    train(resumed, resumed_opt, s, images, half + 1, total - half);

    assert_int_equal(jvae_optimizer_step_count(resumed_opt), total);
    assert_memory_equal(jvae_model_params(straight), jvae_model_params(resumed),
                        (size_t)jvae_model_param_count(straight) * sizeof(float));

    /* The model part of a checkpoint also loads as a plain model. */
    jvae_model *plain = NULL;
    assert_int_equal(jvae_model_load(&plain, path), JVAE_OK);
    jvae_model_free(plain);

    jvae_tensor_free(images);
    free_schedules(s);
    jvae_optimizer_free(straight_opt);
    jvae_optimizer_free(resumed_opt);
    jvae_model_free(straight);
    jvae_model_free(resumed);
}

static void test_resume_is_bit_exact_adam(void **state)
{
    (void)state;
    run_resume(JVAE_OPTIMIZER_ADAM);
}

static void test_resume_is_bit_exact_sgd(void **state)
{
    (void)state;
    run_resume(JVAE_OPTIMIZER_SGD);
}

static double not_a_number(int64_t step, void *payload)
{
    (void)step;
    (void)payload;
    return NAN;
}

static void test_failures_leave_parameters(void **state)
{
    (void)state;
    jvae_model *model = small_model();
    jvae_optimizer *optimizer = new_optimizer(model, JVAE_OPTIMIZER_ADAM);
    schedules s = make_schedules();
    jvae_tensor *images = new_batch();
    train(model, optimizer, s, images, 1, 1);
    const size_t bytes = (size_t)jvae_model_param_count(model) * sizeof(float);
    float *before = malloc(bytes);
    assert_non_null(before);
    memcpy(before, jvae_model_params(model), bytes);

    /* A non-finite input. */
    fill_batch(images, 2);
    jvae_tensor_data(images)[17] = NAN;
    assert_int_equal(jvae_train_step(model, optimizer, s.continuous, s.discrete, images, NULL),
                     JVAE_ERR_NUMERIC);
    assert_memory_equal(jvae_model_params(model), before, bytes);
    assert_int_equal(jvae_optimizer_step_count(optimizer), 1);

    /* A schedule that returns NaN is named. */
    fill_batch(images, 2);
    jvae_schedule *bad = NULL;
    assert_int_equal(jvae_schedule_callback(&bad, not_a_number, NULL), JVAE_OK);
    assert_int_equal(jvae_train_step(model, optimizer, s.continuous, bad, images, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(jvae_last_error(), "cap_discrete at step 2 is nan"));
    assert_memory_equal(jvae_model_params(model), before, bytes);

    /* Parameters so large the loss overflows: NUMERIC, nothing updated. */
    float *params = jvae_model_params(model);
    for (int64_t i = 0; i < jvae_model_param_count(model); i++) params[i] *= 1e30f;
    memcpy(before, params, bytes);
    jvae_status st = jvae_train_step(model, optimizer, s.continuous, s.discrete, images, NULL);
    assert_int_equal(st, JVAE_ERR_NUMERIC);
    assert_memory_equal(jvae_model_params(model), before, bytes);
    assert_int_equal(jvae_optimizer_step_count(optimizer), 1);

    /* An optimizer of another model. */
    jvae_model *other = small_model();
    assert_int_equal(jvae_train_step(other, optimizer, s.continuous, s.discrete, images, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(jvae_last_error(), "another model"));
    assert_int_equal(jvae_checkpoint_save(path_in_folder("x"), other, optimizer),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_train_step(NULL, optimizer, NULL, NULL, images, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);

    free(before);
    jvae_schedule_free(bad);
    jvae_model_free(other);
    jvae_tensor_free(images);
    free_schedules(s);
    jvae_optimizer_free(optimizer);
    jvae_model_free(model);
}

/* A model reserved for 6 images steps with every batch from 1 to 6 at 5
 * threads: a smaller batch splits into more groups than the full one, and so
 * needs more scratch (the weight-gradient partials of more workers) than the
 * full batch; this overflowed the workspace (caught by the sanitizer build). */
static void test_smaller_batches_than_reserved(void **state)
{
    (void)state;
    jvae_model_options o;
    assert_int_equal(jvae_model_options_init(&o), JVAE_OK);
    o.threads = 5;
    jvae_model *model = NULL;
    assert_int_equal(jvae_model_create(&model, &o), JVAE_OK);
    assert_int_equal(jvae_model_reserve(model, 6), JVAE_OK);
    for (int n = 1; n <= 6; n++) {
        int64_t shape[4] = {n, 1, SIDE, SIDE};
        jvae_tensor *images = NULL;
        assert_int_equal(jvae_tensor_create(&images, 4, shape), JVAE_OK);
        fill_batch(images, n);
        jvae_loss_terms terms;
        assert_int_equal(jvae_model_zero_grad(model), JVAE_OK);
        assert_int_equal(jvae_model_forward(model, images, NULL, NULL, 1.0, 0.5, &terms), JVAE_OK);
        assert_true(isfinite(terms.total));
        assert_int_equal(jvae_model_backward(model), JVAE_OK);
        jvae_tensor_free(images);
    }
    jvae_model_free(model);
}

static void test_checkpoint_load_refuses_model_files(void **state)
{
    (void)state;
    jvae_model *model = small_model();
    const char *path = path_in_folder("only-model.safetensors");
    assert_int_equal(jvae_model_save(model, path), JVAE_OK);
    jvae_model *loaded = model;
    jvae_optimizer *optimizer = (jvae_optimizer *)model;
    assert_int_equal(jvae_checkpoint_load(&loaded, &optimizer, path), JVAE_ERR_FORMAT);
    assert_null(loaded);
    assert_null(optimizer);
    assert_non_null(strstr(jvae_last_error(), "a model file, not a checkpoint"));
    jvae_model_free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_is_the_manual_loop),
        cmocka_unit_test(test_resume_is_bit_exact_adam),
        cmocka_unit_test(test_resume_is_bit_exact_sgd),
        cmocka_unit_test(test_failures_leave_parameters),
        cmocka_unit_test(test_smaller_batches_than_reserved),
        cmocka_unit_test(test_checkpoint_load_refuses_model_files),
    };
    return cmocka_run_group_tests(tests, scratch_folder_create, scratch_folder_remove);
}
