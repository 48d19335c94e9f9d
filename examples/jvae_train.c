/*
 * jvae-train: train a JointVAE on real data, watch it learn, never lose the work.
 *
 *   jvae-train                                  the demo: generated dSprites, a few minutes
 *   jvae-train --preset mnist --data DIR --out runs/mnist
 *   jvae-train --resume runs/mnist              continue an interrupted run exactly
 *
 * In --out DIR it writes settings.json at the start, log.csv as it goes, a
 * checkpoint every --checkpoint-every steps and on Ctrl-C/SIGTERM, and at the
 * end model.safetensors and the main pictures. It uses only the public header.
 */
#include <jointvae/jointvae.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ settings */

typedef struct settings {
    char preset[32];
    char data[1024];
    char out[1024];
    int continuous;
    char discrete[256]; /* comma-separated sizes, "" for none */
    double cap_continuous[3]; /* C_min, C_max, iterations */
    double cap_discrete[3];
    double gamma_continuous, gamma_discrete;
    char loss[16]; /* jointvae | beta | capacity */
    double beta, gamma;
    int official_scaling;
    double lr;
    int batch;
    long long iters;
    int epochs;
    unsigned long long seed;
    int threads;
    double temperature;
    int hidden;
    long long checkpoint_every;
    long long log_every;
} settings;

typedef enum { KIND_INT, KIND_LONG, KIND_ULONG, KIND_DOUBLE, KIND_STRING, KIND_TRIPLE } value_kind;

typedef struct option_spec {
    const char *name;
    value_kind kind;
    size_t offset;
    size_t size; /* for strings */
    const char *help;
} option_spec;

#define OPT(name, kind, field, help) \
    { name, kind, offsetof(settings, field), sizeof(((settings *)0)->field), help }

/* The names of these options are also the keys of settings.json, which is how
 * --resume reads a run's settings back: one parser for both. */
static const option_spec option_specs[] = {
    OPT("preset", KIND_STRING, preset, "mnist|fashion-mnist|dsprites|chairs|celeba|demo"),
    OPT("data", KIND_STRING, data, "data path (IDX folder or prefix, image folder)"),
    OPT("out", KIND_STRING, out, "output folder"),
    OPT("continuous", KIND_INT, continuous, "number of continuous latents"),
    OPT("discrete", KIND_STRING, discrete, "discrete sizes, e.g. 10 or 2,2,2 ('' for none)"),
    OPT("cap-continuous", KIND_TRIPLE, cap_continuous, "C_min,C_max,iterations"),
    OPT("cap-discrete", KIND_TRIPLE, cap_discrete, "C_min,C_max,iterations"),
    OPT("gamma-continuous", KIND_DOUBLE, gamma_continuous, "gamma of the continuous term"),
    OPT("gamma-discrete", KIND_DOUBLE, gamma_discrete, "gamma of the discrete term"),
    OPT("loss", KIND_STRING, loss, "jointvae|beta|capacity"),
    OPT("beta", KIND_DOUBLE, beta, "beta of the beta-VAE loss"),
    OPT("gamma", KIND_DOUBLE, gamma, "gamma of the CCbeta-VAE loss (capacity from --cap-continuous)"),
    OPT("official-scaling", KIND_INT, official_scaling, "1: the official code's loss scaling"),
    OPT("lr", KIND_DOUBLE, lr, "Adam learning rate"),
    OPT("batch", KIND_INT, batch, "batch size"),
    OPT("iters", KIND_LONG, iters, "training steps (overrides --epochs)"),
    OPT("epochs", KIND_INT, epochs, "training epochs (when --iters is 0)"),
    OPT("seed", KIND_ULONG, seed, "seed of the model, noise and data order"),
    OPT("threads", KIND_INT, threads, "worker threads"),
    OPT("temperature", KIND_DOUBLE, temperature, "Gumbel-softmax temperature"),
    OPT("hidden", KIND_INT, hidden, "hidden width"),
    OPT("checkpoint-every", KIND_LONG, checkpoint_every, "steps between checkpoints"),
    OPT("log-every", KIND_LONG, log_every, "steps averaged into one log.csv row"),
};
#define OPTION_COUNT (sizeof option_specs / sizeof option_specs[0])

typedef struct preset {
    const char *name;
    int channels, side;
    int continuous;
    const char *discrete;
    double cap_continuous[3], gamma_continuous;
    double cap_discrete[3], gamma_discrete;
    double lr;
    int epochs;
    long long iters;
    const char *default_data;
} preset;

/* Appendix C of the paper (and the official code's settings). The demo is the
 * dSprites model on a schedule compressed to a few minutes of training. */
static const preset presets[] = {
    {"mnist", 1, 32, 10, "10", {0, 5, 25000}, 30, {0, 5, 25000}, 30, 5e-4, 100, 0, NULL},
    {"fashion-mnist", 1, 32, 10, "10", {0, 5, 50000}, 100, {0, 10, 50000}, 100, 5e-4, 100, 0,
     "/usr/share/datasets/fashion-mnist"},
    {"dsprites", 1, 64, 6, "3", {0, 40, 300000}, 150, {0, 1.1, 300000}, 150, 5e-4, 30, 0, NULL},
    {"chairs", 1, 64, 32, "2,2,2", {0, 30, 100000}, 300, {0, 5, 100000}, 300, 1e-4, 100, 0, NULL},
    {"celeba", 3, 64, 32, "10", {0, 50, 100000}, 100, {0, 10, 100000}, 100, 5e-4, 100, 0, NULL},
    {"demo", 1, 64, 6, "3", {0, 20, 1500}, 150, {0, 1.1, 1500}, 150, 1e-3, 0, 1500, NULL},
};

static const preset *find_preset(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0) return &presets[i];
    return NULL;
}

static void apply_preset(settings *s, const preset *p)
{
    snprintf(s->preset, sizeof s->preset, "%s", p->name);
    s->continuous = p->continuous;
    snprintf(s->discrete, sizeof s->discrete, "%s", p->discrete);
    memcpy(s->cap_continuous, p->cap_continuous, sizeof s->cap_continuous);
    memcpy(s->cap_discrete, p->cap_discrete, sizeof s->cap_discrete);
    s->gamma_continuous = p->gamma_continuous;
    s->gamma_discrete = p->gamma_discrete;
    s->lr = p->lr;
    s->epochs = p->epochs;
    s->iters = p->iters;
    if (p->default_data) snprintf(s->data, sizeof s->data, "%s", p->default_data);
}

static void default_settings(settings *s)
{
    memset(s, 0, sizeof *s);
    apply_preset(s, find_preset("demo"));
    snprintf(s->out, sizeof s->out, "jvae-demo");
    snprintf(s->loss, sizeof s->loss, "jointvae");
    s->beta = 4;
    s->gamma = 30;
    s->batch = 64;
    s->seed = 1;
    s->threads = 2;
    s->temperature = 0.67;
    s->hidden = 256;
    s->checkpoint_every = 1000;
    s->log_every = 50;
}

static void fail(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("jvae-train: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    exit(2);
}

static const option_spec *find_option(const char *name)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strcmp(option_specs[i].name, name) == 0) return &option_specs[i];
    return NULL;
}

static void set_option(settings *s, const option_spec *o, const char *value)
{
    char *field = (char *)s + o->offset;
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case KIND_INT: {
        long v = strtol(value, &end, 10);
        if (errno || *end || end == value || v < -2147483647L || v > 2147483647L)
            fail("--%s: '%s' is not an integer", o->name, value);
        *(int *)field = (int)v;
        break;
    }
    case KIND_LONG: {
        long long v = strtoll(value, &end, 10);
        if (errno || *end || end == value) fail("--%s: '%s' is not an integer", o->name, value);
        *(long long *)field = v;
        break;
    }
    case KIND_ULONG: {
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || *end || end == value || value[0] == '-')
            fail("--%s: '%s' is not a non-negative integer", o->name, value);
        *(unsigned long long *)field = v;
        break;
    }
    case KIND_DOUBLE: {
        double v = strtod(value, &end);
        if (errno || *end || end == value || !isfinite(v))
            fail("--%s: '%s' is not a number", o->name, value);
        *(double *)field = v;
        break;
    }
    case KIND_STRING:
        if (strlen(value) >= o->size) fail("--%s: value too long", o->name);
        memcpy(field, value, strlen(value) + 1);
        break;
    case KIND_TRIPLE: {
        double *t = (double *)field;
        const char *p = value;
        for (int i = 0; i < 3; i++) {
            t[i] = strtod(p, &end);
            if (end == p || !isfinite(t[i]) || (i < 2 && *end != ',') || (i == 2 && *end))
                fail("--%s: expected C_min,C_max,iterations, got '%s'", o->name, value);
            p = end + 1;
        }
        break;
    }
    }
}

static void format_option(char *buf, size_t size, const settings *s, const option_spec *o)
{
    const char *field = (const char *)s + o->offset;
    switch (o->kind) {
    case KIND_INT: snprintf(buf, size, "%d", *(const int *)field); break;
    case KIND_LONG: snprintf(buf, size, "%lld", *(const long long *)field); break;
    case KIND_ULONG: snprintf(buf, size, "%llu", *(const unsigned long long *)field); break;
    case KIND_DOUBLE: snprintf(buf, size, "%.17g", *(const double *)field); break;
    case KIND_STRING: snprintf(buf, size, "%s", field); break;
    case KIND_TRIPLE: {
        const double *t = (const double *)field;
        snprintf(buf, size, "%.17g,%.17g,%.17g", t[0], t[1], t[2]);
        break;
    }
    }
}

/* ------------------------------------------------------------ files */

static void path_join(char *buf, size_t size, const char *dir, const char *name)
{
    if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size) fail("path too long: %s", dir);
}

/* Write `text` to path through a temporary file renamed into place. */
static void write_file_atomic(const char *path, const char *text)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) fail("cannot write %s: %s", tmp, strerror(errno));
    int ok = fputs(text, f) >= 0;
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fileno(f)) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        fail("cannot write %s: %s", path, strerror(errno));
    }
}

static void json_string(char *out, size_t size, const char *value)
{
    size_t used = 0;
    out[used++] = '"';
    for (const char *p = value; *p && used + 8 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            out[used++] = '\\';
            out[used++] = (char)c;
        } else if (c < 0x20) {
            used += (size_t)snprintf(out + used, size - used, "\\u%04x", c);
        } else {
            out[used++] = (char)c;
        }
    }
    out[used++] = '"';
    out[used] = '\0';
}

/* settings.json: one "option": value per line, the option names of the command line. */
static void write_settings(const settings *s)
{
    char text[16384], value[2048], quoted[4200], path[1100];
    size_t used = (size_t)snprintf(text, sizeof text, "{\n  \"library_version\": \"%s\"",
                                   jvae_version_string());
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option_spec *o = &option_specs[i];
        format_option(value, sizeof value, s, o);
        int is_text = o->kind == KIND_STRING || o->kind == KIND_TRIPLE;
        json_string(quoted, sizeof quoted, value);
        used += (size_t)snprintf(text + used, sizeof text - used, ",\n  \"%s\": %s", o->name,
                                 is_text ? quoted : value);
    }
    snprintf(text + used, sizeof text - used, "\n}\n");
    path_join(path, sizeof path, s->out, "settings.json");
    write_file_atomic(path, text);
}

/* Reads back exactly what write_settings writes (one key per line). */
static void read_settings(settings *s, const char *dir)
{
    char path[1100], line[4400];
    path_join(path, sizeof path, dir, "settings.json");
    FILE *f = fopen(path, "r");
    if (f == NULL) fail("--resume: cannot read %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        char *key = strchr(line, '"');
        if (key == NULL) continue;
        char *key_end = strchr(key + 1, '"');
        if (key_end == NULL || key_end[1] != ':') fail("%s: malformed line: %s", path, line);
        *key_end = '\0';
        const option_spec *o = find_option(key + 1);
        if (o == NULL) continue; /* e.g. library_version */
        char *v = key_end + 2;
        while (*v == ' ') v++;
        char value[2048];
        size_t n = 0;
        if (*v == '"') {
            for (v++; *v && *v != '"' && n + 1 < sizeof value; v++) {
                if (*v == '\\' && v[1] == 'u') {
                    value[n++] = (char)strtol((char[]){v[2], v[3], v[4], v[5], 0}, NULL, 16);
                    v += 5;
                } else {
                    if (*v == '\\') v++;
                    value[n++] = *v;
                }
            }
        } else {
            while (*v && *v != ',' && *v != '\n' && n + 1 < sizeof value) value[n++] = *v++;
        }
        value[n] = '\0';
        set_option(s, o, value);
    }
    fclose(f);
}

/* ------------------------------------------------------------ data and model */

static jvae_dataset *open_data(const settings *s, const preset *p)
{
    jvae_dataset *data = NULL;
    jvae_status st;
    if (strcmp(p->name, "dsprites") == 0 || strcmp(p->name, "demo") == 0) {
        st = jvae_dataset_dsprites(&data);
    } else if (strcmp(p->name, "mnist") == 0 || strcmp(p->name, "fashion-mnist") == 0) {
        if (s->data[0] == '\0') fail("--preset %s needs --data (folder or file prefix)", p->name);
        jvae_idx_options idx;
        jvae_idx_options_init(&idx);
        idx.resize = 32;
        /* A folder holding train-images-idx3-ubyte[.gz], or a prefix such as DIR/train. */
        struct stat info;
        char prefix[1100];
        if (stat(s->data, &info) == 0 && S_ISDIR(info.st_mode))
            path_join(prefix, sizeof prefix, s->data, "train");
        else
            snprintf(prefix, sizeof prefix, "%s", s->data);
        st = jvae_dataset_idx_open_prefix(&data, prefix, &idx);
    } else {
        if (s->data[0] == '\0') fail("--preset %s needs --data (an image folder)", p->name);
        jvae_folder_options folder;
        jvae_folder_options_init(&folder);
        folder.size = p->side;
        folder.channels = p->channels;
        st = jvae_dataset_folder_open(&data, s->data, &folder);
    }
    if (st != JVAE_OK) fail("cannot open the data: %s", jvae_last_error());
    return data;
}

static void parse_discrete(jvae_model_options *m, const char *text)
{
    m->n_discrete = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long k = strtol(p, &end, 10);
        if (end == p || k < 2 || k > 1000000 || (*end && *end != ','))
            fail("--discrete: expected sizes >= 2 separated by commas, got '%s'", text);
        if (m->n_discrete == JVAE_MAX_DISCRETE) fail("--discrete: at most %d variables", JVAE_MAX_DISCRETE);
        m->discrete_sizes[m->n_discrete++] = (int)k;
        p = *end ? end + 1 : end;
    }
}

static jvae_loss_mode parse_loss(const char *name)
{
    if (strcmp(name, "jointvae") == 0) return JVAE_LOSS_JOINTVAE;
    if (strcmp(name, "beta") == 0) return JVAE_LOSS_BETA_VAE;
    if (strcmp(name, "capacity") == 0) return JVAE_LOSS_CAPACITY;
    fail("--loss: expected jointvae, beta or capacity, got '%s'", name);
    return JVAE_LOSS_JOINTVAE;
}

static void check(jvae_status st, const char *what)
{
    if (st != JVAE_OK) fail("%s: %s (%s)", what, jvae_last_error(), jvae_status_string(st));
}

/* ------------------------------------------------------------ progress */

static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig) { stop_signal = sig; }

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void format_duration(char *buf, size_t size, double seconds)
{
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

static void show_progress(int tty, long long step, long long total, double rate,
                          const jvae_loss_terms *t)
{
    char eta[32];
    format_duration(eta, sizeof eta, rate > 0 ? (double)(total - step) / rate : 0);
    if (tty) {
        char bar[26];
        int filled = (int)(25.0 * (double)step / (double)total);
        for (int i = 0; i < 25; i++) bar[i] = i < filled ? '=' : ' ';
        bar[25] = '\0';
        fprintf(stderr,
                "\r%lld/%lld [%s] %.1f it/s ETA %s  loss %.1f rec %.1f kl_z %.2f kl_c %.2f   ",
                step, total, bar, rate, eta, t->total, t->reconstruction, t->kl_continuous,
                t->kl_discrete);
    } else {
        fprintf(stderr,
                "step %lld/%lld  %.1f it/s  ETA %s  loss %.2f  rec %.2f  kl_z %.3f  kl_c %.3f  "
                "C_z %.2f  C_c %.2f\n",
                step, total, rate, eta, t->total, t->reconstruction, t->kl_continuous,
                t->kl_discrete, t->capacity_continuous, t->capacity_discrete);
    }
    fflush(stderr);
}

/* ------------------------------------------------------------ log.csv */

typedef struct log_state {
    FILE *file;
    int n_z, n_c;
    long long count;
    double sums[8];
    double *kl_sums; /* n_z + n_c */
    float *kl_step;
} log_state;

static void log_header(FILE *f, int n_z, int n_c)
{
    fprintf(f, "step,epoch,reconstruction,kl_continuous,kl_discrete,capacity_continuous,"
               "capacity_discrete,capacity_term_continuous,capacity_term_discrete,total");
    for (int i = 0; i < n_z; i++) fprintf(f, ",kl_z%d", i);
    for (int i = 0; i < n_c; i++) fprintf(f, ",kl_c%d", i);
    fprintf(f, ",elapsed_s\n");
}

/* Open log.csv for appending rows after `step`; rows of a later step (written
 * after the checkpoint we resume from) are dropped, through a rewrite. */
static void log_open(log_state *log, const char *dir, int n_z, int n_c, long long step)
{
    char path[1100], tmp[1200];
    path_join(path, sizeof path, dir, "log.csv");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (out == NULL) fail("cannot write %s: %s", tmp, strerror(errno));
    log_header(out, n_z, n_c);
    FILE *in = step > 0 ? fopen(path, "r") : NULL;
    if (in) {
        char line[8192];
        if (fgets(line, sizeof line, in) == NULL) line[0] = '\0';
        while (fgets(line, sizeof line, in))
            if (atoll(line) <= step) fputs(line, out);
        fclose(in);
    }
    if (fflush(out) != 0 || fclose(out) != 0 || rename(tmp, path) != 0)
        fail("cannot write %s: %s", path, strerror(errno));
    log->file = fopen(path, "a");
    if (log->file == NULL) fail("cannot append to %s: %s", path, strerror(errno));
    log->n_z = n_z;
    log->n_c = n_c;
    log->count = 0;
    memset(log->sums, 0, sizeof log->sums);
    log->kl_sums = calloc((size_t)(n_z + n_c) + 1, sizeof(double));
    log->kl_step = calloc((size_t)(n_z + n_c) + 1, sizeof(float));
    if (log->kl_sums == NULL || log->kl_step == NULL) fail("out of memory");
}

static void log_add(log_state *log, jvae_model *model, const jvae_loss_terms *t)
{
    const double values[8] = {t->reconstruction, t->kl_continuous, t->kl_discrete,
                              t->capacity_continuous, t->capacity_discrete,
                              t->capacity_term_continuous, t->capacity_term_discrete, t->total};
    for (int i = 0; i < 8; i++) log->sums[i] += values[i];
    check(jvae_model_kl_per_unit(model, log->n_z ? log->kl_step : NULL, log->n_z,
                                 log->n_c ? log->kl_step + log->n_z : NULL, log->n_c),
          "per-unit KL");
    for (int i = 0; i < log->n_z + log->n_c; i++) log->kl_sums[i] += log->kl_step[i];
    log->count++;
}

/* One row: the means over the steps since the last row. */
static void log_flush(log_state *log, long long step, long long epoch, double elapsed)
{
    if (log->count == 0) return;
    double n = (double)log->count;
    fprintf(log->file, "%lld,%lld", step, epoch);
    for (int i = 0; i < 8; i++) fprintf(log->file, ",%.9g", log->sums[i] / n);
    for (int i = 0; i < log->n_z + log->n_c; i++) fprintf(log->file, ",%.9g", log->kl_sums[i] / n);
    fprintf(log->file, ",%.3f\n", elapsed);
    fflush(log->file);
    log->count = 0;
    memset(log->sums, 0, sizeof log->sums);
    memset(log->kl_sums, 0, (size_t)(log->n_z + log->n_c) * sizeof(double));
}

static void log_close(log_state *log)
{
    if (log->file) fclose(log->file);
    free(log->kl_sums);
    free(log->kl_step);
}

/* ------------------------------------------------------------ main */

static void usage(void)
{
    printf("usage: jvae-train [--preset NAME] [--data PATH] [--out DIR] [options]\n"
           "       jvae-train --resume DIR [--iters N] [--threads N]\n\n"
           "With no arguments: a short demo on generated dSprites, written to ./jvae-demo.\n\n");
    for (size_t i = 0; i < OPTION_COUNT; i++)
        printf("  --%-18s %s\n", option_specs[i].name, option_specs[i].help);
    printf("  --%-18s %s\n", "resume DIR", "continue the run in DIR from its checkpoint");
}

int main(int argc, char **argv)
{
    settings s;
    default_settings(&s);
    const char *resume = NULL;

    /* The preset sets defaults; explicit options then override, whatever their order. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
        if (strcmp(argv[i], "--resume") == 0 && i + 1 < argc) resume = argv[++i];
        else if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc) {
            const preset *p = find_preset(argv[++i]);
            if (p == NULL) fail("--preset: unknown preset '%s'", argv[i]);
            apply_preset(&s, p);
            snprintf(s.out, sizeof s.out, "jvae-%s", p->name);
        }
    }
    if (resume) {
        read_settings(&s, resume);
        snprintf(s.out, sizeof s.out, "%s", resume);
    }
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) fail("unexpected argument '%s' (see --help)", argv[i]);
        if (strcmp(argv[i], "--resume") == 0 || strcmp(argv[i], "--preset") == 0) {
            i++;
            continue;
        }
        const option_spec *o = find_option(argv[i] + 2);
        if (o == NULL) fail("unknown option '%s' (see --help)", argv[i]);
        if (i + 1 >= argc) fail("%s needs a value", argv[i]);
        if (resume && (strcmp(o->name, "out") == 0 || strcmp(o->name, "preset") == 0))
            fail("%s cannot change on --resume", argv[i]);
        set_option(&s, o, argv[++i]);
    }
    const preset *p = find_preset(s.preset);
    if (p == NULL) fail("unknown preset '%s'", s.preset);
    if (s.batch < 1) fail("--batch must be >= 1");
    if (s.threads < 1) fail("--threads must be >= 1");
    if (s.checkpoint_every < 1 || s.log_every < 1) fail("--checkpoint-every and --log-every must be >= 1");
    if (s.cap_continuous[2] < 1 || s.cap_discrete[2] < 1) fail("capacity iterations must be >= 1");

    /* This program owns its process: the kernels' own threads do the splitting,
     * and a multi-threaded BLAS under them only contends for the same cores. */
    check(jvae_blas_set_threads(1), "BLAS threads");

    if (mkdir(s.out, 0777) != 0 && errno != EEXIST) fail("cannot create %s: %s", s.out, strerror(errno));

    jvae_dataset *data = open_data(&s, p);
    int channels, height, width;
    check(jvae_dataset_image_shape(data, &channels, &height, &width), "data");

    jvae_loader_options lo;
    jvae_loader_options_init(&lo);
    lo.batch_size = s.batch;
    lo.drop_last = 1;
    lo.seed = s.seed;
    jvae_loader *loader = NULL;
    check(jvae_loader_create(&loader, data, &lo), "loader");
    long long per_epoch = (long long)jvae_loader_batches_per_epoch(loader);
    long long total = s.iters > 0 ? s.iters : (long long)s.epochs * per_epoch;
    if (total < 1) fail("nothing to train: set --iters or --epochs");

    jvae_model *model = NULL;
    jvae_optimizer *optimizer = NULL;
    char checkpoint_path[1100], model_path[1100];
    path_join(checkpoint_path, sizeof checkpoint_path, s.out, "checkpoint.safetensors");
    path_join(model_path, sizeof model_path, s.out, "model.safetensors");
    if (resume) {
        check(jvae_checkpoint_load(&model, &optimizer, checkpoint_path), "--resume");
        check(jvae_model_set_threads(model, s.threads), "threads");
        check(jvae_optimizer_set_learning_rate(optimizer, (float)s.lr), "lr");
    } else {
        jvae_model_options mo;
        jvae_model_options_init(&mo);
        mo.channels = channels;
        mo.height = height;
        mo.width = width;
        mo.n_continuous = s.continuous;
        parse_discrete(&mo, s.discrete);
        mo.temperature = (float)s.temperature;
        mo.hidden = s.hidden;
        mo.seed = s.seed;
        mo.threads = s.threads;
        check(jvae_model_create(&model, &mo), "model");
        jvae_optimizer_options oo;
        jvae_optimizer_options_init(&oo);
        oo.learning_rate = (float)s.lr;
        check(jvae_optimizer_create(&optimizer, model, &oo), "optimizer");
    }
    jvae_loss_options loss;
    jvae_loss_options_init(&loss);
    loss.mode = parse_loss(s.loss);
    loss.gamma_continuous = (float)s.gamma_continuous;
    loss.gamma_discrete = (float)s.gamma_discrete;
    loss.beta = (float)s.beta;
    loss.gamma = (float)s.gamma;
    loss.official_scaling = s.official_scaling;
    check(jvae_model_set_loss(model, &loss), "loss");
    check(jvae_model_reserve(model, s.batch), "reserve");

    jvae_model_options mo;
    check(jvae_model_get_options(model, &mo), "model");
    jvae_schedule *cap_z = NULL, *cap_c = NULL;
    check(jvae_schedule_linear(&cap_z, s.cap_continuous[0], s.cap_continuous[1],
                               (int64_t)s.cap_continuous[2]), "--cap-continuous");
    check(jvae_schedule_linear(&cap_c, s.cap_discrete[0], s.cap_discrete[1],
                               (int64_t)s.cap_discrete[2]), "--cap-discrete");

    long long step = (long long)jvae_optimizer_step_count(optimizer);
    check(jvae_loader_seek(loader, step / per_epoch, step % per_epoch), "loader");
    write_settings(&s);
    log_state log = {0};
    log_open(&log, s.out, mo.n_continuous, mo.n_discrete, step);

    int64_t shape[4] = {s.batch, channels, height, width};
    jvae_tensor *images = NULL;
    check(jvae_tensor_create(&images, 4, shape), "batch");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int tty = isatty(fileno(stderr));
    long long report_every = tty ? 1 : (total < 2000 ? 50 : 500);
    fprintf(stderr, "jvae-train: %s, %dx%dx%d, %d continuous, discrete [%s], %lld steps of %d -> %s\n",
            p->name, channels, height, width, mo.n_continuous, s.discrete, total, s.batch, s.out);
    double start = now_seconds(), last_report = start;
    long long first_step = step;
    jvae_loss_terms terms = {0};
    int status = 0;
    while (step < total && !stop_signal) {
        int count = 0;
        check(jvae_loader_next(loader, images, NULL, &count), "data");
        if (count == 0) continue; /* an epoch ended; the loader is at the next one */
        jvae_status st = jvae_train_step(model, optimizer, cap_z, cap_c, images, &terms);
        if (st != JVAE_OK) {
            fprintf(stderr, "\njvae-train: step %lld failed: %s (%s); the checkpoint of the last "
                    "good step is kept\n", step + 1, jvae_last_error(), jvae_status_string(st));
            status = 1;
            break;
        }
        step++;
        log_add(&log, model, &terms);
        double now = now_seconds();
        if (step % s.log_every == 0 || step == total) log_flush(&log, step, step / per_epoch, now - start);
        if (step % report_every == 0 || step == total) {
            if (!tty || now - last_report > 0.2 || step == total) {
                show_progress(tty, step, total, (double)(step - first_step) / (now - start), &terms);
                last_report = now;
            }
        }
        if (step % s.checkpoint_every == 0 && step < total)
            check(jvae_checkpoint_save(checkpoint_path, model, optimizer), "checkpoint");
    }
    if (tty) fputc('\n', stderr);
    log_flush(&log, step, step / per_epoch, now_seconds() - start);
    log_close(&log);
    /* The checkpoint always matches the last completed step, so --resume continues exactly. */
    check(jvae_checkpoint_save(checkpoint_path, model, optimizer), "checkpoint");
    if (stop_signal) {
        fprintf(stderr, "jvae-train: stopped by signal %d at step %lld; checkpoint written, "
                "continue with: jvae-train --resume %s\n", (int)stop_signal, step, s.out);
        status = 128 + (int)stop_signal;
    } else if (status == 0) {
        check(jvae_model_save(model, model_path), "model");
        char log_path[1100];
        path_join(log_path, sizeof log_path, s.out, "log.csv");
        check(jvae_write_main_pictures(s.out, model, data, log_path, NULL), "pictures");
        fprintf(stderr, "jvae-train: done in %.1f s: %s, pictures in %s/\n",
                now_seconds() - start, model_path, s.out);
    }
    jvae_tensor_free(images);
    jvae_schedule_free(cap_z);
    jvae_schedule_free(cap_c);
    jvae_optimizer_free(optimizer);
    jvae_model_free(model);
    jvae_loader_free(loader);
    jvae_dataset_free(data);
    return status;
}
