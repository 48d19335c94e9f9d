#include "io/metadata.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* ---------------------------------------------------------------- numbers */

/* Runs printf/strtof in the C locale on this thread only (uselocale), so a
 * host that set a comma decimal separator still writes and reads "0.67". */
typedef struct c_numeric {
    locale_t c_locale;
    locale_t previous;
} c_numeric;

static int c_numeric_enter(c_numeric *scope)
{
    scope->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (scope->c_locale == (locale_t)0) return 0;
    scope->previous = uselocale(scope->c_locale);
    return 1;
}

static void c_numeric_leave(c_numeric *scope)
{
    uselocale(scope->previous);
    freelocale(scope->c_locale);
}

static jvae_status put_text(jvae_st_writer *w, const char *key, const char *value)
{
    return jvae_st_writer_meta(w, key, value);
}

static jvae_status put_int(jvae_st_writer *w, const char *key, long long value)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", value);
    return put_text(w, key, text);
}

static jvae_status put_float(jvae_st_writer *w, const char *key, float value)
{
    char text[48];
    c_numeric scope;
    if (!c_numeric_enter(&scope))
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "cannot create the C locale");
    snprintf(text, sizeof text, "%.9g", (double)value);
    c_numeric_leave(&scope);
    return put_text(w, key, text);
}

static jvae_status missing(const jvae_st_file *file, const char *key)
{
    return jvae_fail(JVAE_ERR_FORMAT, "%s: metadata key '%s' is missing", file->path, key);
}

static jvae_status get_text(const jvae_st_file *file, const char *key, const char **out)
{
    *out = jvae_st_meta(file, key);
    return *out == NULL ? missing(file, key) : JVAE_OK;
}

/* Only plain decimal text: no spaces, nothing after the number. */
static int starts_like_number(const char *text)
{
    return text[0] == '-' || text[0] == '+' || text[0] == '.' || (text[0] >= '0' && text[0] <= '9');
}

static jvae_status get_int(const jvae_st_file *file, const char *key, long long min,
                           long long max, long long *out)
{
    const char *text;
    jvae_status st = get_text(file, key, &text);
    if (st) return st;
    char *end = (char *)text;
    errno = 0;
    long long value = starts_like_number(text) ? strtoll(text, &end, 10) : 0;
    if (!starts_like_number(text) || *end != '\0' || errno != 0 || value < min || value > max)
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: metadata '%s' = '%.40s' is not an integer in [%lld, %lld]",
                         file->path, key, text, min, max);
    *out = value;
    return JVAE_OK;
}

static jvae_status get_int32(const jvae_st_file *file, const char *key, int *out)
{
    long long value;
    jvae_status st = get_int(file, key, 0, INT_MAX, &value);
    if (st == JVAE_OK) *out = (int)value;
    return st;
}

static jvae_status get_float(const jvae_st_file *file, const char *key, float *out)
{
    const char *text;
    jvae_status st = get_text(file, key, &text);
    if (st) return st;
    c_numeric scope;
    if (!c_numeric_enter(&scope))
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "cannot create the C locale");
    char *end = NULL;
    errno = 0;
    float value = starts_like_number(text) ? strtof(text, &end) : NAN;
    int range_error = errno == ERANGE;
    c_numeric_leave(&scope);
    /* ERANGE also flags subnormal results, which are legitimate floats. */
    if (!starts_like_number(text) || *end != '\0' || !isfinite(value) ||
        (range_error && fabsf(value) > 1.0f))
        return jvae_fail(JVAE_ERR_FORMAT, "%s: metadata '%s' = '%.40s' is not a finite number",
                         file->path, key, text);
    *out = value;
    return JVAE_OK;
}

/* ---------------------------------------------------------------- header */

jvae_status jvae_meta_put_header(jvae_st_writer *writer, const char *kind)
{
    jvae_status st;
    if ((st = put_text(writer, "format", JVAE_FILE_FORMAT_NAME))) return st;
    if ((st = put_int(writer, "format_version", JVAE_FILE_FORMAT_VERSION))) return st;
    if ((st = put_text(writer, "library_version", jvae_version_string()))) return st;
    return put_text(writer, "kind", kind);
}

jvae_status jvae_meta_get_header(const jvae_st_file *file, int *is_checkpoint)
{
    const char *format = jvae_st_meta(file, "format");
    if (format == NULL || strcmp(format, JVAE_FILE_FORMAT_NAME) != 0)
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: not a libjointvae file (metadata 'format' is not \"%s\")",
                         file->path, JVAE_FILE_FORMAT_NAME);
    long long version;
    jvae_status st = get_int(file, "format_version", 1, INT_MAX, &version);
    if (st) return st;
    if (version > JVAE_FILE_FORMAT_VERSION)
        return jvae_fail(JVAE_ERR_VERSION,
                         "%s: file format version %lld is newer than this library's (%d)",
                         file->path, version, JVAE_FILE_FORMAT_VERSION);
    const char *kind;
    if ((st = get_text(file, "kind", &kind))) return st;
    if (strcmp(kind, JVAE_FILE_KIND_MODEL) == 0) *is_checkpoint = 0;
    else if (strcmp(kind, JVAE_FILE_KIND_CHECKPOINT) == 0) *is_checkpoint = 1;
    else
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: metadata 'kind' = '%.40s' is neither \"model\" nor \"checkpoint\"",
                         file->path, kind);
    return JVAE_OK;
}

/* ---------------------------------------------------------------- options */

static const char *const loss_mode_names[] = {"jointvae", "beta_vae", "capacity"};

jvae_status jvae_meta_put_options(jvae_st_writer *w, const jvae_model_options *m,
                                  const jvae_loss_options *l)
{
    char sizes[JVAE_MAX_DISCRETE * 12 + 1] = "";
    size_t used = 0;
    for (int i = 0; i < m->n_discrete && i < JVAE_MAX_DISCRETE; i++)
        used += (size_t)snprintf(sizes + used, sizeof sizes - used, i ? ",%d" : "%d",
                                 m->discrete_sizes[i]);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)m->seed);
    int mode = (int)l->mode;
    jvae_status st;
    if ((st = put_int(w, "model.channels", m->channels)) ||
        (st = put_int(w, "model.height", m->height)) ||
        (st = put_int(w, "model.width", m->width)) ||
        (st = put_int(w, "model.n_continuous", m->n_continuous)) ||
        (st = put_text(w, "model.discrete_sizes", sizes)) ||
        (st = put_float(w, "model.temperature", m->temperature)) ||
        (st = put_int(w, "model.hidden", m->hidden)) || (st = put_text(w, "model.seed", seed)) ||
        (st = put_text(w, "loss.mode", mode >= 0 && mode < 3 ? loss_mode_names[mode] : "?")) ||
        (st = put_float(w, "loss.gamma_continuous", l->gamma_continuous)) ||
        (st = put_float(w, "loss.gamma_discrete", l->gamma_discrete)) ||
        (st = put_float(w, "loss.beta", l->beta)) || (st = put_float(w, "loss.gamma", l->gamma)) ||
        (st = put_int(w, "loss.official_scaling", l->official_scaling)))
        return st;
    return JVAE_OK;
}

static jvae_status get_discrete_sizes(const jvae_st_file *file, jvae_model_options *m)
{
    static const char key[] = "model.discrete_sizes";
    const char *text;
    jvae_status st = get_text(file, key, &text);
    if (st) return st;
    m->n_discrete = 0;
    const char *p = text;
    while (*p != '\0') {
        if (m->n_discrete == JVAE_MAX_DISCRETE)
            return jvae_fail(JVAE_ERR_FORMAT, "%s: metadata '%s' lists more than %d variables",
                             file->path, key, JVAE_MAX_DISCRETE);
        char *end = (char *)p;
        errno = 0;
        long value = (*p >= '0' && *p <= '9') ? strtol(p, &end, 10) : -1;
        if (value < 0 || errno != 0 || value > INT_MAX || (*end != ',' && *end != '\0') ||
            (*end == ',' && end[1] == '\0'))
            return jvae_fail(JVAE_ERR_FORMAT,
                             "%s: metadata '%s' = '%.40s' is not a comma-separated list of "
                             "integers",
                             file->path, key, text);
        m->discrete_sizes[m->n_discrete++] = (int)value;
        p = *end == ',' ? end + 1 : end;
    }
    return JVAE_OK;
}

jvae_status jvae_meta_get_options(const jvae_st_file *file, jvae_model_options *m,
                                  jvae_loss_options *l)
{
    memset(m, 0, sizeof *m);
    memset(l, 0, sizeof *l);
    m->version = JVAE_MODEL_OPTIONS_VERSION;
    m->threads = 1;
    l->version = JVAE_LOSS_OPTIONS_VERSION;
    jvae_status st;
    if ((st = get_int32(file, "model.channels", &m->channels)) ||
        (st = get_int32(file, "model.height", &m->height)) ||
        (st = get_int32(file, "model.width", &m->width)) ||
        (st = get_int32(file, "model.n_continuous", &m->n_continuous)) ||
        (st = get_discrete_sizes(file, m)) ||
        (st = get_float(file, "model.temperature", &m->temperature)) ||
        (st = get_int32(file, "model.hidden", &m->hidden)))
        return st;
    const char *seed;
    if ((st = get_text(file, "model.seed", &seed))) return st;
    char *end = (char *)seed;
    errno = 0;
    unsigned long long seed_value = (seed[0] >= '0' && seed[0] <= '9') ? strtoull(seed, &end, 10) : 0;
    if (!(seed[0] >= '0' && seed[0] <= '9') || *end != '\0' || errno != 0)
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: metadata 'model.seed' = '%.40s' is not an unsigned 64-bit integer",
                         file->path, seed);
    m->seed = (uint64_t)seed_value;

    const char *mode;
    if ((st = get_text(file, "loss.mode", &mode))) return st;
    int found = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(mode, loss_mode_names[i]) == 0) found = i;
    if (found < 0)
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: metadata 'loss.mode' = '%.40s' is not jointvae, beta_vae or capacity",
                         file->path, mode);
    l->mode = (jvae_loss_mode)found;
    long long scaling;
    if ((st = get_float(file, "loss.gamma_continuous", &l->gamma_continuous)) ||
        (st = get_float(file, "loss.gamma_discrete", &l->gamma_discrete)) ||
        (st = get_float(file, "loss.beta", &l->beta)) ||
        (st = get_float(file, "loss.gamma", &l->gamma)) ||
        (st = get_int(file, "loss.official_scaling", 0, 1, &scaling)))
        return st;
    l->official_scaling = (int)scaling;
    return JVAE_OK;
}

/* ---------------------------------------------------------------- training */

static const char *const optimizer_names[] = {"adam", "sgd"};

jvae_status jvae_meta_put_training(jvae_st_writer *w, const jvae_optimizer_options *o,
                                   int64_t step_count, const jvae_rng *rng)
{
    char state[4 * 16 + 1];
    for (int i = 0; i < 4; i++)
        snprintf(state + 16 * i, sizeof state - 16 * (size_t)i, "%016llx",
                 (unsigned long long)rng->s[i]);
    int kind = (int)o->kind;
    jvae_status st;
    if ((st = put_text(w, "optimizer.kind", kind >= 0 && kind < 2 ? optimizer_names[kind] : "?")) ||
        (st = put_float(w, "optimizer.learning_rate", o->learning_rate)) ||
        (st = put_float(w, "optimizer.beta1", o->beta1)) ||
        (st = put_float(w, "optimizer.beta2", o->beta2)) ||
        (st = put_float(w, "optimizer.epsilon", o->epsilon)) ||
        (st = put_float(w, "optimizer.weight_decay", o->weight_decay)) ||
        (st = put_float(w, "optimizer.momentum", o->momentum)) ||
        (st = put_int(w, "optimizer.step_count", (long long)step_count)) ||
        (st = put_text(w, "rng.state", state)))
        return st;
    return JVAE_OK;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

jvae_status jvae_meta_get_training(const jvae_st_file *file, jvae_optimizer_options *o,
                                   int64_t *step_count, jvae_rng *rng)
{
    memset(o, 0, sizeof *o);
    o->version = JVAE_OPTIMIZER_OPTIONS_VERSION;
    const char *kind;
    jvae_status st = get_text(file, "optimizer.kind", &kind);
    if (st) return st;
    if (strcmp(kind, "adam") == 0) o->kind = JVAE_OPTIMIZER_ADAM;
    else if (strcmp(kind, "sgd") == 0) o->kind = JVAE_OPTIMIZER_SGD;
    else
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: metadata 'optimizer.kind' = '%.40s' is neither adam nor sgd",
                         file->path, kind);
    long long steps;
    if ((st = get_float(file, "optimizer.learning_rate", &o->learning_rate)) ||
        (st = get_float(file, "optimizer.beta1", &o->beta1)) ||
        (st = get_float(file, "optimizer.beta2", &o->beta2)) ||
        (st = get_float(file, "optimizer.epsilon", &o->epsilon)) ||
        (st = get_float(file, "optimizer.weight_decay", &o->weight_decay)) ||
        (st = get_float(file, "optimizer.momentum", &o->momentum)) ||
        (st = get_int(file, "optimizer.step_count", 0, LLONG_MAX, &steps)))
        return st;
    *step_count = (int64_t)steps;

    const char *state;
    if ((st = get_text(file, "rng.state", &state))) return st;
    uint64_t words[4] = {0, 0, 0, 0};
    int valid = strlen(state) == 64;
    for (int i = 0; i < 64 && valid; i++) {
        int digit = hex_digit(state[i]);
        valid = digit >= 0;
        words[i / 16] = (words[i / 16] << 4) | (uint64_t)(valid ? digit : 0);
    }
    if (!valid)
        return jvae_fail(JVAE_ERR_FORMAT, "%s: metadata 'rng.state' is not 64 hexadecimal digits",
                         file->path);
    if ((words[0] | words[1] | words[2] | words[3]) == 0)
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: metadata 'rng.state' is all zero, which the generator cannot leave",
                         file->path);
    memcpy(rng->s, words, sizeof words);
    return JVAE_OK;
}
