/*
 * Golden test against PyTorch: tests/golden/make_fixture.py rebuilt the
 * official JointVAE network and loss in PyTorch (1x32x32, 4 continuous +
 * discrete [3], hidden 256, batch 4) and recorded one forward/backward and
 * five Adam steps with fixed noise. This test builds the same model here,
 * gives it the same weights (both sides generate them from a counter-based
 * hash; checksums prove they match), runs the same passes and compares every
 * loss term, the encoder outputs, the reconstruction and every gradient
 * tensor. See make_fixture.py for the file format.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "test_util.h"

#include "jointvae/train.h"
#include "model/model.h"

#define FIXTURE JVAE_TEST_SOURCE_DIR "/golden/jointvae_1x32x32.bin"
#define FORMAT_VERSION 1
#define MAX_RECORDS 512

/* ------------------------------------------------------------ the fixture */

enum { DTYPE_F32 = 1, DTYPE_F64 = 2, DTYPE_I64 = 3 };

typedef struct record {
    char name[128];
    int dtype, ndim;
    int64_t shape[4];
    size_t numel;
    const unsigned char *data;
} record;

typedef struct fixture {
    unsigned char *bytes;
    size_t size;
    int count;
    record records[MAX_RECORDS];
} fixture;

static uint64_t read_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Parse the whole file; every length is checked against what is left. */
static fixture *load_fixture(void)
{
    FILE *f = fopen(FIXTURE, "rb");
    if (f == NULL) fail_msg("cannot open %s", FIXTURE);
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    const long size = ftell(f);
    assert_true(size > 16);
    rewind(f);
    fx->size = (size_t)size;
    fx->bytes = malloc(fx->size);
    assert_non_null(fx->bytes);
    assert_int_equal(fread(fx->bytes, 1, fx->size, f), fx->size);
    fclose(f);

    assert_memory_equal(fx->bytes, "JVAEGOLD", 8);
    assert_int_equal(read_le(fx->bytes + 8, 4), FORMAT_VERSION);
    const uint64_t count = read_le(fx->bytes + 12, 4);
    assert_true(count <= MAX_RECORDS);
    size_t at = 16;
    for (uint64_t r = 0; r < count; r++) {
        record *rec = &fx->records[fx->count++];
        assert_true(at + 2 <= fx->size);
        const size_t name_len = (size_t)read_le(fx->bytes + at, 2);
        at += 2;
        assert_true(name_len < sizeof rec->name && at + name_len + 2 <= fx->size);
        memcpy(rec->name, fx->bytes + at, name_len);
        rec->name[name_len] = '\0';
        at += name_len;
        rec->dtype = fx->bytes[at++];
        rec->ndim = fx->bytes[at++];
        assert_true(rec->ndim >= 1 && rec->ndim <= 4);
        assert_true(rec->dtype >= DTYPE_F32 && rec->dtype <= DTYPE_I64);
        assert_true(at + 8 * (size_t)rec->ndim <= fx->size);
        rec->numel = 1;
        for (int d = 0; d < rec->ndim; d++, at += 8) {
            rec->shape[d] = (int64_t)read_le(fx->bytes + at, 8);
            assert_true(rec->shape[d] >= 1 && rec->shape[d] < (1 << 24));
            rec->numel *= (size_t)rec->shape[d];
        }
        const size_t width = rec->dtype == DTYPE_F32 ? 4 : 8;
        assert_true(rec->numel <= (fx->size - at) / width);
        rec->data = fx->bytes + at;
        at += rec->numel * width;
    }
    assert_int_equal(at, fx->size);
    return fx;
}

static void free_fixture(fixture *fx)
{
    free(fx->bytes);
    free(fx);
}

static const record *find(const fixture *fx, const char *name)
{
    for (int i = 0; i < fx->count; i++)
        if (strcmp(fx->records[i].name, name) == 0) return &fx->records[i];
    return NULL;
}

static const record *need(const fixture *fx, const char *name, int dtype, size_t numel)
{
    const record *rec = find(fx, name);
    if (rec == NULL) fail_msg("fixture has no record %s", name);
    assert_int_equal(rec->dtype, dtype);
    assert_int_equal(rec->numel, numel);
    return rec;
}

/* The fixture's values are little-endian, like every host this runs on;
 * memcpy keeps the reads aligned. */
static float f32_at(const record *rec, size_t i)
{
    float v;
    memcpy(&v, rec->data + 4 * i, 4);
    return v;
}

static double f64_at(const record *rec, size_t i)
{
    double v;
    memcpy(&v, rec->data + 8 * i, 8);
    return v;
}

static int64_t i64_at(const record *rec, size_t i)
{
    int64_t v;
    memcpy(&v, rec->data + 8 * i, 8);
    return v;
}

static float *f32_copy(const fixture *fx, const char *name, size_t numel)
{
    const record *rec = need(fx, name, DTYPE_F32, numel);
    float *out = malloc(numel * sizeof *out);
    assert_non_null(out);
    for (size_t i = 0; i < numel; i++) out[i] = f32_at(rec, i);
    return out;
}

static int64_t scalar_int(const fixture *fx, const char *name)
{
    return i64_at(need(fx, name, DTYPE_I64, 1), 0);
}

/* ------------------------------------------------------------ the shared hash */

static uint64_t mix64(uint64_t x)
{
    uint64_t z = x + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unit(uint64_t stream, uint64_t i)
{
    return (double)(mix64((stream << 40) ^ i) >> 11) * (1.0 / 9007199254740992.0);
}

static double projection(const float *values, size_t count, int tensor, int k)
{
    double sum = 0.0;
    for (size_t i = 0; i < count; i++)
        sum += (2.0 * unit(5000 + 16 * (uint64_t)tensor + (uint64_t)k, i) - 1.0) * values[i];
    return sum;
}

/* ------------------------------------------------------------ the model */

typedef struct golden {
    fixture *fx;
    jvae_model *model;
    int batch, dz, width;
    jvae_tensor *images;
    float *initial; /* the weights both sides generated */
} golden;

/* One forward's noise as tensors viewing the fixture's step `step` (0-based). */
typedef struct noise {
    jvae_tensor *eps, *uniform;
    float *eps_data, *uniform_data;
} noise;

static void make_noise(const golden *g, int step, noise *out)
{
    const record *eps = find(g->fx, "eps"), *uni = find(g->fx, "uniform");
    assert_non_null(eps);
    assert_non_null(uni);
    assert_int_equal(eps->dtype, DTYPE_F32);
    assert_int_equal(uni->dtype, DTYPE_F32);
    const size_t ne = (size_t)g->batch * g->dz, nu = (size_t)g->batch * g->width;
    assert_true((size_t)(step + 1) * ne <= eps->numel && (size_t)(step + 1) * nu <= uni->numel);
    out->eps_data = malloc(ne * sizeof(float));
    out->uniform_data = malloc(nu * sizeof(float));
    assert_non_null(out->eps_data);
    assert_non_null(out->uniform_data);
    for (size_t i = 0; i < ne; i++) out->eps_data[i] = f32_at(eps, (size_t)step * ne + i);
    for (size_t i = 0; i < nu; i++) out->uniform_data[i] = f32_at(uni, (size_t)step * nu + i);
    const int64_t es[2] = {g->batch, g->dz}, us[2] = {g->batch, g->width};
    assert_int_equal(jvae_tensor_wrap(&out->eps, out->eps_data, 2, es), JVAE_OK);
    assert_int_equal(jvae_tensor_wrap(&out->uniform, out->uniform_data, 2, us), JVAE_OK);
}

static void free_noise(noise *n)
{
    jvae_tensor_free(n->eps);
    jvae_tensor_free(n->uniform);
    free(n->eps_data);
    free(n->uniform_data);
}

/* Build the fixture's model, check names, shapes and init bounds against
 * PyTorch's, and give it the hashed weights. */
static void setup_golden(golden *g)
{
    memset(g, 0, sizeof *g);
    g->fx = load_fixture();
    jvae_model_options o;
    jvae_model_options_init(&o);
    o.channels = (int)scalar_int(g->fx, "channels");
    o.height = o.width = (int)scalar_int(g->fx, "side");
    o.n_continuous = (int)scalar_int(g->fx, "n_continuous");
    const record *sizes = find(g->fx, "discrete_sizes");
    assert_non_null(sizes);
    o.n_discrete = (int)sizes->numel;
    for (int i = 0; i < o.n_discrete; i++) o.discrete_sizes[i] = (int)i64_at(sizes, (size_t)i);
    o.hidden = (int)scalar_int(g->fx, "hidden");
    o.temperature = (float)f64_at(need(g->fx, "temperature", DTYPE_F64, 1), 0);
    g->batch = (int)scalar_int(g->fx, "batch");
    g->dz = o.n_continuous;
    assert_int_equal(jvae_model_create(&g->model, &o), JVAE_OK);
    assert_int_equal(jvae_model_reserve(g->model, g->batch), JVAE_OK);
    g->width = jvae_model_discrete_dim(g->model);

    /* The same tensors, names and shapes, in the same order as the state dict. */
    int shape_records = 0;
    for (int i = 0; i < g->fx->count; i++)
        shape_records += strncmp(g->fx->records[i].name, "shape:", 6) == 0;
    const int tensors = jvae_model_param_tensor_count(g->model);
    assert_int_equal(tensors, shape_records);
    const int64_t count = jvae_model_param_count(g->model);
    g->initial = malloc((size_t)count * sizeof(float));
    assert_non_null(g->initial);
    for (int t = 0, seen = 0; t < tensors; t++) {
        const char *name;
        int ndim;
        int64_t shape[4], offset, numel = 1;
        assert_int_equal(jvae_model_param_info(g->model, t, &name, &ndim, shape, &offset),
                         JVAE_OK);
        char key[160];
        snprintf(key, sizeof key, "shape:%s", name);
        const record *rec = need(g->fx, key, DTYPE_I64, (size_t)ndim);
        /* Order: the t-th shape record of the file names this tensor. */
        for (int i = 0, s = 0; i < g->fx->count; i++)
            if (strncmp(g->fx->records[i].name, "shape:", 6) == 0 && s++ == seen)
                assert_string_equal(g->fx->records[i].name, key);
        seen++;
        for (int d = 0; d < ndim; d++) {
            assert_int_equal(shape[d], i64_at(rec, (size_t)d));
            numel *= shape[d];
        }
        snprintf(key, sizeof key, "bound:%s", name);
        const double bound = f64_at(need(g->fx, key, DTYPE_F64, 1), 0);
        /* Our own init draws inside PyTorch's bound and, for tensors of 128+
         * values, reaches close to it (the largest of n uniform draws falls
         * below 0.9·bound with probability 0.9^n ≤ 2e-6). */
        const float *own = jvae_model_params(g->model) + offset;
        double largest = 0.0;
        for (int64_t i = 0; i < numel; i++) largest = fmax(largest, fabs((double)own[i]));
        assert_true(largest <= (double)(float)bound * (1.0 + 1e-6));
        if (numel >= 128) assert_true(largest >= 0.9 * bound);
        /* The fixture's weights. */
        double sum = 0.0, magnitude = 0.0, squares = 0.0;
        for (int64_t i = 0; i < numel; i++) {
            const float w = (float)(bound * (2.0 * unit(1000 + (uint64_t)t, (uint64_t)i) - 1.0));
            g->initial[offset + i] = w;
            sum += w;
            magnitude += fabs((double)w);
            squares += (double)w * w;
        }
        snprintf(key, sizeof key, "checksum:%s", name);
        const record *check = need(g->fx, key, DTYPE_F64, 2);
        /* Identical floats summed in another order: equal to ~1e-15 relative. */
        assert_true(fabs(sum - f64_at(check, 0)) <= 1e-9 * magnitude);
        assert_true(fabs(squares - f64_at(check, 1)) <= 1e-9 * squares);
    }
    memcpy(jvae_model_params(g->model), g->initial, (size_t)count * sizeof(float));

    const size_t pixels = (size_t)o.channels * o.height * o.width;
    const int64_t image_shape[4] = {g->batch, o.channels, o.height, o.width};
    float *px = f32_copy(g->fx, "images", (size_t)g->batch * pixels);
    assert_int_equal(jvae_tensor_from_buffer(&g->images, px, 4, image_shape), JVAE_OK);
    free(px);

    jvae_loss_options loss;
    jvae_loss_options_init(&loss);
    loss.gamma_continuous = loss.gamma_discrete =
        (float)f64_at(need(g->fx, "gamma", DTYPE_F64, 1), 0);
    loss.official_scaling = 1;
    assert_int_equal(jvae_model_set_loss(g->model, &loss), JVAE_OK);
}

static void teardown_golden(golden *g)
{
    jvae_model_free(g->model);
    jvae_tensor_free(g->images);
    free(g->initial);
    free_fixture(g->fx);
}

static double capacity(const golden *g, int step, int which)
{
    const record *caps = find(g->fx, "capacity");
    assert_non_null(caps);
    assert_true((size_t)(2 * step + which) < caps->numel);
    return f64_at(caps, (size_t)(2 * step + which));
}

static void forward(golden *g, int step, jvae_loss_terms *terms)
{
    noise n;
    make_noise(g, step, &n);
    assert_int_equal(jvae_model_forward(g->model, g->images, n.eps, n.uniform,
                                        capacity(g, step, 0), capacity(g, step, 1), terms),
                     JVAE_OK);
    free_noise(&n);
}

static void expect_close(const char *what, double got, double want, double abs_tol,
                         double rel_tol)
{
    const double allowed = abs_tol + rel_tol * fabs(want);
    print_message("%-28s C %.9g  PyTorch %.9g  (%.2g x tolerance)\n", what, got, want,
                  fabs(got - want) / allowed);
    assert_true(fabs(got - want) <= allowed);
}

/* ------------------------------------------------------------ the tests */

/* Tolerances. Both sides compute in float32 with different summation orders
 * (OpenBLAS GEMM blocks vs. PyTorch's, our BCE and KLs summed in double vs.
 * PyTorch's float reductions), so values agree to a few float ulps of the
 * magnitudes summed, not bit for bit. Measured worst cases, and the margins:
 *  - mu, logvar, alpha, the reconstruction: ≤ 1.5e-7 of the tensor's largest
 *    |value|; compared at 1e-5 of it (≈ 60x);
 *  - the reconstruction term (≈ 725, PyTorch's float mean of 4096 BCEs):
 *    4e-8 relative; rel 1e-6;
 *  - the KLs (1e-4..1e-2): 6e-8 absolute; abs 1e-6 (γ = 30 times that for the
 *    capacity terms);
 *  - gradient elements: ≤ 9e-7 of the tensor's largest |value|; 2e-5 of it;
 *    norms and projections of large tensors ≤ 1.4e-7 relative; 1e-5;
 *  - the change of each tensor after 5 Adam steps, projected: ≤ 1e-6 of its
 *    scale; 2e-5.
 * A wrong term, factor or path is off by orders of magnitude more. */
#define OUTPUT_TOL 1e-5
#define RECON_REL 1e-6
#define KL_ABS 1e-6
#define GRAD_ELEMENT 2e-5
#define GRAD_SUMMARY 1e-5
#define ADAM_DELTA 2e-5

static void compare_outputs(golden *g)
{
    jvae_tensor *mu = NULL, *logvar = NULL, *alpha = NULL, *latent = NULL, *recon = NULL;
    const int64_t ms[2] = {g->batch, g->dz}, as[2] = {g->batch, g->width};
    const int64_t ls[2] = {g->batch, jvae_model_latent_dim(g->model)};
    const int64_t rs[4] = {g->batch, 1, 32, 32};
    assert_int_equal(jvae_tensor_create(&mu, 2, ms), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&logvar, 2, ms), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&alpha, 2, as), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&recon, 4, rs), JVAE_OK);
    assert_int_equal(jvae_encode(g->model, g->images, mu, logvar, alpha), JVAE_OK);
    const char *names[3] = {"mu", "logvar", "alpha"};
    jvae_tensor *mine[3] = {mu, logvar, alpha};
    for (int i = 0; i < 3; i++) {
        const size_t n = (size_t)jvae_tensor_numel(mine[i]);
        float *want = f32_copy(g->fx, names[i], n);
        double top = 0.0;
        for (size_t k = 0; k < n; k++) top = fmax(top, fabs(want[k]));
        gradcheck_assert_close(names[i], jvae_tensor_data(mine[i]), want, n, OUTPUT_TOL * top,
                               0.0);
        free(want);
    }
    /* Decoding PyTorch's sampled latent gives PyTorch's reconstruction. */
    float *z = f32_copy(g->fx, "latent", (size_t)(ls[0] * ls[1]));
    assert_int_equal(jvae_tensor_wrap(&latent, z, 2, ls), JVAE_OK);
    assert_int_equal(jvae_decode(g->model, latent, recon), JVAE_OK);
    float *want = f32_copy(g->fx, "reconstruction", (size_t)jvae_tensor_numel(recon));
    /* Sigmoid outputs: their largest value is O(1). */
    gradcheck_assert_close("reconstruction", jvae_tensor_data(recon), want,
                           (size_t)jvae_tensor_numel(recon), OUTPUT_TOL, 0.0);
    free(want);
    free(z);
    jvae_tensor_free(latent);
    jvae_tensor_free(mu);
    jvae_tensor_free(logvar);
    jvae_tensor_free(alpha);
    jvae_tensor_free(recon);
}

static void compare_terms(golden *g, const jvae_loss_terms *t)
{
    const record *want = need(g->fx, "terms", DTYPE_F64, 8);
    expect_close("reconstruction", t->reconstruction, f64_at(want, 0), 0.0, RECON_REL);
    expect_close("KL continuous", t->kl_continuous, f64_at(want, 1), KL_ABS, 0.0);
    expect_close("KL discrete", t->kl_discrete, f64_at(want, 2), KL_ABS, 0.0);
    expect_close("capacity continuous", t->capacity_continuous, f64_at(want, 3), 1e-12, 0.0);
    expect_close("capacity discrete", t->capacity_discrete, f64_at(want, 4), 1e-12, 0.0);
    /* γ = 30 times the KL's tolerance. */
    expect_close("capacity term continuous", t->capacity_term_continuous, f64_at(want, 5),
                 30 * KL_ABS, 0.0);
    expect_close("capacity term discrete", t->capacity_term_discrete, f64_at(want, 6),
                 30 * KL_ABS, 0.0);
    expect_close("total", t->total, f64_at(want, 7), 60 * KL_ABS, RECON_REL);
    const int nd = (int)find(g->fx, "discrete_sizes")->numel;
    const record *units = need(g->fx, "kl_units", DTYPE_F64, (size_t)(g->dz + nd));
    float cont[64], disc[JVAE_MAX_DISCRETE];
    assert_true(g->dz <= 64);
    assert_int_equal(jvae_model_kl_per_unit(g->model, cont, g->dz, disc, nd), JVAE_OK);
    for (int j = 0; j < g->dz; j++) assert_true(fabs(cont[j] - f64_at(units, (size_t)j)) <= KL_ABS);
    for (int v = 0; v < nd; v++)
        assert_true(fabs(disc[v] - f64_at(units, (size_t)(g->dz + v))) <= KL_ABS);
}

/* Compare the gradient block with PyTorch's, tensor by tensor; `factor`
 * rescales ours (1 for the official scaling). */
static void compare_gradients(golden *g, double factor)
{
    const float *grads = jvae_model_grads(g->model);
    for (int t = 0; t < jvae_model_param_tensor_count(g->model); t++) {
        const char *name;
        int ndim;
        int64_t shape[4], offset, numel = 1;
        jvae_model_param_info(g->model, t, &name, &ndim, shape, &offset);
        for (int d = 0; d < ndim; d++) numel *= shape[d];
        const size_t n = (size_t)numel;
        float *mine = malloc(n * sizeof *mine);
        assert_non_null(mine);
        for (size_t i = 0; i < n; i++) mine[i] = (float)(grads[offset + (int64_t)i] * factor);
        char key[160];
        snprintf(key, sizeof key, "grad:%s", name);
        if (find(g->fx, key) != NULL) {
            float *want = f32_copy(g->fx, key, n);
            double top = 0.0;
            for (size_t i = 0; i < n; i++) top = fmax(top, fabs(want[i]));
            gradcheck_assert_close(name, mine, want, n, GRAD_ELEMENT * top, 0.0);
            free(want);
            free(mine);
            continue;
        }
        snprintf(key, sizeof key, "grad_norm:%s", name);
        const double norm = f64_at(need(g->fx, key, DTYPE_F64, 1), 0);
        double own_norm = 0.0, top = 0.0;
        for (size_t i = 0; i < n; i++) {
            own_norm += (double)mine[i] * mine[i];
            top = fmax(top, fabs(mine[i]));
        }
        own_norm = sqrt(own_norm);
        assert_true(fabs(own_norm - norm) <= GRAD_SUMMARY * norm);
        snprintf(key, sizeof key, "grad_projection:%s", name);
        const record *proj = find(g->fx, key);
        assert_non_null(proj);
        /* A projection on a vector of n values in [−1, 1] is at most
         * √n·norm/√3 in size; compare against that scale. */
        for (size_t k = 0; k < proj->numel; k++) {
            const double got = projection(mine, n, t, (int)k);
            assert_true(fabs(got - f64_at(proj, k)) <= GRAD_SUMMARY * norm * sqrt((double)n / 3));
        }
        snprintf(key, sizeof key, "grad_index:%s", name);
        const record *index = find(g->fx, key);
        assert_non_null(index);
        snprintf(key, sizeof key, "grad_value:%s", name);
        const record *value = need(g->fx, key, DTYPE_F32, index->numel);
        float *got = malloc(index->numel * sizeof *got), *want = malloc(index->numel * sizeof *want);
        assert_non_null(got);
        assert_non_null(want);
        for (size_t k = 0; k < index->numel; k++) {
            const int64_t i = i64_at(index, k);
            assert_true(i >= 0 && i < numel);
            got[k] = mine[i];
            want[k] = f32_at(value, k);
        }
        gradcheck_assert_close(name, got, want, index->numel, GRAD_ELEMENT * top, 0.0);
        free(got);
        free(want);
        free(mine);
    }
}

static void test_golden_forward_backward(void **state)
{
    (void)state;
    golden g;
    setup_golden(&g);
    compare_outputs(&g);
    jvae_loss_terms terms;
    assert_int_equal(jvae_model_zero_grad(g.model), JVAE_OK);
    forward(&g, 0, &terms);
    compare_terms(&g, &terms);
    assert_int_equal(jvae_model_backward(g.model), JVAE_OK);
    compare_gradients(&g, 1.0);

    /* Default scaling: the same loss, backpropagated without the 1/(H·W). */
    jvae_loss_options loss;
    jvae_model_get_loss(g.model, &loss);
    loss.official_scaling = 0;
    assert_int_equal(jvae_model_set_loss(g.model, &loss), JVAE_OK);
    assert_int_equal(jvae_model_zero_grad(g.model), JVAE_OK);
    forward(&g, 0, &terms);
    assert_int_equal(jvae_model_backward(g.model), JVAE_OK);
    compare_gradients(&g, 1.0 / (32.0 * 32.0));
    teardown_golden(&g);
}

/* Five Adam steps of the official training loop (lr 5e-4, betas 0.9/0.999,
 * eps 1e-8) with the fixture's noise and capacities, then a sixth forward;
 * this needs lib/train's optimizer. Totals are compared like the first one,
 * and each tensor's change by its projections (see ADAM_DELTA). */
static void test_golden_adam_steps(void **state)
{
    (void)state;
    golden g;
    setup_golden(&g);
    jvae_optimizer_options oo;
    jvae_optimizer_options_init(&oo);
    oo.learning_rate = 5e-4f;
    oo.beta1 = 0.9f;
    oo.beta2 = 0.999f;
    oo.epsilon = 1e-8f;
    jvae_optimizer *opt = NULL;
    assert_int_equal(jvae_optimizer_create(&opt, g.model, &oo), JVAE_OK);
    const int steps = (int)scalar_int(g.fx, "adam_steps");
    const record *totals = need(g.fx, "adam_totals", DTYPE_F64, (size_t)steps + 1);
    for (int t = 0; t <= steps; t++) {
        jvae_loss_terms terms;
        assert_int_equal(jvae_model_zero_grad(g.model), JVAE_OK);
        forward(&g, t, &terms);
        char what[32];
        snprintf(what, sizeof what, "total at forward %d", t + 1);
        expect_close(what, terms.total, f64_at(totals, (size_t)t), 60 * KL_ABS, RECON_REL);
        if (t == steps) break;
        assert_int_equal(jvae_model_backward(g.model), JVAE_OK);
        assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
    }
    const float *params = jvae_model_params(g.model);
    for (int t = 0; t < jvae_model_param_tensor_count(g.model); t++) {
        const char *name;
        int ndim;
        int64_t shape[4], offset, numel = 1;
        jvae_model_param_info(g.model, t, &name, &ndim, shape, &offset);
        for (int d = 0; d < ndim; d++) numel *= shape[d];
        float *delta = malloc((size_t)numel * sizeof *delta);
        assert_non_null(delta);
        double scale = 0.0;
        for (int64_t i = 0; i < numel; i++) {
            delta[i] = params[offset + i] - g.initial[offset + i];
            scale += (double)delta[i] * delta[i];
        }
        scale = sqrt(scale * (double)numel / 3.0);
        char key[160];
        snprintf(key, sizeof key, "adam_delta_projection:%s", name);
        const record *proj = find(g.fx, key);
        assert_non_null(proj);
        for (size_t k = 0; k < proj->numel; k++) {
            const double got = projection(delta, (size_t)numel, t, (int)k);
            if (!(fabs(got - f64_at(proj, k)) <= ADAM_DELTA * scale))
                fail_msg("%s: projection %zu of the Adam change is %.9g, PyTorch %.9g", name, k,
                         got, f64_at(proj, k));
        }
        free(delta);
    }
    jvae_optimizer_free(opt);
    teardown_golden(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_forward_backward),
        cmocka_unit_test(test_golden_adam_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
