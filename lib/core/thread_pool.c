/* Fork/join over persistent helper threads that spin briefly, then sleep, between tasks. */
#include "core/thread_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#include "core/error.h"
#include "core/fp_mode.h"

/* How long a waiter polls before it sleeps. In a 2-thread training step the
 * serial work between two tasks averages 17 µs, and the caller waits for its
 * helper mostly under 150 µs, so a waiter polling this long is usually awake
 * when the next task or the last helper arrives; one whose partner is
 * descheduled (more runnable threads than cores) gives its core back soon.
 * Measured against sleeping at once (A, 2 threads, 6 alternating rounds):
 * +5 % with both cores free and no loss with one core busy elsewhere; 100 µs
 * gained no more. */
#define SPIN_NANOSECONDS 30000L
/* Then it polls between sched_yield() calls, which hand the core to any other
 * runnable thread, up to this long. With the AVX-512 kernels a step's serial
 * stretches (the latent-side layers, weight packing) run 30-300 µs, and
 * waking a sleeping helper on the team's KVM machine costs from tens of µs to
 * far more when the host is busy. Against sleeping after 30 µs (jvae-ab, A,
 * 2 threads): +1.5 to +4 % on a quiet machine, -2 % with one core busy
 * elsewhere; 1 ms of polling gained +3 to +16 % quiet but cost 18 % with a
 * busy core, and 1 ms without the yields 57 %. */
#define YIELD_NANOSECONDS 300000L

typedef struct pool_helper {
    pthread_t thread;
    jvae_pool *pool;
    int worker;
} pool_helper;

/* task, context and workers are written before generation moves and read
 * after a helper sees it move (release/acquire). sleepers and caller_asleep
 * pair with generation and pending (all sequentially consistent) so that a
 * sleeper is always woken: whoever changes the value after the sleeper's last
 * look sees that it sleeps. */
struct jvae_pool {
    pthread_mutex_t lock;
    pthread_cond_t start; /* a new task (generation moved) or stopping */
    pthread_cond_t done;  /* pending reached 0 */
    atomic_ulong generation;
    atomic_int pending; /* helpers that have not finished the current task */
    atomic_int stopping;
    atomic_int sleepers;      /* helpers asleep on start */
    atomic_int caller_asleep; /* the caller is asleep on done */
    jvae_pool_task task;
    void *context;
    int workers; /* of the current task */
    int helpers; /* threads started */
    pool_helper helper[];
};

static long long monotonic_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Poll ready(pool, arg) for up to SPIN_NANOSECONDS, then between yields of
 * the core for up to YIELD_NANOSECONDS; nonzero when it came true. */
static int spin_until(int (*ready)(jvae_pool *, unsigned long), jvae_pool *pool,
                      unsigned long arg)
{
    const long long start = monotonic_ns();
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (ready(pool, arg)) return 1;
            CPU_RELAX();
        }
        const long long now = monotonic_ns();
        if (now - start > YIELD_NANOSECONDS) return 0;
        if (now - start > SPIN_NANOSECONDS) sched_yield();
    }
}

static int task_posted(jvae_pool *pool, unsigned long seen)
{
    return atomic_load(&pool->generation) != seen || atomic_load(&pool->stopping);
}

static int helpers_done(jvae_pool *pool, unsigned long unused)
{
    (void)unused;
    return atomic_load(&pool->pending) == 0;
}

static void *helper_main(void *argument)
{
    pool_helper *self = argument;
    jvae_pool *pool = self->pool;
    jvae_fp_enter(); /* for the thread's lifetime: it runs nothing but our tasks */
    /* Generation 0 is the pool's state at creation: a task posted before
     * this thread first looks still counts as new. */
    unsigned long seen = 0;
    for (;;) {
        if (!spin_until(task_posted, pool, seen)) {
            pthread_mutex_lock(&pool->lock);
            atomic_fetch_add(&pool->sleepers, 1);
            while (!task_posted(pool, seen)) pthread_cond_wait(&pool->start, &pool->lock);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->lock);
        }
        if (atomic_load(&pool->stopping)) break;
        seen = atomic_load(&pool->generation);
        if (self->worker < pool->workers) pool->task(pool->context, self->worker, pool->workers);
        if (atomic_fetch_sub(&pool->pending, 1) == 1 && atomic_load(&pool->caller_asleep)) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->lock);
        }
    }
    return NULL;
}

/* Stop the helpers started so far, join them and free the pool. */
static void stop_and_free(jvae_pool *pool)
{
    atomic_store(&pool->stopping, 1);
    pthread_mutex_lock(&pool->lock);
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->helpers; i++) pthread_join(pool->helper[i].thread, NULL);
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->start);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

jvae_status jvae_pool_create(jvae_pool **out, int threads, const char *fn)
{
    *out = NULL;
    if (threads < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: threads must be >= 1, got %d", fn,
                         threads);
    const size_t helpers = (size_t)threads - 1;
    jvae_pool *pool = calloc(1, sizeof *pool + helpers * sizeof(pool_helper));
    if (pool == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate a pool of %d threads", fn,
                         threads);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->stopping, 0);
    atomic_init(&pool->sleepers, 0);
    atomic_init(&pool->caller_asleep, 0);
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot create a mutex", fn);
    }
    if (pthread_cond_init(&pool->start, NULL) != 0) {
        pthread_mutex_destroy(&pool->lock);
        free(pool);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot create a condition variable", fn);
    }
    if (pthread_cond_init(&pool->done, NULL) != 0) {
        pthread_cond_destroy(&pool->start);
        pthread_mutex_destroy(&pool->lock);
        free(pool);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot create a condition variable", fn);
    }
    for (size_t i = 0; i < helpers; i++) {
        pool_helper *h = &pool->helper[i];
        h->pool = pool;
        h->worker = (int)i + 1;
        if (pthread_create(&h->thread, NULL, helper_main, h) != 0) {
            stop_and_free(pool);
            return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot start thread %zu of %d", fn,
                             i + 2, threads);
        }
        pool->helpers++;
    }
    *out = pool;
    return JVAE_OK;
}

void jvae_pool_free(jvae_pool *pool)
{
    if (pool != NULL) stop_and_free(pool);
}

int jvae_pool_threads(const jvae_pool *pool)
{
    return pool == NULL ? 1 : pool->helpers + 1;
}

void jvae_pool_run(jvae_pool *pool, int workers, jvae_pool_task task, void *context)
{
    const int most = jvae_pool_threads(pool);
    if (workers > most) workers = most;
    if (workers <= 1) {
        task(context, 0, 1);
        return;
    }
    pool->task = task;
    pool->context = context;
    pool->workers = workers;
    atomic_store(&pool->pending, pool->helpers);
    atomic_fetch_add(&pool->generation, 1);
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->start);
        pthread_mutex_unlock(&pool->lock);
    }
    task(context, 0, workers);
    if (!spin_until(helpers_done, pool, 0)) {
        pthread_mutex_lock(&pool->lock);
        atomic_store(&pool->caller_asleep, 1);
        while (atomic_load(&pool->pending) > 0) pthread_cond_wait(&pool->done, &pool->lock);
        atomic_store(&pool->caller_asleep, 0);
        pthread_mutex_unlock(&pool->lock);
    }
}

void jvae_pool_block(int count, int worker, int workers, int *begin, int *end)
{
    const int share = count / workers, extra = count % workers;
    *begin = worker * share + (worker < extra ? worker : extra);
    *end = *begin + share + (worker < extra ? 1 : 0);
}
