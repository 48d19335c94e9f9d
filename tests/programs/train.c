/* jvae-train as a user runs it: on a small IDX data set the test writes, the
 * loss goes down, the run leaves its files, and an interrupted run resumed with
 * --resume ends bit-identical to an uninterrupted one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "program_run.h"

#define TRAIN_PROGRAM JVAE_EXAMPLES_DIR "/jvae-train"
#define WORK JVAE_TEST_BINARY_DIR "/program-train"

static void write_be32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    assert_int_equal(fwrite(b, 1, 4, f), 4);
}

/* 256 28x28 images: a bright rectangle whose size and place depend on the
 * label, so there is structure to learn. */
static void write_idx_dataset(void)
{
    enum { COUNT = 256, SIDE = 28 };
    FILE *images = fopen(WORK "/tiny-images-idx3-ubyte", "wb");
    FILE *labels = fopen(WORK "/tiny-labels-idx1-ubyte", "wb");
    assert_non_null(images);
    assert_non_null(labels);
    write_be32(images, 0x00000803);
    write_be32(images, COUNT);
    write_be32(images, SIDE);
    write_be32(images, SIDE);
    write_be32(labels, 0x00000801);
    write_be32(labels, COUNT);
    uint32_t state = 12345;
    for (int n = 0; n < COUNT; n++) {
        state = state * 1664525u + 1013904223u;
        int label = (int)(state >> 24) % 10;
        int top = 2 + label, left = 4 + (int)((state >> 8) % 8), size = 6 + label % 5;
        unsigned char pixels[SIDE * SIDE] = {0};
        for (int r = top; r < top + size && r < SIDE; r++)
            for (int c = left; c < left + size && c < SIDE; c++) pixels[r * SIDE + c] = 255;
        assert_int_equal(fwrite(pixels, 1, sizeof pixels, images), sizeof pixels);
        unsigned char l = (unsigned char)label;
        assert_int_equal(fwrite(&l, 1, 1, labels), 1);
    }
    assert_int_equal(fclose(images), 0);
    assert_int_equal(fclose(labels), 0);
}

static int setup(void **state)
{
    (void)state;
    if (system("rm -rf '" WORK "' && mkdir -p '" WORK "'") != 0) return -1;
    write_idx_dataset();
    return 0;
}

/* Start jvae-train with the common small-model options plus `extra` (NULL-ended). */
static pid_t start_train(const char *out, const char *iters, const char *const *extra)
{
    const char *argv[48];
    int n = 0;
    argv[n++] = TRAIN_PROGRAM;
    if (extra == NULL || strcmp(extra[0], "--resume") != 0) {
        const char *common[] = {"--preset", "mnist", "--data", WORK "/tiny", "--out", out,
                                "--batch", "16", "--hidden", "32", "--continuous", "3",
                                "--discrete", "4", "--threads", "1", "--seed", "7",
                                "--log-every", "5", "--checkpoint-every", "7",
                                "--cap-continuous", "0,2,100", "--cap-discrete", "0,1,100"};
        for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) argv[n++] = common[i];
    }
    for (int i = 0; extra && extra[i]; i++) argv[n++] = extra[i];
    argv[n++] = "--iters";
    argv[n++] = iters;
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen(WORK "/last-run.txt", "a", stderr);
        execv(TRAIN_PROGRAM, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int file_exists(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0 && info.st_size > 0;
}

static void assert_same_file(const char *a, const char *b)
{
    size_t size_a = 0, size_b = 0;
    char *da = read_file(a, &size_a), *db = read_file(b, &size_b);
    assert_non_null(da);
    assert_non_null(db);
    assert_int_equal(size_a, size_b);
    assert_memory_equal(da, db, size_a);
    free(da);
    free(db);
}

/* The "total" column (10th) of the first and last data rows of log.csv. */
static void first_and_last_total(const char *log, double *first, double *last)
{
    size_t size;
    char *text = read_file(log, &size);
    assert_non_null(text);
    int row = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), row++) {
        if (row == 0) {
            assert_non_null(strstr(line, "step,epoch,reconstruction"));
            continue;
        }
        char *field = line;
        for (int column = 0; column < 9; column++) field = strchr(field, ',') + 1;
        double total = strtod(field, NULL);
        if (row == 1) *first = total;
        *last = total;
    }
    assert_true(row > 3);
    free(text);
}

static void test_training_lowers_the_loss_and_writes_its_files(void **state)
{
    (void)state;
    const char *out = WORK "/run-a";
    assert_int_equal(wait_exit(start_train(out, "60", NULL)), 0);
    const char *expected[] = {"settings.json", "log.csv", "model.safetensors",
                              "checkpoint.safetensors", "samples.png", "traversals.png",
                              "reconstructions.png", "curves_loss.png"};
    char path[512];
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", out, expected[i]);
        assert_true(file_exists(path));
    }
    double first = 0, last = 0;
    first_and_last_total(WORK "/run-a/log.csv", &first, &last);
    assert_true(last < 0.8 * first);
}

static void test_resume_continues_exactly(void **state)
{
    (void)state;
    assert_int_equal(wait_exit(start_train(WORK "/straight", "30", NULL)), 0);
    assert_int_equal(wait_exit(start_train(WORK "/halves", "13", NULL)), 0);
    const char *resume[] = {"--resume", WORK "/halves", NULL};
    assert_int_equal(wait_exit(start_train(WORK "/halves", "30", resume)), 0);
    assert_same_file(WORK "/straight/model.safetensors", WORK "/halves/model.safetensors");
}

static void test_signal_writes_a_checkpoint_and_resume_matches(void **state)
{
    (void)state;
    assert_int_equal(wait_exit(start_train(WORK "/reference", "200", NULL)), 0);

    pid_t pid = start_train(WORK "/stopped", "200", NULL);
    /* Stop it once it has logged a row, i.e. somewhere in the middle of the run. */
    struct timespec pause = {0, 2000000};
    for (int i = 0; i < 20000 && !file_exists(WORK "/stopped/log.csv"); i++) nanosleep(&pause, NULL);
    size_t size = 0;
    for (int i = 0; i < 20000; i++) {
        char *log = read_file(WORK "/stopped/log.csv", &size);
        int rows = 0;
        for (size_t k = 0; log && k < size; k++) rows += log[k] == '\n';
        free(log);
        if (rows >= 2) break;
        nanosleep(&pause, NULL);
    }
    kill(pid, SIGTERM);
    int code = wait_exit(pid);
    if (code == 0) {
        print_message("the run ended before the signal arrived; interruption not exercised\n");
    } else {
        assert_int_equal(code, 128 + SIGTERM);
        assert_true(file_exists(WORK "/stopped/checkpoint.safetensors"));
        assert_false(file_exists(WORK "/stopped/model.safetensors"));
        const char *resume[] = {"--resume", WORK "/stopped", NULL};
        assert_int_equal(wait_exit(start_train(WORK "/stopped", "200", resume)), 0);
    }
    assert_same_file(WORK "/reference/model.safetensors", WORK "/stopped/model.safetensors");
}

static void test_bad_arguments_fail_cleanly(void **state)
{
    (void)state;
    const char *unknown[] = {"--no-such-option", "1", NULL};
    assert_int_equal(wait_exit(start_train(WORK "/bad", "5", unknown)), 2);
    const char *bad_discrete[] = {"--discrete", "1", NULL};
    assert_int_equal(wait_exit(start_train(WORK "/bad", "5", bad_discrete)), 2);
    const char *missing[] = {"--resume", WORK "/does-not-exist", NULL};
    assert_int_equal(wait_exit(start_train(WORK "/bad", "5", missing)), 2);
    size_t size;
    char *messages = read_file(WORK "/last-run.txt", &size);
    assert_non_null(messages);
    assert_non_null(strstr(messages, "unknown option '--no-such-option'"));
    assert_non_null(strstr(messages, "--discrete: expected sizes >= 2"));
    assert_non_null(strstr(messages, "does-not-exist/settings.json"));
    free(messages);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_training_lowers_the_loss_and_writes_its_files),
        cmocka_unit_test(test_resume_continues_exactly),
        cmocka_unit_test(test_signal_writes_a_checkpoint_and_resume_matches),
        cmocka_unit_test(test_bad_arguments_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
