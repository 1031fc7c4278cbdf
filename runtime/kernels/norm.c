/* kernels/norm.c: batch and layer normalisation.  Needs common.c.
 *
 * Batch normalisation works on x[B, C, S]: C channels of S values each
 * (S = h w for an image, l for [c, l], 1 for a vector [n] whose n features
 * are the channels), with the arithmetic of torch.nn.BatchNorm1d/2d on the
 * CPU: statistics summed in double (8 running sums a row), two passes (the
 * mean, then the sum of squared deviations from it), the output as
 * (x - mean) a + beta with a = gamma invstd per channel, in double.
 * Channels go in chunks of LC__BN_CHUNK, whose sums live on the stack;
 * within a chunk the channels are split over the threads, so results do not
 * depend on the thread count.
 *
 * Data-parallel training (layerc under MPI) normalises with the statistics
 * of the global batch, as torch.nn.SyncBatchNorm: the per-channel sums of
 * each chunk go through lc_dist_batch_sum (runtime/dist.c) before they are
 * used.  That hook exists only when these kernels are compiled into layerc
 * (LC_POOL); pasted into generated C, it is nothing.
 *
 * Layer normalisation works on x[R, D]: each of the R rows of D values is
 * normalised by its own mean and variance, with gamma and beta along D, as
 * torch.nn.LayerNorm(D). */
/* ------------------------------------------------------------------------ */

#ifdef LC_POOL
void lc_dist_batch_sum(double *v, int n, int weighted);
int lc_dist_batch_rows(int local);
#define LC__BATCH_SUM(v, n, weighted) lc_dist_batch_sum(v, n, weighted)
#define LC__BATCH_ROWS(local) lc_dist_batch_rows(local)
#else
#define LC__BATCH_SUM(v, n, weighted) ((void)0)
#define LC__BATCH_ROWS(local) (local)
#endif

#define LC__BN_CHUNK 64

enum { LC__BN_SUM, LC__BN_VAR, LC__BN_APPLY, LC__BN_EVAL, LC__BN_BSUM, LC__BN_BAPPLY, LC__BN_EBACK };

typedef struct {
    lc_real *out, *dinp;
    const lc_real *inp, *dout, *gamma, *beta;
    const lc_real *mean, *invstd;           /* the saved statistics (backward) */
    const lc_real *run_mean, *run_var;      /* eval mode */
    double *acc, *acc2;                     /* per channel of the chunk */
    double count, eps;
    int B, C, S, c0, nc, parts, phase, add;
} lc__bn_job;

/* x's value (b, c, s) is p[((size_t)b * C + c) * S + s] */
#define LC__BN_AT(p, b, c) ((p) + ((size_t)(b) * (size_t)j->C + (size_t)(c)) * (size_t)j->S)

/* Sums in double of n values, in 8 running sums so that each addition need
 * not wait for the one before (and gcc vectorises them). */
static inline double lc__bn_sum(const lc_real *x, int n)
{
    double a[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
    int i, k;
    for (i = 0; i + 8 <= n; i += 8)
        for (k = 0; k < 8; k++) a[k] += (double)x[i + k];
    for (k = 0; i < n; i++, k++) a[k] += (double)x[i];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* sum of (x - m)^2 */
static inline double lc__bn_sum_sq(const lc_real *x, int n, double m)
{
    double a[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
    int i, k;
    for (i = 0; i + 8 <= n; i += 8)
        for (k = 0; k < 8; k++) a[k] += ((double)x[i + k] - m) * ((double)x[i + k] - m);
    for (k = 0; i < n; i++, k++) a[k] += ((double)x[i] - m) * ((double)x[i] - m);
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* *s1 += sum of dy, *s2 += sum of (x - m) dy */
static inline void lc__bn_sum_dy(const lc_real *dy, const lc_real *x, int n, double m, double *s1,
                              double *s2)
{
    double a[8] = { 0, 0, 0, 0, 0, 0, 0, 0 }, b[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
    int i, k;
    for (i = 0; i + 8 <= n; i += 8)
        for (k = 0; k < 8; k++) {
            a[k] += (double)dy[i + k];
            b[k] += ((double)x[i + k] - m) * (double)dy[i + k];
        }
    for (k = 0; i < n; i++, k++) {
        a[k] += (double)dy[i];
        b[k] += ((double)x[i] - m) * (double)dy[i];
    }
    *s1 += ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    *s2 += ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]));
}

static void lc__bn_task(void *p, int t)
{
    const lc__bn_job *j = (const lc__bn_job *)p;
    int lo, hi, k, b, s, S = j->S;
    lc__range(j->nc, j->parts, t, 1, &lo, &hi);
    for (k = lo; k < hi; k++) {
        int c = j->c0 + k;
        double s1 = 0, s2 = 0, a, sh, m;
        switch (j->phase) {
        case LC__BN_SUM:
            for (b = 0; b < j->B; b++) s1 += lc__bn_sum(LC__BN_AT(j->inp, b, c), S);
            j->acc[k] = s1;
            break;
        case LC__BN_VAR:
            m = j->acc[k];
            for (b = 0; b < j->B; b++) s2 += lc__bn_sum_sq(LC__BN_AT(j->inp, b, c), S, m);
            j->acc2[k] = s2;
            break;
        case LC__BN_APPLY:
        case LC__BN_EVAL:
            /* y = (x - m) a + beta in double: x a + (beta - m a) in float
             * would lose the digits that x and m share (values around 1000
             * with a spread of 1 keep 4 of them) */
            if (j->phase == LC__BN_APPLY) {
                m = j->acc[k];   /* the batch mean, as computed */
                a = (double)j->invstd[c] * (double)j->gamma[c];
            } else {
                m = (double)j->run_mean[c];
                a = (double)j->gamma[c] / sqrt((double)j->run_var[c] + j->eps);
            }
            sh = (double)j->beta[c];
            for (b = 0; b < j->B; b++) {
                const lc_real *x = LC__BN_AT(j->inp, b, c);
                lc_real *y = LC__BN_AT(j->out, b, c);
                for (s = 0; s < S; s++) y[s] = (lc_real)(((double)x[s] - m) * a + sh);
            }
            break;
        case LC__BN_BSUM:
        case LC__BN_EBACK: {
            double mu = j->phase == LC__BN_BSUM ? (double)j->mean[c] : (double)j->run_mean[c];
            for (b = 0; b < j->B; b++)
                lc__bn_sum_dy(LC__BN_AT(j->dout, b, c), LC__BN_AT(j->inp, b, c), S, mu, &s1, &s2);
            j->acc[k] = s1, j->acc2[k] = s2;
            if (j->phase == LC__BN_EBACK && j->dinp) {
                lc_real g = (lc_real)((double)j->gamma[c] / sqrt((double)j->run_var[c] + j->eps));
                for (b = 0; b < j->B; b++) {
                    const lc_real *dy = LC__BN_AT(j->dout, b, c);
                    lc_real *dx = LC__BN_AT(j->dinp, b, c);
                    if (j->add)
                        for (s = 0; s < S; s++) dx[s] += dy[s] * g;
                    else
                        for (s = 0; s < S; s++) dx[s] = dy[s] * g;
                }
            }
            break;
        }
        case LC__BN_BAPPLY: {
            /* dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)) */
            double is = (double)j->invstd[c], mdy = j->acc[k] / j->count;
            double k2 = is * is * j->acc2[k] / j->count, g = is * (double)j->gamma[c];
            double mu = (double)j->mean[c];
            for (b = 0; b < j->B; b++) {
                const lc_real *x = LC__BN_AT(j->inp, b, c), *dy = LC__BN_AT(j->dout, b, c);
                lc_real *dx = LC__BN_AT(j->dinp, b, c);
                if (j->add)
                    for (s = 0; s < S; s++)
                        dx[s] += (lc_real)(((double)dy[s] - mdy - ((double)x[s] - mu) * k2) * g);
                else
                    for (s = 0; s < S; s++)
                        dx[s] = (lc_real)(((double)dy[s] - mdy - ((double)x[s] - mu) * k2) * g);
            }
            break;
        }
        }
    }
}

/* Runs one phase over the chunk's channels. */
static void lc__bn_phase(lc__bn_job *j, int phase)
{
    int T = LC__THREADS;
    j->phase = phase;
    j->parts = T > 1 && (double)j->B * j->nc * j->S >= LC_PAR_VALUES ? (T < j->nc ? T : j->nc) : 1;
    if (j->parts > 1)
        LC__FOR(j->parts, lc__bn_task, j);
    else
        lc__bn_task(j, 0);
}

static void lc__bn_init(lc__bn_job *j, const lc_real *inp, int B, int C, int S, double *acc,
                        double *acc2)
{
    memset(j, 0, sizeof *j);
    j->inp = inp, j->B = B, j->C = C, j->S = S, j->acc = acc, j->acc2 = acc2;
}

/* Training: normalises each channel by the batch's mean and biased
 * variance; mean[C] and invstd[C] = 1 / sqrt(var + eps) are kept for the
 * backward pass; the running statistics move by `momentum` towards the
 * batch's mean and unbiased variance (unchanged when a channel has a
 * single value, which torch refuses). */
LC_KERNEL void lc_batchnorm_forward_train(lc_real *out, lc_real *mean, lc_real *invstd,
                                          lc_real *run_mean, lc_real *run_var, const lc_real *inp,
                                          const lc_real *gamma, const lc_real *beta, int B, int C,
                                          int S, double momentum, double eps)
{
    double acc[LC__BN_CHUNK], acc2[LC__BN_CHUNK];
    double n = (double)LC__BATCH_ROWS(B) * S;   /* values a channel has in the (global) batch */
    lc__bn_job j;
    int c0, k;
    lc__bn_init(&j, inp, B, C, S, acc, acc2);
    j.out = out, j.gamma = gamma, j.beta = beta, j.mean = mean, j.invstd = invstd;
    if (n < 1)
        return;
    for (c0 = 0; c0 < C; c0 += LC__BN_CHUNK) {
        j.c0 = c0, j.nc = C - c0 < LC__BN_CHUNK ? C - c0 : LC__BN_CHUNK;
        lc__bn_phase(&j, LC__BN_SUM);
        LC__BATCH_SUM(acc, j.nc, 0);
        for (k = 0; k < j.nc; k++) acc[k] /= n;
        lc__bn_phase(&j, LC__BN_VAR);
        LC__BATCH_SUM(acc2, j.nc, 0);
        for (k = 0; k < j.nc; k++) {
            int c = c0 + k;
            mean[c] = (lc_real)acc[k];
            invstd[c] = (lc_real)(1 / sqrt(acc2[k] / n + eps));
            if (n > 1) {
                run_mean[c] = (lc_real)(momentum * acc[k] + (1 - momentum) * (double)run_mean[c]);
                run_var[c] = (lc_real)(momentum * (acc2[k] / (n - 1)) + (1 - momentum) * (double)run_var[c]);
            }
        }
        lc__bn_phase(&j, LC__BN_APPLY);
    }
}

/* Evaluation: the running statistics normalise, y = x a + b per channel. */
LC_KERNEL void lc_batchnorm_forward_eval(lc_real *out, const lc_real *inp, const lc_real *gamma,
                                         const lc_real *beta, const lc_real *run_mean,
                                         const lc_real *run_var, int B, int C, int S, double eps)
{
    lc__bn_job j;
    lc__bn_init(&j, inp, B, C, S, NULL, NULL);
    j.out = out, j.gamma = gamma, j.beta = beta, j.run_mean = run_mean, j.run_var = run_var;
    j.eps = eps;
    for (j.c0 = 0; j.c0 < C; j.c0 += LC__BN_CHUNK) {
        j.nc = C - j.c0 < LC__BN_CHUNK ? C - j.c0 : LC__BN_CHUNK;
        lc__bn_phase(&j, LC__BN_EVAL);
    }
}

/* The backward pass of the training forward (batch statistics, mean and
 * invstd as it saved them): dgamma += sum dy xhat, dbeta += sum dy, and
 * dinp (+)= gamma invstd (dy - mean(dy) - xhat mean(dy xhat)), adding when
 * `add`, else assigning; dinp, dgamma, dbeta may be NULL. */
LC_KERNEL void lc_batchnorm_backward_train(lc_real *dinp, lc_real *dgamma, lc_real *dbeta,
                                           const lc_real *dout, const lc_real *inp,
                                           const lc_real *mean, const lc_real *invstd,
                                           const lc_real *gamma, int B, int C, int S, int add)
{
    double acc[2 * LC__BN_CHUNK];
    lc__bn_job j;
    int k;
    lc__bn_init(&j, inp, B, C, S, acc, NULL);
    j.dinp = dinp, j.dout = dout, j.mean = mean, j.invstd = invstd, j.gamma = gamma, j.add = add;
    j.count = (double)LC__BATCH_ROWS(B) * S;
    if (j.count < 1)
        return;
    for (j.c0 = 0; j.c0 < C; j.c0 += LC__BN_CHUNK) {
        j.nc = C - j.c0 < LC__BN_CHUNK ? C - j.c0 : LC__BN_CHUNK;
        j.acc2 = acc + j.nc;   /* one array, so that MPI sums both at once */
        lc__bn_phase(&j, LC__BN_BSUM);
        for (k = 0; k < j.nc; k++) {
            if (dgamma) dgamma[j.c0 + k] += (lc_real)(j.acc2[k] * (double)invstd[j.c0 + k]);
            if (dbeta) dbeta[j.c0 + k] += (lc_real)acc[k];
        }
        if (!dinp)
            continue;
        /* under MPI: the sums over the global batch (the weight gradients
         * above keep this rank's own, which the runtime adds up) */
        LC__BATCH_SUM(acc, 2 * j.nc, 1);
        lc__bn_phase(&j, LC__BN_BAPPLY);
    }
}

/* The backward pass of the evaluating forward (running statistics): an
 * affine map, dinp (+)= dy gamma / sqrt(var + eps), dgamma += sum dy xhat,
 * dbeta += sum dy. */
LC_KERNEL void lc_batchnorm_backward_eval(lc_real *dinp, lc_real *dgamma, lc_real *dbeta,
                                          const lc_real *dout, const lc_real *inp,
                                          const lc_real *gamma, const lc_real *run_mean,
                                          const lc_real *run_var, int B, int C, int S, double eps,
                                          int add)
{
    double acc[LC__BN_CHUNK], acc2[LC__BN_CHUNK];
    lc__bn_job j;
    int k;
    lc__bn_init(&j, inp, B, C, S, acc, acc2);
    j.dinp = dinp, j.dout = dout, j.gamma = gamma, j.run_mean = run_mean, j.run_var = run_var;
    j.eps = eps, j.add = add;
    for (j.c0 = 0; j.c0 < C; j.c0 += LC__BN_CHUNK) {
        j.nc = C - j.c0 < LC__BN_CHUNK ? C - j.c0 : LC__BN_CHUNK;
        lc__bn_phase(&j, LC__BN_EBACK);
        for (k = 0; k < j.nc; k++) {
            int c = j.c0 + k;
            if (dgamma) dgamma[c] += (lc_real)(acc2[k] / sqrt((double)run_var[c] + eps));
            if (dbeta) dbeta[c] += (lc_real)acc[k];
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Layer normalisation: rows of D values.  The forward pass and dinp split
 * the rows over the threads; dgamma and dbeta (sums over the rows) split the
 * D columns, so each is summed in row order whatever the thread count.     */

typedef struct {
    lc_real *out, *dinp, *dgamma, *dbeta;
    lc_real *keep_mean, *keep_invstd;       /* forward: kept here unless NULL */
    const lc_real *inp, *dout, *gamma, *beta;
    const lc_real *mean, *invstd;           /* backward: as the forward kept them */
    double eps;
    int R, D, parts, add;
} lc__ln_job;

static void lc__ln_forward_task(void *p, int t)
{
    const lc__ln_job *j = (const lc__ln_job *)p;
    int lo, hi, r, i, D = j->D;
    lc__range(j->R, j->parts, t, 1, &lo, &hi);
    for (r = lo; r < hi; r++) {
        const lc_real *x = j->inp + (size_t)r * (size_t)D;
        lc_real *y = j->out + (size_t)r * (size_t)D;
        double s1 = 0, s2 = 0, m, is;
        for (i = 0; i < D; i++) s1 += (double)x[i];
        m = s1 / D;
        for (i = 0; i < D; i++) s2 += ((double)x[i] - m) * ((double)x[i] - m);
        is = 1 / sqrt(s2 / D + j->eps);
        for (i = 0; i < D; i++) y[i] = (lc_real)(((double)x[i] - m) * is) * j->gamma[i] + j->beta[i];
        if (j->keep_mean) j->keep_mean[r] = (lc_real)m, j->keep_invstd[r] = (lc_real)is;
    }
}

/* out[R, D] = (x - mean) invstd gamma + beta per row, the biased variance;
 * the rows' mean[R] and invstd[R] kept for the backward pass (unless NULL). */
LC_KERNEL void lc_layernorm_forward(lc_real *out, lc_real *mean, lc_real *invstd, const lc_real *inp,
                                    const lc_real *gamma, const lc_real *beta, int R, int D,
                                    double eps)
{
    lc__ln_job j;
    int T = LC__THREADS;
    memset(&j, 0, sizeof j);
    j.out = out, j.keep_mean = mean, j.keep_invstd = invstd, j.inp = inp, j.gamma = gamma, j.beta = beta;
    j.eps = eps, j.R = R, j.D = D;
    j.parts = T > 1 && (double)R * D >= LC_PAR_VALUES ? (T < R ? T : R) : 1;
    if (R <= 0)
        return;
    if (j.parts > 1)
        LC__FOR(j.parts, lc__ln_forward_task, &j);
    else
        lc__ln_forward_task(&j, 0);
}

/* dx = invstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma, per row */
static void lc__ln_dinp_task(void *p, int t)
{
    const lc__ln_job *j = (const lc__ln_job *)p;
    int lo, hi, r, i, D = j->D;
    lc__range(j->R, j->parts, t, 1, &lo, &hi);
    for (r = lo; r < hi; r++) {
        const lc_real *x = j->inp + (size_t)r * (size_t)D, *dy = j->dout + (size_t)r * (size_t)D;
        lc_real *dx = j->dinp + (size_t)r * (size_t)D;
        double m = (double)j->mean[r], is = (double)j->invstd[r], s1 = 0, s2 = 0;
        for (i = 0; i < D; i++) {
            double g = (double)dy[i] * (double)j->gamma[i];
            s1 += g;
            s2 += g * ((double)x[i] - m) * is;
        }
        s1 /= D, s2 /= D;
        for (i = 0; i < D; i++) {
            double v = is * ((double)dy[i] * (double)j->gamma[i] - s1 - ((double)x[i] - m) * is * s2);
            if (j->add) dx[i] += (lc_real)v;
            else dx[i] = (lc_real)v;
        }
    }
}

static void lc__ln_params_task(void *p, int t)
{
    const lc__ln_job *j = (const lc__ln_job *)p;
    int lo, hi, r, i, D = j->D;
    lc__range(D, j->parts, t, 16, &lo, &hi);
    for (i = lo; i < hi; i++) {
        double sg = 0, sb = 0;
        for (r = 0; r < j->R; r++) {
            double dy = (double)j->dout[(size_t)r * (size_t)D + (size_t)i];
            sg += dy * (((double)j->inp[(size_t)r * (size_t)D + (size_t)i] - (double)j->mean[r]) *
                         (double)j->invstd[r]);
            sb += dy;
        }
        if (j->dgamma) j->dgamma[i] += (lc_real)sg;
        if (j->dbeta) j->dbeta[i] += (lc_real)sb;
    }
}

/* dgamma += sum over rows of dy xhat, dbeta += sum of dy, dinp (+)= as
 * torch's layer_norm backward (adds when `add`); NULL gradients skipped. */
LC_KERNEL void lc_layernorm_backward(lc_real *dinp, lc_real *dgamma, lc_real *dbeta,
                                     const lc_real *dout, const lc_real *inp, const lc_real *mean,
                                     const lc_real *invstd, const lc_real *gamma, int R, int D,
                                     int add)
{
    lc__ln_job j;
    int T = LC__THREADS, big = T > 1 && (double)R * D >= LC_PAR_VALUES;
    memset(&j, 0, sizeof j);
    j.dinp = dinp, j.dgamma = dgamma, j.dbeta = dbeta, j.dout = dout, j.inp = inp;
    j.mean = mean, j.invstd = invstd, j.gamma = gamma, j.R = R, j.D = D, j.add = add;
    if (R <= 0)
        return;
    if (dinp) {
        j.parts = big ? (T < R ? T : R) : 1;
        if (j.parts > 1)
            LC__FOR(j.parts, lc__ln_dinp_task, &j);
        else
            lc__ln_dinp_task(&j, 0);
    }
    if (dgamma || dbeta) {
        j.parts = big ? (T < (D + 15) / 16 ? T : (D + 15) / 16) : 1;
        if (j.parts > 1)
            LC__FOR(j.parts, lc__ln_params_task, &j);
        else
            lc__ln_params_task(&j, 0);
    }
}

/* ------------------------------------------------------------------------ */
/* normalize: a constant affine map per channel, (x - mean[c]) / std[c].    */

typedef struct {
    lc_real *out;
    const lc_real *inp, *mean, *std;
    int rows, C, S, parts, add;
} lc__nz_job;

static void lc__nz_forward_task(void *p, int t)
{
    const lc__nz_job *j = (const lc__nz_job *)p;
    int lo, hi, r, i, S = j->S;
    lc__range(j->rows, j->parts, t, 1, &lo, &hi);
    for (r = lo; r < hi; r++) {
        const lc_real *x = j->inp + (size_t)r * (size_t)S, m = j->mean[r % j->C], s = j->std[r % j->C];
        lc_real *y = j->out + (size_t)r * (size_t)S;
        for (i = 0; i < S; i++) y[i] = (x[i] - m) / s;
    }
}

static void lc__nz_backward_task(void *p, int t)
{
    const lc__nz_job *j = (const lc__nz_job *)p;
    int lo, hi, r, i, S = j->S;
    lc__range(j->rows, j->parts, t, 1, &lo, &hi);
    for (r = lo; r < hi; r++) {
        const lc_real *dy = j->inp + (size_t)r * (size_t)S, s = j->std[r % j->C];
        lc_real *dx = j->out + (size_t)r * (size_t)S;
        if (j->add)
            for (i = 0; i < S; i++) dx[i] += dy[i] / s;
        else
            for (i = 0; i < S; i++) dx[i] = dy[i] / s;
    }
}

static void lc__nz_run(lc__nz_job *j, void (*task)(void *, int), int B)
{
    int T = LC__THREADS;
    j->rows = B * j->C;
    j->parts = T > 1 && (double)j->rows * j->S >= LC_PAR_VALUES ? (T < j->rows ? T : j->rows) : 1;
    if (j->rows <= 0 || j->S <= 0)
        return;
    if (j->parts > 1)
        LC__FOR(j->parts, task, j);
    else
        task(j, 0);
}

/* out[B, C, S] = (inp - mean[c]) / std[c], as torchvision's Normalize */
LC_KERNEL void lc_normalize_forward(lc_real *out, const lc_real *inp, const lc_real *mean, const lc_real *std,
                                    int B, int C, int S)
{
    lc__nz_job j;
    j.out = out, j.inp = inp, j.mean = mean, j.std = std, j.C = C, j.S = S, j.add = 0;
    lc__nz_run(&j, lc__nz_forward_task, B);
}

/* dinp[B, C, S] (add: +=) dout / std[c] */
LC_KERNEL void lc_normalize_backward(lc_real *dinp, const lc_real *dout, const lc_real *std, int B, int C, int S,
                                     int add)
{
    lc__nz_job j;
    j.out = dinp, j.inp = dout, j.mean = NULL, j.std = std, j.C = C, j.S = S, j.add = add;
    lc__nz_run(&j, lc__nz_backward_task, B);
}
