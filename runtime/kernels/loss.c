/* kernels/loss.c: the losses of SPEC.md (the mean over the batch of each
 * sample's loss, added up in double) and their fused gradient.  Needs
 * common.c and vmath.c. */
/* ------------------------------------------------------------------------ */
/* Sums in LC__LANES double lanes (vectorised; a single double would be a
 * chain in order), chunk by chunk (lc__sum_run: the same bits on any
 * number of threads).                                                      */

/* the chunks [c0, c1) of task t, and chunk c's items [lo, hi) */
static inline void lc__chunks(const lc__elem_job *j, int t, int *c0, int *c1)
{
    lc__range((j->n + j->chunk - 1) / j->chunk, j->parts, t, 1, c0, c1);
}
static inline void lc__chunk_items(const lc__elem_job *j, int c, int *lo, int *hi)
{
    *lo = c * j->chunk;
    *hi = *lo + j->chunk < j->n ? *lo + j->chunk : j->n;
}
static inline double lc__lanes_sum(const double *s)
{
    double r = 0;
    int l;
    for (l = 0; l < LC__LANES; l++)
        r += s[l];
    return r;
}

/* per value: 1/2 (y - t)^2 */
static void lc__mse_sum(void *p, int task)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    const lc_real *y = j->x, *t = j->y;
    int c, c0, c1, i, l, lo, hi;
    lc__chunks(j, task, &c0, &c1);
    for (c = c0; c < c1; c++) {
        double s[LC__LANES] = { 0 };
        lc__chunk_items(j, c, &lo, &hi);
        for (i = lo; i + LC__LANES <= hi; i += LC__LANES)
            for (l = 0; l < LC__LANES; l++) {
                double d = (double)y[i + l] - t[i + l];
                s[l] += 0.5 * d * d;
            }
        for (; i < hi; i++) {
            double d = (double)y[i] - t[i];
            s[0] += 0.5 * d * d;
        }
        j->part[c] = lc__lanes_sum(s);
    }
}

/* per value: -(t log y + (1 - t) log(1 - y)), each log at least -100 and
 * -100 when y is not in (0, 1) (BCELoss's clamp; NaN counts as outside) */
static inline lc_real lc__log_clamped(lc_real v)
{
    lc_real l = LC__LOG(v);
    return LC__SELECT((v > 0) & (l >= -100), l, (lc_real)-100);
}
static void lc__bce_sum(void *p, int task)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    const lc_real *y = j->x, *t = j->y;
    int c, c0, c1, i, l, lo, hi;
    lc__chunks(j, task, &c0, &c1);
    for (c = c0; c < c1; c++) {
        double s[LC__LANES] = { 0 };
        lc__chunk_items(j, c, &lo, &hi);
        for (i = lo; i + LC__LANES <= hi; i += LC__LANES)
            for (l = 0; l < LC__LANES; l++) {
                double tv = t[i + l];
                s[l] -= tv * lc__log_clamped(y[i + l]) + (1 - tv) * lc__log_clamped(1 - y[i + l]);
            }
        for (; i < hi; i++) {
            double tv = t[i];
            s[0] -= tv * lc__log_clamped(y[i]) + (1 - tv) * lc__log_clamped(1 - y[i]);
        }
        j->part[c] = lc__lanes_sum(s);
    }
}

/* t (z - max - lse), 0 where t is 0 (a logit of -inf is a probability of
 * 0, not a NaN), as CrossEntropyLoss picks the target's term */
static inline double lc__ce_term(lc_real t, lc_real z, lc_real mx, double lse)
{
    double v = t * ((double)z - mx - lse);
    return t != 0 ? v : 0;
}

/* the loss of one row of n logits, given e[j] = e^(z_j - max) */
static inline double lc__ce_row(const lc_real *z, const lc_real *t, const lc_real *e, lc_real mx, int n)
{
    double s[LC__LANES] = { 0 }, ts[LC__LANES] = { 0 }, lse;
    int i, l;
    for (i = 0; i + LC__LANES <= n; i += LC__LANES)
        for (l = 0; l < LC__LANES; l++)
            s[l] += e[i + l];
    for (; i < n; i++)
        s[0] += e[i];
    lse = log(lc__lanes_sum(s));
    for (i = 0; i + LC__LANES <= n; i += LC__LANES)
        for (l = 0; l < LC__LANES; l++)
            ts[l] += lc__ce_term(t[i + l], z[i + l], mx, lse);
    for (; i < n; i++)
        ts[0] += lc__ce_term(t[i], z[i], mx, lse);
    return -lc__lanes_sum(ts);
}

/* per row of len logits z: -sum_j t_j (z_j - max - log sum_k e^(z_k - max))
 * (log softmax without log 0).  Rows of up to LC__BLOCK values go through
 * a buffer by blocks, as softmax's: the exponentials of a block in one
 * loop; a longer row is a block of its own, a piece at a time. */
static void lc__cross_entropy_sum(void *p, int task)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    const int n = j->len, per = n <= LC__BLOCK ? LC__BLOCK / n : 1;
    lc_real e[LC__BLOCK], mx[LC__BLOCK];
    int c, c0, c1, b0, b, i, k, lo, hi;
    lc__chunks(j, task, &c0, &c1);
    for (c = c0; c < c1; c++) {
        double total = 0;
        lc__chunk_items(j, c, &lo, &hi);
        for (b0 = lo; b0 < hi; b0 += per) {
            int b1 = b0 + per < hi ? b0 + per : hi;
            if (n > LC__BLOCK) {   /* one long row: its sum of e^ piece by piece */
                const lc_real *z = j->x + (size_t)b0 * (size_t)n, *t = j->y + (size_t)b0 * (size_t)n;
                double s = 0, lse, ts = 0;
                lc_real m = lc__row_max(z, n);
                for (k = 0; k < n; k += LC__BLOCK) {
                    int len = n - k < LC__BLOCK ? n - k : LC__BLOCK;
                    for (i = 0; i < len; i++)
                        e[i] = LC__EXP(z[k + i] - m);
                    s += lc__row_sum(e, len);
                }
                lse = log(s);
                for (i = 0; i < n; i++)
                    ts += lc__ce_term(t[i], z[i], m, lse);
                total -= ts;
                continue;
            }
            for (b = b0; b < b1; b++) {
                const lc_real *z = j->x + (size_t)b * (size_t)n;
                lc_real m = mx[b - b0] = lc__row_max(z, n);
                for (i = 0; i < n; i++)
                    e[(b - b0) * n + i] = z[i] - m;
            }
            for (i = 0; i < (b1 - b0) * n; i++)
                e[i] = LC__EXP(e[i]);
            for (b = b0; b < b1; b++)
                total += lc__ce_row(j->x + (size_t)b * (size_t)n, j->y + (size_t)b * (size_t)n,
                                    e + (b - b0) * n, mx[b - b0], n);
        }
        j->part[c] = total;
    }
}

/* sum over y[B, n] of 1/2 (y - t)^2, over B */
LC_KERNEL double lc_mse_forward(const lc_real *y, const lc_real *t, int B, int n)
{
    lc__elem_job j;
    j.x = y, j.y = t;
    return B > 0 ? lc__sum_run(&j, lc__mse_sum, B * n, 1) / B : 0;
}

LC_KERNEL double lc_bce_forward(const lc_real *y, const lc_real *t, int B, int n)
{
    lc__elem_job j;
    j.x = y, j.y = t;
    return B > 0 ? lc__sum_run(&j, lc__bce_sum, B * n, 1) / B : 0;
}

LC_KERNEL double lc_cross_entropy_forward(const lc_real *z, const lc_real *t, int B, int n)
{
    lc__elem_job j;
    j.x = z, j.y = t;
    return B > 0 ? lc__sum_run(&j, lc__cross_entropy_sum, B, n) / B : 0;
}

/* ------------------------------------------------------------------------ */
/* The gradient of the batch's mean loss at the output of all three losses,
 * through the softmax or the sigmoid for cross_entropy and bce: (y - t) / B,
 * divided as the generated loops divide.                                   */

static void lc__loss_bwd(void *p, int task)
{
    const lc__elem_job *j = (const lc__elem_job *)p;
    lc_real *dinp = j->a;
    const lc_real *y = j->x, *t = j->y, B = j->k[0];
    int i, lo, hi;
    lc__range(j->n, j->parts, task, 64, &lo, &hi);
    if (j->flag)
        for (i = lo; i < hi; i++)
            dinp[i] += (y[i] - t[i]) / B;
    else
        for (i = lo; i < hi; i++)
            dinp[i] = (y[i] - t[i]) / B;
}

LC_KERNEL void lc_loss_backward(lc_real *dinp, const lc_real *y, const lc_real *t, int B, int n, int add)
{
    lc__elem_job j;
    j.a = dinp, j.x = y, j.y = t, j.flag = add, j.k[0] = (lc_real)B;
    lc__elem_run(&j, lc__loss_bwd, B * n);
}
