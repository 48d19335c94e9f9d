/* jvae-eval as a user runs it on a dSprites-shaped model: the FactorVAE
 * command counts its images on stderr up to the exact total (with two
 * threads), stops cleanly on SIGTERM, and bad arguments are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jointvae/jointvae.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "program_run.h"

#define EVAL_PROGRAM JVAE_EXAMPLES_DIR "/jvae-eval"
#define WORK JVAE_TEST_BINARY_DIR "/program-eval"
#define MODEL WORK "/dsprites.safetensors"
#define OUT WORK "/stdout.txt"
#define ERR WORK "/stderr.txt"

/* An untrained 1x64x64 model with a small hidden layer: the metrics need
 * only its shape, and a small one keeps the encodes fast. */
static int setup(void **state)
{
    (void)state;
    if (system("rm -rf '" WORK "' && mkdir -p '" WORK "'") != 0) return -1;
    jvae_model_options o;
    jvae_model_options_init(&o);
    o.height = o.width = 64;
    o.n_continuous = 4;
    o.discrete_sizes[0] = 3;
    o.hidden = 16;
    jvae_model *model = NULL;
    if (jvae_model_create(&model, &o) != JVAE_OK) return -1;
    jvae_status st = jvae_model_save(model, MODEL);
    jvae_model_free(model);
    return st == JVAE_OK ? 0 : -1;
}

/* Start jvae-eval with argv (NULL-ended, program name excluded), its
 * stdout and stderr going to OUT and ERR. */
static pid_t start_eval(const char *const *args)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = EVAL_PROGRAM;
    for (int i = 0; args[i] != NULL; i++) argv[n++] = args[i];
    argv[n] = NULL;
    /* gone before the child starts: the last run's lines must not be read as this one's */
    unlink(OUT);
    unlink(ERR);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (freopen(OUT, "w", stdout) == NULL || freopen(ERR, "w", stderr) == NULL) _exit(126);
        execv(EVAL_PROGRAM, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void test_factorvae_reports_progress_to_the_total(void **state)
{
    (void)state;
    const char *args[] = {"factorvae", "--model", MODEL, "--votes", "40", "--eval-votes", "20",
                          "--variance-images", "500", "--threads", "2", "--json", NULL};
    assert_int_equal(wait_exit(start_eval(args)), 0);
    char *out = read_file(OUT, NULL), *err = read_file(ERR, NULL);
    assert_non_null(out);
    assert_non_null(err);
    assert_non_null(strstr(out, "\"metric\": \"factorvae\", \"preset\": \"dlib\""));
    /* 500 variance images, then 60 votes of 64 images: the first batch of 256
     * is shown at once, the last line reaches the total */
    assert_non_null(strstr(err, "factorvae: 256 / 4340 images\n"));
    assert_non_null(strstr(err, "factorvae: 4340 / 4340 images\n"));
    free(out);
    free(err);
}

static void test_sigterm_stops_a_long_metric(void **state)
{
    (void)state;
    /* 10^8 images would take hours: the run is stopped once it has begun */
    const char *args[] = {"factorvae", "--model", MODEL, "--votes", "1000000", "--vote-images",
                          "100", NULL};
    pid_t pid = start_eval(args);
    struct timespec pause = {0, 5000000};
    int begun = 0;
    for (int i = 0; i < 12000 && !begun; i++) { /* up to a minute, for sanitizer builds */
        char *err = read_file(ERR, NULL);
        begun = err != NULL && strstr(err, " images\n") != NULL;
        free(err);
        if (!begun) nanosleep(&pause, NULL);
    }
    if (!begun) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("jvae-eval showed no progress within a minute");
    }
    kill(pid, SIGTERM);
    assert_int_equal(wait_exit_within(pid, 60), 128 + SIGTERM);
    char *out = read_file(OUT, NULL), *err = read_file(ERR, NULL);
    assert_string_equal(out, ""); /* no score from a metric that did not finish */
    assert_non_null(strstr(err, "jvae-eval: factorvae: stopped by signal 15"));
    free(out);
    free(err);
}

static void test_bad_arguments_fail_cleanly(void **state)
{
    (void)state;
    const char *no_threads[] = {"mig", "--model", MODEL, "--threads", "0", NULL};
    assert_int_equal(wait_exit(start_eval(no_threads)), 2);
    char *err = read_file(ERR, NULL);
    assert_non_null(strstr(err, "--threads must be >= 1"));
    free(err);
    const char *missing[] = {"mig", "--model", WORK "/none.safetensors", NULL};
    assert_int_equal(wait_exit(start_eval(missing)), 1);
    err = read_file(ERR, NULL);
    assert_non_null(strstr(err, "none.safetensors"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_factorvae_reports_progress_to_the_total),
        cmocka_unit_test(test_sigterm_stops_a_long_metric),
        cmocka_unit_test(test_bad_arguments_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
