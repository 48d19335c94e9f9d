/*
 * jvae-eval: score a saved model.
 *
 *   jvae-eval accuracy  --model M --data IDX-PREFIX [--discrete I] [--max-images N]
 *   jvae-eval factorvae --model M [--preset dlib|paper] [--seed S]
 *   jvae-eval mig       --model M [--images N] [--seed S]
 *   jvae-eval kl        --model M (--data IDX-PREFIX | --dsprites) [--max-images N]
 *
 * Every command prints text, or one JSON object with --json. FactorVAE and MIG
 * render dSprites (the model must be 1x64x64); a FactorVAE score is always
 * printed with its preset, since the two presets' scores are not comparable.
 * They encode up to a million images, so they report progress on stderr and
 * stop cleanly on Ctrl-C/SIGTERM. It uses only the public header.
 */
#include <jointvae/jointvae.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct arguments {
    const char *command, *model, *data;
    int dsprites, json, discrete, label, batch, threads;
    long long max_images, images, votes, eval_votes, variance_images, vote_images;
    unsigned long long seed;
    int seed_given;
    jvae_factorvae_preset preset;
} arguments;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: jvae-eval COMMAND --model FILE [options] [--json]\n"
            "commands:\n"
            "  accuracy   unsupervised accuracy of a discrete latent on labelled IDX data\n"
            "             --data PREFIX [--discrete I (0)] [--label L (0)] [--max-images N]\n"
            "  factorvae  FactorVAE metric on dSprites  [--preset dlib|paper (dlib)] [--seed S]\n"
            "             [--votes N] [--eval-votes N] [--variance-images N] [--vote-images L]\n"
            "  mig        MIG on dSprites  [--images N (10000)] [--seed S]\n"
            "  kl         mean KL of each latent unit  (--data PREFIX | --dsprites)\n"
            "             [--max-images N (10000; 0: all)]\n"
            "  --batch N    images per encode call (default 256)\n"
            "  --threads N  the model's worker threads (default 1)\n");
}

static int parse_count(const char *text, long long *out)
{
    char *end = NULL;
    long long value = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || value < 0) return -1;
    *out = value;
    return 0;
}

static int parse_arguments(int argc, char **argv, arguments *a)
{
    memset(a, 0, sizeof *a);
    a->max_images = 10000;
    a->images = 10000;
    a->votes = a->eval_votes = a->variance_images = a->vote_images = -1;
    a->batch = 256;
    a->threads = 1;
    a->preset = JVAE_FACTORVAE_DLIB;
    if (argc < 2) {
        usage(stderr);
        return -1;
    }
    a->command = argv[1];
    if (strcmp(a->command, "--help") == 0 || strcmp(a->command, "-h") == 0) {
        usage(stdout);
        exit(0);
    }
    for (int i = 2; i < argc; i++) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        long long n = 0;
        int bad = 0, takes_value = 1;
        if (strcmp(flag, "--json") == 0) {
            a->json = 1;
            takes_value = 0;
        } else if (strcmp(flag, "--dsprites") == 0) {
            a->dsprites = 1;
            takes_value = 0;
        } else if (value == NULL) {
            fprintf(stderr, "jvae-eval: %s needs a value\n", flag);
            return -1;
        } else if (strcmp(flag, "--model") == 0) {
            a->model = value;
        } else if (strcmp(flag, "--data") == 0) {
            a->data = value;
        } else if (strcmp(flag, "--preset") == 0) {
            if (strcmp(value, "dlib") == 0)
                a->preset = JVAE_FACTORVAE_DLIB;
            else if (strcmp(value, "paper") == 0)
                a->preset = JVAE_FACTORVAE_PAPER;
            else
                bad = 1;
        } else if (strcmp(flag, "--seed") == 0) {
            char *end = NULL;
            a->seed = strtoull(value, &end, 10);
            a->seed_given = 1;
            bad = end == value || *end != '\0';
        } else {
            bad = parse_count(value, &n);
            if (strcmp(flag, "--discrete") == 0) a->discrete = (int)n;
            else if (strcmp(flag, "--label") == 0) a->label = (int)n;
            else if (strcmp(flag, "--batch") == 0) a->batch = (int)n;
            else if (strcmp(flag, "--threads") == 0) a->threads = (int)n;
            else if (strcmp(flag, "--max-images") == 0) a->max_images = n;
            else if (strcmp(flag, "--images") == 0) a->images = n;
            else if (strcmp(flag, "--votes") == 0) a->votes = n;
            else if (strcmp(flag, "--eval-votes") == 0) a->eval_votes = n;
            else if (strcmp(flag, "--variance-images") == 0) a->variance_images = n;
            else if (strcmp(flag, "--vote-images") == 0) a->vote_images = n;
            else {
                fprintf(stderr, "jvae-eval: unknown option %s\n", flag);
                usage(stderr);
                return -1;
            }
            if (!bad && n > 1000000000LL) bad = 1;
        }
        if (bad) {
            fprintf(stderr, "jvae-eval: bad value '%s' for %s\n", value, flag);
            return -1;
        }
        i += takes_value;
    }
    if (a->model == NULL) {
        fprintf(stderr, "jvae-eval: --model is required\n");
        return -1;
    }
    return 0;
}

static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig) { stop_signal = sig; }

/* While a metric runs, the first Ctrl-C/SIGTERM asks it to stop at its next
 * batch; SA_RESETHAND lets a second one kill the program as usual. */
static void catch_stop_signals(int catching)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = catching ? on_signal : SIG_DFL;
    sa.sa_flags = catching ? SA_RESETHAND : 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* After a metric: 1 when a signal stopped it (reported); a signal that came
 * too late to stop it is delivered again, now with its default action. */
static int stopped_by_signal(jvae_status status, const char *what)
{
    catch_stop_signals(0);
    if (stop_signal == 0) return 0;
    if (status == JVAE_ERR_CANCELLED) {
        fprintf(stderr, "%sjvae-eval: %s: stopped by signal %d\n",
                isatty(fileno(stderr)) ? "\n" : "", what, (int)stop_signal);
        return 1;
    }
    raise(stop_signal);
    return 0;
}

/* Progress of a metric on stderr: a line rewritten in place on a terminal,
 * otherwise the first batch (which shows the total at once) and one line per
 * tenth; asks the metric to stop after a signal. */
typedef struct progress_line {
    const char *metric;
    int tty, tenths;
} progress_line;

static int show_progress(int64_t done, int64_t total, void *payload)
{
    progress_line *line = payload;
    const int tenths = total > 0 ? (int)(done * 10 / total) : 10;
    if (line->tty) {
        fprintf(stderr, "\r%s: %lld / %lld images (%d%%)%s", line->metric, (long long)done,
                (long long)total, total > 0 ? (int)(done * 100 / total) : 100,
                done == total ? "\n" : "");
    } else if (tenths > line->tenths) {
        fprintf(stderr, "%s: %lld / %lld images\n", line->metric, (long long)done,
                (long long)total);
        line->tenths = tenths;
    }
    return stop_signal != 0;
}

static int failed(jvae_status status, const char *what)
{
    if (status == JVAE_OK) return 0;
    fprintf(stderr, "jvae-eval: %s: %s (%s)\n", what, jvae_last_error(),
            jvae_status_string(status));
    return 1;
}

/* IDX data in the model's image size (resized when the files differ). */
static jvae_status open_idx(jvae_dataset **out, const char *prefix, const jvae_model *model)
{
    jvae_model_options options;
    jvae_status st = jvae_model_get_options(model, &options);
    if (st) return st;
    st = jvae_dataset_idx_open_prefix(out, prefix, NULL);
    int height = 0;
    if (st == JVAE_OK) st = jvae_dataset_image_shape(*out, NULL, &height, NULL);
    if (st == JVAE_OK && height != options.height) {
        jvae_dataset_free(*out);
        jvae_idx_options idx;
        jvae_idx_options_init(&idx);
        idx.resize = options.height;
        st = jvae_dataset_idx_open_prefix(out, prefix, &idx);
    }
    return st;
}

/* A JSON string literal: quotes, backslashes and control characters escaped. */
static void print_json_string(const char *text)
{
    putchar('"');
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\') printf("\\%c", *c);
        else if (*c < 0x20) printf("\\u%04x", *c);
        else putchar(*c);
    }
    putchar('"');
}

static int command_accuracy(const arguments *a, const jvae_model *model)
{
    if (a->data == NULL) {
        fprintf(stderr, "jvae-eval accuracy: --data IDX-PREFIX is required\n");
        return 2;
    }
    jvae_dataset *data = NULL;
    if (failed(open_idx(&data, a->data, model), a->data)) return 1;
    jvae_accuracy acc;
    int32_t mapping[JVAE_MAX_CLUSTERS];
    const int labels = jvae_dataset_label_classes(data, a->label);
    int64_t *table = malloc((size_t)JVAE_MAX_CLUSTERS * (size_t)(labels > 0 ? labels : 1) *
                            sizeof *table);
    int status = table == NULL;
    if (status) fprintf(stderr, "jvae-eval: out of memory\n");
    if (!status)
        status = failed(jvae_discrete_accuracy(&acc, mapping, table, model, data, a->discrete,
                                               a->label, a->max_images, a->batch),
                        "accuracy");
    if (!status) {
        jvae_model_options options;
        jvae_model_get_options(model, &options);
        const int k = options.discrete_sizes[a->discrete];
        if (a->json) {
            printf("{\"metric\": \"accuracy\", \"data\": ");
            print_json_string(a->data);
            printf(", \"discrete\": %d, \"n\": %lld, "
                   "\"hungarian\": %.6f, \"majority\": %.6f, \"hungarian_correct\": %lld, "
                   "\"majority_correct\": %lld, \"mapping\": [",
                   a->discrete, (long long)acc.n, acc.hungarian, acc.majority,
                   (long long)acc.hungarian_correct, (long long)acc.majority_correct);
            for (int c = 0; c < k; c++) printf(c ? ", %d" : "%d", (int)mapping[c]);
            printf("], \"table\": [");
            for (int c = 0; c < k; c++) {
                printf(c ? ", [" : "[");
                for (int l = 0; l < labels; l++)
                    printf(l ? ", %lld" : "%lld", (long long)table[c * labels + l]);
                printf("]");
            }
            printf("]}\n");
        } else {
            printf("accuracy of discrete variable %d on %s (N = %lld)\n", a->discrete, a->data,
                   (long long)acc.n);
            printf("  hungarian  %.2f %%  (%lld correct, one-to-one)\n", 100.0 * acc.hungarian,
                   (long long)acc.hungarian_correct);
            printf("  majority   %.2f %%  (%lld correct, many-to-one)\n", 100.0 * acc.majority,
                   (long long)acc.majority_correct);
            printf("  cluster -> label:");
            for (int c = 0; c < k; c++) printf(" %d->%d", c, (int)mapping[c]);
            printf("\n  contingency table (rows: clusters, columns: labels)\n        ");
            for (int l = 0; l < labels; l++) printf(" %6d", l);
            for (int c = 0; c < k; c++) {
                printf("\n  %5d:", c);
                for (int l = 0; l < labels; l++) printf(" %6lld", (long long)table[c * labels + l]);
            }
            printf("\n");
        }
    }
    free(table);
    jvae_dataset_free(data);
    return status;
}

static int command_factorvae(const arguments *a, const jvae_model *model)
{
    jvae_factorvae_options options;
    jvae_factorvae_options_init(&options, a->preset);
    if (a->seed_given) options.seed = a->seed;
    if (a->votes >= 0) options.train_votes = (int)a->votes;
    if (a->eval_votes >= 0) options.eval_votes = (int)a->eval_votes;
    if (a->variance_images >= 0) options.variance_images = a->variance_images;
    if (a->vote_images >= 0) options.images_per_vote = (int)a->vote_images;
    options.encode_batch = a->batch;
    progress_line line = {"factorvae", isatty(fileno(stderr)), -1};
    options.progress = show_progress;
    options.progress_payload = &line;
    jvae_factorvae_result r;
    catch_stop_signals(1);
    const jvae_status st = jvae_factorvae_dsprites(&r, model, &options);
    if (stopped_by_signal(st, "factorvae")) return 128 + stop_signal;
    if (failed(st, "factorvae")) return 1;
    const char *preset = jvae_factorvae_preset_name(r.preset);
    if (a->json) {
        printf("{\"metric\": \"factorvae\", \"preset\": \"%s\", \"eval_accuracy\": %.6f, "
               "\"train_accuracy\": %.6f, \"active_dims\": %d, \"train_votes\": %d, "
               "\"eval_votes\": %d, \"images_per_vote\": %d, \"variance_images\": %lld, "
               "\"seed\": %llu}\n",
               preset, r.eval_accuracy, r.train_accuracy, r.active_dims, r.train_votes,
               r.eval_votes, options.images_per_vote, (long long)options.variance_images,
               (unsigned long long)options.seed);
    } else {
        printf("FactorVAE score (preset %s): %.4f\n", preset, r.eval_accuracy);
        printf("  train accuracy %.4f, %d active dims, %d + %d votes of %d images, seed %llu\n",
               r.train_accuracy, r.active_dims, r.train_votes, r.eval_votes,
               options.images_per_vote, (unsigned long long)options.seed);
    }
    return 0;
}

static int command_mig(const arguments *a, const jvae_model *model)
{
    jvae_mig_options options;
    jvae_mig_options_init(&options);
    options.images = a->images;
    options.encode_batch = a->batch;
    if (a->seed_given) options.seed = a->seed;
    progress_line line = {"mig", isatty(fileno(stderr)), -1};
    options.progress = show_progress;
    options.progress_payload = &line;
    double mig, gaps[5];
    catch_stop_signals(1);
    const jvae_status st = jvae_mig_dsprites(&mig, gaps, model, &options);
    if (stopped_by_signal(st, "mig")) return 128 + stop_signal;
    if (failed(st, "mig")) return 1;
    static const char *const factors[5] = {"shape", "scale", "orientation", "pos_x", "pos_y"};
    if (a->json) {
        printf("{\"metric\": \"mig\", \"mig\": %.6f, \"images\": %lld, \"bins\": %d, \"per_factor\": {",
               mig, (long long)options.images, options.bins);
        for (int k = 0; k < 5; k++) printf("%s\"%s\": %.6f", k ? ", " : "", factors[k], gaps[k]);
        printf("}}\n");
    } else {
        printf("MIG on dSprites: %.4f (%lld images, %d bins)\n", mig, (long long)options.images,
               options.bins);
        for (int k = 0; k < 5; k++) printf("  %-12s %.4f\n", factors[k], gaps[k]);
    }
    return 0;
}

static int command_kl(const arguments *a, const jvae_model *model)
{
    jvae_dataset *data = NULL;
    if (a->dsprites) {
        if (failed(jvae_dataset_dsprites(&data), "dSprites")) return 1;
    } else if (a->data != NULL) {
        if (failed(open_idx(&data, a->data, model), a->data)) return 1;
    } else {
        fprintf(stderr, "jvae-eval kl: give --data IDX-PREFIX or --dsprites\n");
        return 2;
    }
    jvae_model_options options;
    jvae_model_get_options(model, &options);
    const int units = options.n_continuous + options.n_discrete;
    float *kl = malloc((size_t)units * sizeof *kl);
    int *order = malloc((size_t)units * sizeof *order);
    int status = kl == NULL || order == NULL;
    if (!status)
        status = failed(jvae_kl_per_unit(kl, units, model, data, a->max_images, a->batch), "kl");
    if (!status) {
        /* ranked from the most informative unit down (stable) */
        for (int u = 0; u < units; u++) {
            int at = u;
            while (at > 0 && kl[order[at - 1]] < kl[u]) {
                order[at] = order[at - 1];
                at--;
            }
            order[at] = u;
        }
        if (a->json) printf("{\"metric\": \"kl\", \"units\": [");
        else printf("mean KL per latent unit (nats), largest first:\n");
        for (int r = 0; r < units; r++) {
            int u = order[r];
            char name[32];
            if (u < options.n_continuous) snprintf(name, sizeof name, "z%d", u);
            else snprintf(name, sizeof name, "c%d", u - options.n_continuous);
            if (a->json)
                printf("%s{\"unit\": %d, \"name\": \"%s\", \"kl\": %.6f}", r ? ", " : "", u, name,
                       (double)kl[u]);
            else
                printf("  %-5s %.4f\n", name, (double)kl[u]);
        }
        if (a->json) printf("]}\n");
    }
    free(kl);
    free(order);
    jvae_dataset_free(data);
    return status;
}

int main(int argc, char **argv)
{
    arguments a;
    if (parse_arguments(argc, argv, &a) != 0) return 2;
    int (*command)(const arguments *, const jvae_model *) = NULL;
    if (strcmp(a.command, "accuracy") == 0) command = command_accuracy;
    else if (strcmp(a.command, "factorvae") == 0) command = command_factorvae;
    else if (strcmp(a.command, "mig") == 0) command = command_mig;
    else if (strcmp(a.command, "kl") == 0) command = command_kl;
    if (command == NULL) {
        fprintf(stderr, "jvae-eval: unknown command '%s'\n", a.command);
        usage(stderr);
        return 2;
    }
    if (a.threads < 1) {
        fprintf(stderr, "jvae-eval: --threads must be >= 1\n");
        return 2;
    }
    jvae_model *model = NULL;
    if (failed(jvae_model_load(&model, a.model), a.model)) return 1;
    /* The model's own threads split each batch; a threaded BLAS under them
     * would only oversubscribe the cores. */
    int status = failed(jvae_blas_set_threads(1), "BLAS threads") ||
                 failed(jvae_model_set_threads(model, a.threads), "threads");
    if (status == 0) status = command(&a, model);
    jvae_model_free(model);
    return status;
}
