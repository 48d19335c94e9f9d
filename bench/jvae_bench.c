/*
 * jvae-bench: times libjointvae's training step and encoder on the three
 * configurations of bench/README.md, and OpenBLAS's sgemm as a ceiling.
 * bench/run.sh runs it beside bench/torch_jointvae.py and prints the table.
 *
 *   jvae-bench train|encode|train,encode --config A|B|C [options]
 *   jvae-bench serve --config A|B|C [options]   (timed windows on request,
 *                                                for bench/paired.py)
 *   jvae-bench sgemm [--size 1024] [options]
 *   jvae-bench flops --config A|B|C
 *
 * Options: --threads T (the model's threads option; default 1),
 *   --blas-threads B (openblas_set_num_threads(B); default: OpenBLAS's own
 *   setting, i.e. OPENBLAS_NUM_THREADS; for sgemm it defaults to T),
 *   --seconds S (timed, default 3), --warmup S (default 1), --window S (default
 *   0.5), --steps N (time exactly N calls in one window after one warm-up call,
 *   for profilers), --train-batch N (64), --encode-batch N (256), --seed N (1).
 *
 * Each measurement prints one line, "result side=ours mode=… key=value …",
 * the format bench/torch_jointvae.py prints too. Throughput is the median over
 * windows of at least --window seconds, taken until --seconds have passed and
 * at least three windows exist, after --warmup seconds of untimed calls: the
 * median keeps a burst of load from another process on the shared machine
 * out of the figure. Training runs first, so the peak RSS (VmHWM) printed on
 * the training line is that of a process that has done nothing but train.
 *
 * Uses only the public header, plus cblas for the sgemm ceiling.
 */
#include <jointvae/jointvae.h>

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_configs.h"

/* ------------------------------------------------------------ FLOP count */

/* Multiply-adds per image of every conv and linear of the official network
 * (reference-implementation.md), counted as the GEMMs compute them: a conv
 * costs out_c·out_h·out_w·in_c·k² (padding taps included), a transposed conv
 * in_c·in_h·in_w·out_c·k², a linear in·out. */
typedef struct flop_count {
    double encoder_macs;      /* convs, features_to_hidden and the heads */
    double decoder_macs;      /* latent_to_features and the transposed convs */
    double first_layer_macs;  /* the first conv: its input needs no gradient */
} flop_count;

static flop_count count_macs(const bench_config *c)
{
    flop_count f = {0.0, 0.0, 0.0};
    const double k2 = 16.0;
    /* Encoder channel sequence and the spatial side after each conv. */
    const int enc32[] = {32, 64, 64}, enc64[] = {32, 32, 64, 64};
    const int *enc = c->side == 64 ? enc64 : enc32;
    const int stages = c->side == 64 ? 4 : 3;
    int in_c = c->channels, side = c->side;
    for (int s = 0; s < stages; s++) {
        side /= 2;
        const double macs = (double)enc[s] * side * side * in_c * k2;
        if (s == 0) f.first_layer_macs = macs;
        f.encoder_macs += macs;
        in_c = enc[s];
    }
    const double hidden = 256.0, features = 1024.0;
    const double latent = c->n_continuous + c->discrete_size;
    f.encoder_macs += features * hidden + hidden * (2.0 * c->n_continuous + c->discrete_size);
    f.decoder_macs += latent * hidden + hidden * features;
    /* Decoder: transposed convs from (64, 4, 4), doubling the side each time. */
    const int dec32[] = {32, 32, 0}, dec64[] = {64, 32, 32, 0};
    const int *dec = c->side == 64 ? dec64 : dec32;
    in_c = 64;
    side = 4;
    for (int s = 0; s < stages; s++) {
        const int out_c = dec[s] == 0 ? c->channels : dec[s];
        f.decoder_macs += (double)in_c * side * side * out_c * k2;
        in_c = out_c;
        side *= 2;
    }
    return f;
}

/* FLOPs of one training image: forward, weight gradients and input gradients
 * (all but the first conv's), 2 FLOPs per multiply-add. */
static double train_flops(const flop_count *f)
{
    const double all = f->encoder_macs + f->decoder_macs;
    return 2.0 * (3.0 * all - f->first_layer_macs);
}

static double encode_flops(const flop_count *f)
{
    return 2.0 * f->encoder_macs;
}

/* ------------------------------------------------------------ measurement */

static double now_s(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    char line[256];
    long value = -1;
    const size_t len = strlen(field);
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            value = strtol(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return value;
}

typedef struct timing_options {
    double warmup_s, seconds, window_s;
    int steps; /* > 0: exactly this many timed calls in one window */
} timing_options;

typedef struct timing {
    double median, low, high; /* items per second over windows */
    long calls;
    double wall_s, cpu_util;
    double per_cpu_s; /* items per second of this process's CPU time: what a run
                         sharing its cores with other processes still measures well
                         when single-threaded (it counts spinning threads too) */
} timing;

typedef int (*work_fn)(void *payload);

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define MAX_WINDOWS 4096

/* Warm up, then time windows of work (each call processes items_per_call
 * items). Returns 0, or -1 when work fails. */
static int time_windows(work_fn work, void *payload, double items_per_call,
                        const timing_options *o, timing *out)
{
    static double rates[MAX_WINDOWS];
    const double start = now_s(CLOCK_MONOTONIC);
    const int warmup_calls_min = o->steps > 0 ? 1 : 2;
    for (int calls = 0;
         calls < warmup_calls_min ||
         (o->steps == 0 && now_s(CLOCK_MONOTONIC) - start < o->warmup_s);
         calls++)
        if (work(payload) != 0) return -1;
    int windows = 0;
    long total = 0;
    const double cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID), t0 = now_s(CLOCK_MONOTONIC);
    while (windows < MAX_WINDOWS &&
           (o->steps > 0 ? windows < 1
                         : windows < 3 || now_s(CLOCK_MONOTONIC) - t0 < o->seconds)) {
        const double w0 = now_s(CLOCK_MONOTONIC);
        long n = 0;
        while (o->steps > 0 ? n < o->steps : n < 1 || now_s(CLOCK_MONOTONIC) - w0 < o->window_s) {
            if (work(payload) != 0) return -1;
            n++;
        }
        rates[windows++] = (double)n * items_per_call / (now_s(CLOCK_MONOTONIC) - w0);
        total += n;
    }
    const double cpu_s = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    out->wall_s = now_s(CLOCK_MONOTONIC) - t0;
    out->cpu_util = cpu_s / out->wall_s;
    out->per_cpu_s = (double)total * items_per_call / cpu_s;
    out->calls = total;
    qsort(rates, (size_t)windows, sizeof rates[0], compare_doubles);
    out->low = rates[0];
    out->high = rates[windows - 1];
    out->median = windows % 2 ? rates[windows / 2]
                              : 0.5 * (rates[windows / 2 - 1] + rates[windows / 2]);
    return 0;
}

/* ------------------------------------------------------------ the model side */

static int report_failure(const char *what, jvae_status status)
{
    fprintf(stderr, "jvae-bench: %s failed: %s: %s\n", what, jvae_status_string(status),
            jvae_last_error());
    return -1;
}

#define TRY(call)                                                   \
    do {                                                            \
        const jvae_status status_ = (call);                         \
        if (status_ != JVAE_OK) return report_failure(#call, status_); \
    } while (0)

static int synthetic_images(jvae_tensor **out, const bench_config *c, int batch, uint64_t seed)
{
    const int64_t shape[4] = {batch, c->channels, c->side, c->side};
    TRY(jvae_tensor_create(out, 4, shape));
    bench_fill_pixels(jvae_tensor_data(*out), jvae_tensor_numel(*out), c, seed);
    return 0;
}

typedef struct train_state {
    jvae_model *model;
    jvae_optimizer *optimizer;
    jvae_schedule *cap_continuous, *cap_discrete;
    jvae_tensor *images;
    jvae_loss_terms terms;
} train_state;

static int train_work(void *payload)
{
    train_state *s = payload;
    TRY(jvae_train_step(s->model, s->optimizer, s->cap_continuous, s->cap_discrete, s->images,
                        &s->terms));
    return 0;
}

typedef struct encode_state {
    jvae_model *model;
    jvae_tensor *images, *mu, *logvar, *alpha;
} encode_state;

static int encode_work(void *payload)
{
    encode_state *s = payload;
    TRY(jvae_encode(s->model, s->images, s->mu, s->logvar, s->alpha));
    return 0;
}

typedef struct run_options {
    const bench_config *config;
    int threads, train_batch, encode_batch;
    uint64_t seed;
    timing_options timing;
} run_options;

static void print_result(const char *mode, const run_options *o, int batch, const timing *t,
                         double flops_per_image)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("result side=ours mode=%s config=%c threads=%d blas_threads=%d batch=%d "
           "img_per_s=%.2f img_per_s_min=%.2f img_per_s_max=%.2f img_per_cpu_s=%.2f calls=%ld "
           "wall_s=%.3f cpu_util=%.2f peak_rss_kb=%ld maxrss_kb=%ld gflop_per_img=%.6f "
           "gflops=%.3f version=%s",
           mode, o->config->key, o->threads, openblas_get_num_threads(), batch, t->median, t->low,
           t->high, t->per_cpu_s, t->calls, t->wall_s, t->cpu_util, status_kb("VmHWM"),
           usage.ru_maxrss,
           flops_per_image * 1e-9, flops_per_image * t->median * 1e-9, jvae_version_string());
}

/* The training state of the official setup: loss, Adam, capacity schedules. */
static int train_setup(train_state *s, jvae_model *model, const run_options *o)
{
    const bench_config *c = o->config;
    *s = (train_state){.model = model};
    jvae_loss_options loss;
    jvae_optimizer_options adam;
    TRY(jvae_loss_options_init(&loss));
    loss.mode = JVAE_LOSS_JOINTVAE;
    loss.gamma_continuous = (float)c->cont_capacity[3];
    loss.gamma_discrete = (float)c->disc_capacity[3];
    loss.official_scaling = 1; /* backpropagate total/(H·W), as the PyTorch side does */
    TRY(jvae_model_set_loss(model, &loss));
    TRY(jvae_model_reserve(model, o->train_batch));
    TRY(jvae_optimizer_options_init(&adam)); /* Adam, lr 5e-4, β (0.9, 0.999), ε 1e-8 */
    if (synthetic_images(&s->images, c, o->train_batch, o->seed + 1) != 0) return -1;
    jvae_status status = jvae_optimizer_create(&s->optimizer, model, &adam);
    if (status == JVAE_OK)
        status = jvae_schedule_linear(&s->cap_continuous, c->cont_capacity[0],
                                      c->cont_capacity[1], (int64_t)c->cont_capacity[2]);
    if (status == JVAE_OK)
        status = jvae_schedule_linear(&s->cap_discrete, c->disc_capacity[0],
                                      c->disc_capacity[1], (int64_t)c->disc_capacity[2]);
    if (status != JVAE_OK) return report_failure("creating the optimizer and schedules", status);
    return 0;
}

static void train_teardown(train_state *s)
{
    jvae_schedule_free(s->cap_discrete);
    jvae_schedule_free(s->cap_continuous);
    jvae_optimizer_free(s->optimizer);
    jvae_tensor_free(s->images);
}

static int run_train(jvae_model *model, const run_options *o)
{
    const bench_config *c = o->config;
    train_state s;
    int result = -1;
    timing t;
    if (train_setup(&s, model, o) == 0 &&
        time_windows(train_work, &s, o->train_batch, &o->timing, &t) == 0) {
        const flop_count f = count_macs(c);
        size_t params_bytes = 0, workspace_bytes = 0;
        jvae_model_memory(model, o->train_batch, &params_bytes, &workspace_bytes);
        print_result("train", o, o->train_batch, &t, train_flops(&f));
        printf(" loss=%.4f params=%lld params_bytes=%zu workspace_bytes=%zu\n",
               s.terms.total / ((double)c->side * c->side),
               (long long)jvae_model_param_count(model), params_bytes, workspace_bytes);
        fflush(stdout);
        result = 0;
    }
    train_teardown(&s);
    return result;
}

static int encode_setup(encode_state *s, jvae_model *model, const run_options *o)
{
    const bench_config *c = o->config;
    const int64_t mu_shape[2] = {o->encode_batch, c->n_continuous};
    const int64_t alpha_shape[2] = {o->encode_batch, c->discrete_size};
    *s = (encode_state){.model = model};
    if (synthetic_images(&s->images, c, o->encode_batch, o->seed + 2) != 0) return -1;
    jvae_status status = jvae_tensor_create(&s->mu, 2, mu_shape);
    if (status == JVAE_OK) status = jvae_tensor_create(&s->logvar, 2, mu_shape);
    if (status == JVAE_OK) status = jvae_tensor_create(&s->alpha, 2, alpha_shape);
    if (status != JVAE_OK) return report_failure("creating the encoding tensors", status);
    return 0;
}

static void encode_teardown(encode_state *s)
{
    jvae_tensor_free(s->alpha);
    jvae_tensor_free(s->logvar);
    jvae_tensor_free(s->mu);
    jvae_tensor_free(s->images);
}

static int run_encode(jvae_model *model, const run_options *o)
{
    encode_state s;
    int result = -1;
    timing t;
    if (encode_setup(&s, model, o) == 0 &&
        time_windows(encode_work, &s, o->encode_batch, &o->timing, &t) == 0) {
        const flop_count f = count_macs(o->config);
        print_result("encode", o, o->encode_batch, &t, encode_flops(&f));
        printf(" mu0=%.4f\n", (double)jvae_tensor_data(s.mu)[0]);
        fflush(stdout);
        result = 0;
    }
    encode_teardown(&s);
    return result;
}

/* `serve`: both states ready, then one timed window per request line on
 * stdin, "train S" or "encode S" (work for at least S seconds and one call),
 * answered with "window mode=… img_per_s=… calls=…"; end of input ends it.
 * bench/paired.py drives this and torch_jointvae.py's serve turn about. */
static int run_serve(jvae_model *model, const run_options *o)
{
    train_state train;
    encode_state encode = {0};
    int result = -1;
    if (train_setup(&train, model, o) == 0 && encode_setup(&encode, model, o) == 0) {
        printf("ready side=ours config=%c threads=%d\n", o->config->key, o->threads);
        fflush(stdout);
        char line[64], mode[16];
        double seconds;
        result = 0;
        while (result == 0 && fgets(line, sizeof line, stdin) != NULL) {
            if (sscanf(line, "%15s %lf", mode, &seconds) != 2 || !(seconds >= 0.0)) {
                fprintf(stderr, "jvae-bench: bad request '%s'\n", line);
                result = -1;
                break;
            }
            const int training = strcmp(mode, "train") == 0;
            if (!training && strcmp(mode, "encode") != 0) {
                fprintf(stderr, "jvae-bench: bad mode '%s'\n", mode);
                result = -1;
                break;
            }
            const double t0 = now_s(CLOCK_MONOTONIC);
            long calls = 0;
            do {
                result = training ? train_work(&train) : encode_work(&encode);
                calls++;
            } while (result == 0 && now_s(CLOCK_MONOTONIC) - t0 < seconds);
            const double batch = training ? o->train_batch : o->encode_batch;
            printf("window mode=%s img_per_s=%.2f calls=%ld\n", mode,
                   (double)calls * batch / (now_s(CLOCK_MONOTONIC) - t0), calls);
            fflush(stdout);
        }
    }
    encode_teardown(&encode);
    train_teardown(&train);
    return result;
}

static int run_model(const char *modes, const run_options *o)
{
    const bench_config *c = o->config;
    jvae_model_options options;
    jvae_model *model = NULL;
    TRY(jvae_model_options_init(&options));
    options.channels = c->channels;
    options.height = options.width = c->side;
    options.n_continuous = c->n_continuous;
    options.n_discrete = 1;
    options.discrete_sizes[0] = c->discrete_size;
    options.seed = o->seed;
    options.threads = o->threads;
    TRY(jvae_model_create(&model, &options));
    int result = 0;
    const char *mode = modes;
    while (result == 0 && *mode != '\0') {
        const size_t len = strcspn(mode, ",");
        if (len == 5 && strncmp(mode, "train", 5) == 0)
            result = run_train(model, o);
        else if (len == 5 && strncmp(mode, "serve", 5) == 0)
            result = run_serve(model, o);
        else if (len == 6 && strncmp(mode, "encode", 6) == 0)
            result = run_encode(model, o);
        else {
            fprintf(stderr, "jvae-bench: unknown mode '%.*s'\n", (int)len, mode);
            result = -1;
        }
        mode += len;
        if (*mode == ',') mode++;
    }
    jvae_model_free(model);
    return result;
}

/* ------------------------------------------------------------ the sgemm ceiling */

typedef struct sgemm_state {
    int n;
    float *a, *b, *c;
} sgemm_state;

static int sgemm_work(void *payload)
{
    sgemm_state *s = payload;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->n, s->n, s->n, 1.0f, s->a, s->n,
                s->b, s->n, 0.0f, s->c, s->n);
    return 0;
}

static int run_sgemm(int n, int threads, const timing_options *timing_opts)
{
    const size_t count = (size_t)n * (size_t)n;
    sgemm_state s = {n, malloc(count * sizeof(float)), malloc(count * sizeof(float)),
                     malloc(count * sizeof(float))};
    int result = -1;
    if (s.a == NULL || s.b == NULL || s.c == NULL) {
        fprintf(stderr, "jvae-bench: out of memory for a %d^3 sgemm\n", n);
    } else {
        uint64_t seed = 7;
        for (size_t i = 0; i < count; i++) {
            s.a[i] = (float)(next_bits(&seed) >> 40) * 0x1.0p-24f - 0.5f;
            s.b[i] = (float)(next_bits(&seed) >> 40) * 0x1.0p-24f - 0.5f;
        }
        timing t = {0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0};
        const double flops = 2.0 * (double)n * n * n;
        time_windows(sgemm_work, &s, 1.0, timing_opts, &t); /* sgemm_work cannot fail */
        printf("result side=ours mode=sgemm threads=%d blas_threads=%d size=%d gflops=%.3f "
               "gflops_min=%.3f gflops_max=%.3f gflops_per_cpu_s=%.3f calls=%ld wall_s=%.3f "
               "cpu_util=%.2f blas_config=\"%s\"\n",
               threads, openblas_get_num_threads(), n, t.median * flops * 1e-9,
               t.low * flops * 1e-9, t.high * flops * 1e-9, t.per_cpu_s * flops * 1e-9, t.calls,
               t.wall_s, t.cpu_util,
               openblas_get_config());
        fflush(stdout);
        result = 0;
    }
    free(s.a);
    free(s.b);
    free(s.c);
    return result;
}

/* ------------------------------------------------------------ command line */

static void usage(void)
{
    fprintf(stderr,
            "usage: jvae-bench train|encode|train,encode --config A|B|C [options]\n"
            "       jvae-bench serve --config A|B|C [options]\n"
            "       jvae-bench sgemm [--size N] [options]\n"
            "       jvae-bench flops --config A|B|C\n"
            "options: --threads T --blas-threads B --seconds S --warmup S --window S\n"
            "         --steps N --train-batch N --encode-batch N --seed N\n");
}

static int parse_int(const char *text, int low, int *out)
{
    char *end;
    const long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value < low || value > 1000000) return -1;
    *out = (int)value;
    return 0;
}

static int parse_seconds(const char *text, double *out)
{
    char *end;
    const double value = strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !(value >= 0.0) || value > 3600.0) return -1;
    *out = value;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *modes = argv[1];
    run_options o = {NULL, 1, 64, 256, 1, {1.0, 3.0, 0.5, 0}};
    int blas_threads = 0, size = 1024, seed = 1;
    for (int i = 2; i < argc; i += 2) { /* flag, value */
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (value == NULL) {
            bad = 1;
        } else if (strcmp(flag, "--config") == 0) {
            o.config = config_named(value);
            bad = o.config == NULL;
        } else if (strcmp(flag, "--threads") == 0) {
            bad = parse_int(value, 1, &o.threads);
        } else if (strcmp(flag, "--blas-threads") == 0) {
            bad = parse_int(value, 1, &blas_threads);
        } else if (strcmp(flag, "--seconds") == 0) {
            bad = parse_seconds(value, &o.timing.seconds);
        } else if (strcmp(flag, "--warmup") == 0) {
            bad = parse_seconds(value, &o.timing.warmup_s);
        } else if (strcmp(flag, "--window") == 0) {
            bad = parse_seconds(value, &o.timing.window_s);
        } else if (strcmp(flag, "--steps") == 0) {
            bad = parse_int(value, 1, &o.timing.steps);
        } else if (strcmp(flag, "--train-batch") == 0) {
            bad = parse_int(value, 1, &o.train_batch);
        } else if (strcmp(flag, "--encode-batch") == 0) {
            bad = parse_int(value, 1, &o.encode_batch);
        } else if (strcmp(flag, "--size") == 0) {
            bad = parse_int(value, 1, &size) || size > 16384;
        } else if (strcmp(flag, "--seed") == 0) {
            bad = parse_int(value, 0, &seed);
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "jvae-bench: bad option %s %s\n", flag, value ? value : "");
            usage();
            return 2;
        }
    }
    o.seed = (uint64_t)seed;
    if (strcmp(modes, "sgemm") == 0) {
        openblas_set_num_threads(blas_threads > 0 ? blas_threads : o.threads);
        return run_sgemm(size, o.threads, &o.timing) == 0 ? 0 : 1;
    }
    if (o.config == NULL) {
        fprintf(stderr, "jvae-bench: --config A|B|C is required\n");
        usage();
        return 2;
    }
    if (strcmp(modes, "flops") == 0) {
        const flop_count f = count_macs(o.config);
        printf("result mode=flops config=%c train_gflop_per_img=%.6f encode_gflop_per_img=%.6f "
               "encoder_mmac=%.4f decoder_mmac=%.4f first_layer_mmac=%.4f\n",
               o.config->key, train_flops(&f) * 1e-9, encode_flops(&f) * 1e-9,
               f.encoder_macs * 1e-6, f.decoder_macs * 1e-6, f.first_layer_macs * 1e-6);
        return 0;
    }
    if (blas_threads > 0) openblas_set_num_threads(blas_threads);
    return run_model(modes, &o) == 0 ? 0 : 1;
}
