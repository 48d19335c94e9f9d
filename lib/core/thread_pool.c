/* Fork/join over persistent helper threads that sleep between tasks. */
#include "core/thread_pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/error.h"

typedef struct pool_helper {
    pthread_t thread;
    jvae_pool *pool;
    int worker;
} pool_helper;

struct jvae_pool {
    pthread_mutex_t lock;
    pthread_cond_t start; /* a new task (generation moved) or stopping */
    pthread_cond_t done;  /* pending reached 0 */
    unsigned long generation;
    int pending; /* helpers that have not finished the current task */
    int stopping;
    jvae_pool_task task;
    void *context;
    int workers; /* of the current task */
    int helpers; /* threads started */
    pool_helper helper[];
};

static void *helper_main(void *argument)
{
    pool_helper *self = argument;
    jvae_pool *pool = self->pool;
    /* Generation 0 is the pool's state at creation: a task posted before
     * this thread first takes the lock still counts as new. */
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->generation == seen && !pool->stopping)
            pthread_cond_wait(&pool->start, &pool->lock);
        if (pool->stopping) break;
        seen = pool->generation;
        const jvae_pool_task task = pool->task;
        void *context = pool->context;
        const int workers = pool->workers;
        pthread_mutex_unlock(&pool->lock);
        if (self->worker < workers) task(context, self->worker, workers);
        pthread_mutex_lock(&pool->lock);
        if (--pool->pending == 0) pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* Stop the helpers started so far, join them and free the pool. */
static void stop_and_free(jvae_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
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
    pthread_mutex_lock(&pool->lock);
    pool->task = task;
    pool->context = context;
    pool->workers = workers;
    pool->pending = pool->helpers;
    pool->generation++;
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->lock);
    task(context, 0, workers);
    pthread_mutex_lock(&pool->lock);
    while (pool->pending > 0) pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

void jvae_pool_block(int count, int worker, int workers, int *begin, int *end)
{
    const int share = count / workers, extra = count % workers;
    *begin = worker * share + (worker < extra ? worker : extra);
    *end = *begin + share + (worker < extra ? 1 : 0);
}
