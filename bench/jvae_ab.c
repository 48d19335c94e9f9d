/*
 * jvae-ab: two builds of libjointvae.so in one process, timed turn about.
 *
 *   jvae-ab OLD.so NEW.so train|encode --config A|B|C [--threads T] [--seconds S]
 *           [--batch N]   (default: 64 to train, 256 to encode, as jvae-bench)
 *
 * Why: on the shared machine this project is measured on, the same
 * jvae-bench cell moves by ±20 % from one minute to the next, which hides any
 * change below about 15 %. Here both builds train (or encode) the same
 * configuration, in rounds of short windows (about 0.15 s each) that
 * alternate which build goes first; each round yields a ratio NEW/OLD
 * measured a fraction of a second apart, and the median of those ratios is
 * steady to about ±1 % where the separate medians move by 10 % (an A/A run of
 * one build against itself gives 1.00, bench/README.md).
 *
 * The libraries are loaded with dlopen(RTLD_LOCAL) from two different files
 * (copy one if both builds install the same path), so each keeps its own
 * symbols, and are driven through the public header only. Prints one line:
 * both medians in images per second, and the paired ratio with its quartiles.
 * Exit status 0, 1 on a library error, 2 on bad usage.
 */
#include <jointvae/jointvae.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_configs.h"

#define MAX_ROUNDS 2000
#define WINDOW_S 0.15

/* The public functions one build provides, resolved by name. */
#define BUILD_FUNCTIONS(X)                                                                     \
    X(jvae_model_options_init)                                                                 \
    X(jvae_model_create) X(jvae_model_free) X(jvae_model_set_loss) X(jvae_model_reserve)        \
    X(jvae_tensor_create) X(jvae_tensor_free) X(jvae_tensor_data) X(jvae_tensor_numel)         \
    X(jvae_encode) X(jvae_loss_options_init) X(jvae_optimizer_options_init)                    \
    X(jvae_optimizer_create) X(jvae_optimizer_free) X(jvae_schedule_linear)                    \
    X(jvae_schedule_free) X(jvae_train_step) X(jvae_last_error) X(jvae_version_string)

typedef struct build {
    const char *path;
    void *handle;
    int loaded; /* every function resolved */
#define DECLARE(name) __typeof__(&name) name;
    BUILD_FUNCTIONS(DECLARE)
#undef DECLARE
    jvae_model *model;
    jvae_optimizer *optimizer;
    jvae_schedule *cap_continuous, *cap_discrete;
    jvae_tensor *images, *mu, *logvar, *alpha;
    jvae_loss_terms terms;
} build;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int failed(const build *b, const char *what)
{
    fprintf(stderr, "jvae-ab: %s: %s failed: %s\n", b->path, what, b->jvae_last_error());
    return -1;
}

#define TRY(b, call)                                         \
    do {                                                     \
        if ((call) != JVAE_OK) return failed((b), #call);    \
    } while (0)

static int load(build *b, const char *path)
{
    b->path = path;
    b->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (b->handle == NULL) {
        fprintf(stderr, "jvae-ab: %s\n", dlerror());
        return -1;
    }
#define RESOLVE(name)                                                                   \
    *(void **)&b->name = dlsym(b->handle, #name);                                       \
    if (b->name == NULL) {                                                              \
        fprintf(stderr, "jvae-ab: %s has no %s\n", path, #name);                        \
        return -1;                                                                      \
    }
    BUILD_FUNCTIONS(RESOLVE)
#undef RESOLVE
    b->loaded = 1;
    return 0;
}

/* The model, data and, for training, loss, optimizer and schedules of
 * jvae-bench's configuration c. */
static int prepare(build *b, const bench_config *c, int threads, int batch, int train)
{
    jvae_model_options options;
    TRY(b, b->jvae_model_options_init(&options));
    options.channels = c->channels;
    options.height = options.width = c->side;
    options.n_continuous = c->n_continuous;
    options.n_discrete = 1;
    options.discrete_sizes[0] = c->discrete_size;
    options.seed = 1;
    options.threads = threads;
    TRY(b, b->jvae_model_create(&b->model, &options));
    const int64_t image_shape[4] = {batch, c->channels, c->side, c->side};
    TRY(b, b->jvae_tensor_create(&b->images, 4, image_shape));
    bench_fill_pixels(b->jvae_tensor_data(b->images), b->jvae_tensor_numel(b->images), c, 2);
    if (!train) {
        const int64_t mu_shape[2] = {batch, c->n_continuous};
        const int64_t alpha_shape[2] = {batch, c->discrete_size};
        TRY(b, b->jvae_tensor_create(&b->mu, 2, mu_shape));
        TRY(b, b->jvae_tensor_create(&b->logvar, 2, mu_shape));
        TRY(b, b->jvae_tensor_create(&b->alpha, 2, alpha_shape));
        return 0;
    }
    jvae_loss_options loss;
    TRY(b, b->jvae_loss_options_init(&loss));
    loss.mode = JVAE_LOSS_JOINTVAE;
    loss.gamma_continuous = (float)c->cont_capacity[3];
    loss.gamma_discrete = (float)c->disc_capacity[3];
    loss.official_scaling = 1;
    TRY(b, b->jvae_model_set_loss(b->model, &loss));
    TRY(b, b->jvae_model_reserve(b->model, batch));
    jvae_optimizer_options adam;
    TRY(b, b->jvae_optimizer_options_init(&adam));
    TRY(b, b->jvae_optimizer_create(&b->optimizer, b->model, &adam));
    TRY(b, b->jvae_schedule_linear(&b->cap_continuous, c->cont_capacity[0], c->cont_capacity[1],
                                   (int64_t)c->cont_capacity[2]));
    TRY(b, b->jvae_schedule_linear(&b->cap_discrete, c->disc_capacity[0], c->disc_capacity[1],
                                   (int64_t)c->disc_capacity[2]));
    return 0;
}

static void release(build *b)
{
    if (!b->loaded) {
        if (b->handle != NULL) dlclose(b->handle);
        return;
    }
    b->jvae_schedule_free(b->cap_discrete);
    b->jvae_schedule_free(b->cap_continuous);
    b->jvae_optimizer_free(b->optimizer);
    b->jvae_tensor_free(b->alpha);
    b->jvae_tensor_free(b->logvar);
    b->jvae_tensor_free(b->mu);
    b->jvae_tensor_free(b->images);
    b->jvae_model_free(b->model);
    dlclose(b->handle);
}

static int work(build *b, int train, int calls)
{
    for (int i = 0; i < calls; i++) {
        if (train)
            TRY(b, b->jvae_train_step(b->model, b->optimizer, b->cap_continuous, b->cap_discrete,
                                      b->images, &b->terms));
        else
            TRY(b, b->jvae_encode(b->model, b->images, b->mu, b->logvar, b->alpha));
    }
    return 0;
}

/* Seconds that `calls` calls of b take, or a negative value on failure. */
static double timed(build *b, int train, int calls)
{
    const double t0 = now_s();
    if (work(b, train, calls) != 0) return -1.0;
    return now_s() - t0;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double rate_old[MAX_ROUNDS], rate_new[MAX_ROUNDS], ratio[MAX_ROUNDS];

static int compare(build *old, build *new, int train, int batch, double seconds,
                   const char *mode, const bench_config *c, int threads)
{
    /* Warm-up, then calls per window from one timed call of the old build. */
    if (work(old, train, 2) != 0 || work(new, train, 2) != 0) return -1;
    const double one = timed(old, train, 1);
    if (one < 0.0) return -1;
    const int calls = one >= WINDOW_S ? 1 : (int)(WINDOW_S / one);
    int rounds = 0;
    const double start = now_s();
    while (rounds < MAX_ROUNDS && (rounds < 6 || now_s() - start < seconds)) {
        build *first = rounds % 2 ? new : old, *second = rounds % 2 ? old : new;
        const double t_first = timed(first, train, calls), t_second = timed(second, train, calls);
        if (t_first < 0.0 || t_second < 0.0) return -1;
        const double t_old = rounds % 2 ? t_second : t_first;
        const double t_new = rounds % 2 ? t_first : t_second;
        rate_old[rounds] = calls * batch / t_old;
        rate_new[rounds] = calls * batch / t_new;
        ratio[rounds] = t_old / t_new;
        rounds++;
    }
    const double m_old = median(rate_old, rounds), m_new = median(rate_new, rounds);
    const double m_ratio = median(ratio, rounds); /* sorts ratio for the quartiles */
    printf("ab mode=%s config=%c threads=%d batch=%d rounds=%d calls_per_window=%d "
           "old_img_per_s=%.1f new_img_per_s=%.1f new_over_old=%.4f q1=%.4f q3=%.4f old=%s "
           "new=%s\n",
           mode, c->key, threads, batch, rounds, calls, m_old, m_new, m_ratio, ratio[rounds / 4],
           ratio[(3 * rounds) / 4], old->path, new->path);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: jvae-ab OLD.so NEW.so train|encode --config A|B|C "
                    "[--threads T] [--seconds S] [--batch N]\n");
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        usage();
        return 2;
    }
    const char *mode = argv[3];
    const int train = strcmp(mode, "train") == 0;
    if (!train && strcmp(mode, "encode") != 0) {
        usage();
        return 2;
    }
    const bench_config *c = NULL;
    int threads = 1;
    int batch = train ? 64 : 256;
    double seconds = 20.0;
    for (int i = 4; i < argc; i++) {
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        char *end = NULL;
        if (strcmp(argv[i], "--config") == 0) {
            c = config_named(argv[++i]);
        } else if (strcmp(argv[i], "--threads") == 0) {
            const long t = strtol(argv[++i], &end, 10);
            if (*end != '\0' || t < 1 || t > 256) c = NULL, i = argc;
            threads = (int)t;
        } else if (strcmp(argv[i], "--batch") == 0) {
            const long n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || n < 1 || n > 65536) c = NULL, i = argc;
            batch = (int)n;
        } else if (strcmp(argv[i], "--seconds") == 0) {
            seconds = strtod(argv[++i], &end);
            if (*end != '\0' || !(seconds > 0.0 && seconds < 1e6)) c = NULL, i = argc;
        } else {
            c = NULL, i = argc;
        }
    }
    if (c == NULL) {
        usage();
        return 2;
    }
    build old = {0}, new = {0};
    int status = 1;
    if (load(&old, argv[1]) == 0 && load(&new, argv[2]) == 0 &&
        prepare(&old, c, threads, batch, train) == 0 &&
        prepare(&new, c, threads, batch, train) == 0 &&
        compare(&old, &new, train, batch, seconds, mode, c, threads) == 0)
        status = 0;
    release(&new);
    release(&old);
    return status;
}
