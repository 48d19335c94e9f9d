/*
 * Internal: a small pool of worker threads that runs one task on every worker
 * and returns when all of them are done (a fork/join with persistent threads).
 *
 * Why not OpenMP: libgomp's idle workers spin (OMP_WAIT_POLICY=active is its
 * default for a team no larger than the core count) and the wait policy can
 * only be chosen by the host's environment, before the program starts. On a
 * machine whose cores are shared with other work, a spinning waiter takes the
 * core that the thread it waits for needs: on the team's 2-core machine a
 * 2-thread training step ran at half the speed of a 1-thread one. These
 * waiters poll for 30 µs, then poll between yields of the core (so that any
 * other runnable thread gets it) up to 300 µs, then sleep on a condition
 * variable. A
 * training step's tasks come a few tens of microseconds apart, so the helpers
 * are still awake for the next one and the caller for the last helper; waking
 * a sleeping worker costs about 13 µs here, so only passes of a few hundred
 * microseconds or more are worth splitting.
 *
 * No global state: each pool belongs to its owner (a model's training
 * workspace, or one inference call). run() is not reentrant: one caller at a
 * time per pool. Nothing allocates after create().
 */
#ifndef JVAE_CORE_THREAD_POOL_H
#define JVAE_CORE_THREAD_POOL_H

#include "jointvae/core.h"

typedef struct jvae_pool jvae_pool;

/* A task body: runs once for each worker index in [0, workers). */
typedef void (*jvae_pool_task)(void *context, int worker, int workers);

/* A pool for `threads` >= 1 workers: the calling thread is worker 0 and
 * threads − 1 helper threads are started here (none for 1). *out is NULL on
 * failure. Errors: INVALID_ARGUMENT (threads < 1), OUT_OF_MEMORY (allocation
 * or thread creation failed). fn names the caller in messages. */
jvae_status jvae_pool_create(jvae_pool **out, int threads, const char *fn);

/* Stop and join the helpers, then free. NULL is a no-op. */
void jvae_pool_free(jvae_pool *pool);

/* Workers of the pool; 1 for NULL. */
int jvae_pool_threads(const jvae_pool *pool);

/* Run task(context, w, workers) for every w in [0, workers) — w = 0 on the
 * caller's thread, the others on helpers — and return when all have
 * finished. workers is clamped to [1, jvae_pool_threads(pool)]; a NULL pool
 * or one worker runs the task on the caller alone. */
void jvae_pool_run(jvae_pool *pool, int workers, jvae_pool_task task, void *context);

/* The contiguous block [*begin, *end) of `count` items that worker w of
 * `workers` takes: the first count % workers workers take one item more
 * (OpenMP's static schedule), so a fixed worker count always splits the same
 * way. */
void jvae_pool_block(int count, int worker, int workers, int *begin, int *end);

#endif
