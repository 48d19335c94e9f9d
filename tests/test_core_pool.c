/*
 * The thread pool: every worker index runs exactly once per task, the
 * caller sees everything the helpers wrote, and tasks posted back to back
 * (helpers still polling), after a pause (helpers asleep) or never (a pool
 * freed while its helpers poll or sleep) all behave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "core/thread_pool.h"

#define MOST_WORKERS 4
#define SLOT_VALUES 1024

typedef struct counting_job {
    int runs[MOST_WORKERS];   /* how often each worker index ran */
    int workers_seen[MOST_WORKERS];
    long values[MOST_WORKERS][SLOT_VALUES]; /* written by their worker only */
    long round;
} counting_job;

static void counting_task(void *context, int worker, int workers)
{
    counting_job *job = context;
    job->runs[worker]++;
    job->workers_seen[worker] = workers;
    for (int i = 0; i < SLOT_VALUES; i++) job->values[worker][i] = job->round * SLOT_VALUES + i;
}

static void pause_for(long nanoseconds)
{
    struct timespec t = {0, nanoseconds};
    while (nanosleep(&t, &t) != 0) {
    }
}

/* Runs `rounds` tasks on `workers` of a pool of `threads`, pausing between
 * them, and checks each round's result as soon as run() returns. */
static void check_rounds(int threads, int workers, int rounds, long pause_ns)
{
    jvae_pool *pool = NULL;
    assert_int_equal(jvae_pool_create(&pool, threads, "test_core_pool"), JVAE_OK);
    assert_int_equal(jvae_pool_threads(pool), threads);
    static counting_job job;
    memset(&job, 0, sizeof job);
    const int expected_workers = workers < threads ? workers : threads;
    for (int round = 1; round <= rounds; round++) {
        job.round = round;
        jvae_pool_run(pool, workers, counting_task, &job);
        for (int w = 0; w < MOST_WORKERS; w++) {
            const int ran = w < expected_workers ? round : 0;
            assert_int_equal(job.runs[w], ran);
            if (w >= expected_workers) continue;
            assert_int_equal(job.workers_seen[w], expected_workers);
            for (int i = 0; i < SLOT_VALUES; i++)
                assert_int_equal(job.values[w][i], (long)round * SLOT_VALUES + i);
        }
        if (pause_ns > 0) pause_for(pause_ns);
    }
    jvae_pool_free(pool);
}

static void test_back_to_back(void **state)
{
    (void)state;
    for (int threads = 1; threads <= MOST_WORKERS; threads++)
        check_rounds(threads, threads, 2000, 0);
}

/* Pauses far longer than any polling: every task finds the helpers asleep. */
static void test_after_sleeping(void **state)
{
    (void)state;
    check_rounds(2, 2, 20, 2000000);
    check_rounds(3, 3, 20, 2000000);
}

/* Pauses around the polling time, where helpers go to sleep as tasks come. */
static void test_around_the_polling_time(void **state)
{
    (void)state;
    for (long pause_ns = 5000; pause_ns <= 80000; pause_ns *= 2) check_rounds(2, 2, 200, pause_ns);
}

static void test_fewer_workers_than_threads(void **state)
{
    (void)state;
    check_rounds(4, 2, 500, 0);
    check_rounds(4, 1, 100, 0);
    check_rounds(3, 9, 100, 0); /* clamped to the pool's threads */
}

/* Freeing right after a task (helpers polling) and long after (asleep). */
static void test_free_while_idle(void **state)
{
    (void)state;
    for (int i = 0; i < 50; i++) check_rounds(3, 3, 1, 0);
    for (int i = 0; i < 5; i++) check_rounds(2, 2, 1, 2000000);
    jvae_pool *pool = NULL;
    assert_int_equal(jvae_pool_create(&pool, 2, "test_core_pool"), JVAE_OK);
    jvae_pool_free(pool); /* no task ever posted */
    jvae_pool_free(NULL);
}

static void test_bad_thread_count(void **state)
{
    (void)state;
    jvae_pool *pool = (jvae_pool *)&pool; /* any non-NULL value: create must clear it */
    assert_int_equal(jvae_pool_create(&pool, 0, "test_core_pool"), JVAE_ERR_INVALID_ARGUMENT);
    assert_null(pool);
    assert_int_equal(jvae_pool_threads(NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_back_to_back),
        cmocka_unit_test(test_after_sleeping),
        cmocka_unit_test(test_around_the_polling_time),
        cmocka_unit_test(test_fewer_workers_than_threads),
        cmocka_unit_test(test_free_while_idle),
        cmocka_unit_test(test_bad_thread_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
