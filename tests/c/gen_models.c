/* gen_models: writes N random, valid models that between them use every op,
 * option, loss and optimizer, for `layerc check` (tests/t_gradcheck.sh).
 *     gen_models DIR N SEED
 * Shapes are tracked here so that every model checks; sizes stay small
 * (odd ones on purpose) so finite differences are quick. */
#include <stdio.h>
#include <stdlib.h>

static unsigned long long rng;
static int rnd(int n) /* uniform in [0, n) */
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (int)((rng >> 33) % (unsigned long long)n);
}

typedef struct { int rank, d[3]; } Shape;
static int size(Shape s) { int n = 1; for (int i = 0; i < s.rank; i++) n *= s.d[i]; return n; }

static FILE *f;
static int nl;                 /* layers written */
static Shape shapes[64];

static int add(Shape s, const char *fmt, int a, int b, int c)
{
    fprintf(f, "layer l%d = ", nl);
    fprintf(f, fmt, a, b, c);
    fprintf(f, ";\n");
    shapes[nl] = s;
    return nl++;
}

static int vec(int n) { Shape s = { 1, { n, 0, 0 } }; return n, s.rank = 1, s.d[0] = n, add(s, "", 0, 0, 0) * 0 - 1; }

/* One random op on layer x; returns the new layer. */
static int step(int x, int *weights)
{
    Shape s = shapes[x];
    char buf[256];
    if (s.rank == 3) {
        int c = s.d[0], h = s.d[1], w = s.d[2];
        switch (rnd(4)) {
        case 0: {
            int k = 1 + rnd(3), st = 1 + rnd(2), p = rnd(2), fl = 1 + rnd(3), bias = rnd(3) != 0;
            if (k > h + 2 * p || k > w + 2 * p) break;
            Shape o = { 3, { fl, (h + 2 * p - k) / st + 1, (w + 2 * p - k) / st + 1 } };
            snprintf(buf, sizeof buf, "conv2d(l%%d, %d, kernel=%d, stride=%d, pad=%d, bias=%d%s)", fl, k, st, p,
                     bias, rnd(2) ? "" : ", init=he");
            return add(o, buf, x, 0, 0);
        }
        case 1:
        case 2: {
            int k = 2 + rnd(2), st = 1 + rnd(2);
            if (k > h || k > w) break;
            Shape o = { 3, { c, (h - k) / st + 1, (w - k) / st + 1 } };
            snprintf(buf, sizeof buf, "%s(l%%d, size=%d, stride=%d)", rnd(2) ? "maxpool" : "avgpool", k, st);
            return add(o, buf, x, 0, 0);
        }
        }
        Shape o = { 1, { size(s), 0, 0 } };
        return add(o, "flatten(l%d)", x, 0, 0);
    }
    int n = s.d[0];
    switch (rnd(12)) {
    case 0: { Shape o = { 1, { 1 + rnd(7), 0, 0 } }; snprintf(buf, sizeof buf, "dense(l%%d, %d, bias=%d)", o.d[0], rnd(2)); return add(o, buf, x, 0, 0); }
    case 1: return add(s, "relu(l%d)", x, 0, 0);
    case 2: return add(s, "leaky_relu(l%d, alpha=0.2)", x, 0, 0);
    case 3: return add(s, "sigmoid(l%d)", x, 0, 0);
    case 4: return add(s, rnd(2) ? "tanh(l%d)" : "elu(l%d, alpha=0.7)", x, 0, 0);
    case 5: return add(s, "softmax(l%d)", x, 0, 0);
    case 6: { /* a sibling of the same size, then add or mul: not a chain */
        Shape o = s;
        int y = add(o, "dense(l%d, %d)", x, n, 0);
        return add(o, rnd(2) ? "add(l%d, l%d)" : "mul(l%d, l%d)", x, y, 0);
    }
    case 7: {
        Shape o = { 1, { 2 + rnd(4), 0, 0 } };
        int y = add(o, "tanh(l%d)", x, 0, 0) ; (void)y;
        Shape p = { 1, { 2 + rnd(4), 0, 0 } };
        snprintf(buf, sizeof buf, "dense(l%%d, %d)", p.d[0]);
        int z = add(p, buf, x, 0, 0);
        Shape q = { 1, { n + p.d[0], 0, 0 } };
        return add(q, "concat(l%d, l%d)", x, z, 0);
    }
    case 8: {
        if (n % 2) break;
        Shape o = { 3, { 1, 2, n / 2 } };
        return add(o, "reshape(l%d, [1, 2, %d])", x, n / 2, 0);
    }
    case 9: return add(s, "dropout(l%d, 0.3)", x, 0, 0);
    case 10: { /* declared weights with linear */
        int m = 1 + rnd(5), k = (*weights)++;
        fprintf(f, "%sweight w%d[%d, %d]%s;\nweight b%d[%d];\n", rnd(4) ? "" : "frozen ", k, m, n,
                rnd(2) ? " = normal(0, 0.5)" : "", k, m);
        Shape o = { 1, { m, 0, 0 } };
        fprintf(f, "layer l%d = linear(l%d, w%d%s);\n", nl, x, k, "");
        if (rnd(2)) { fprintf(f, "layer l%d = linear(l%d, w%d, b%d);\n", nl + 1, x, k, k); shapes[nl] = o; nl++; }
        shapes[nl] = o;
        return nl++;
    }
    }
    return add(s, "identity(l%d)", x, 0, 0);
}

int main(int argc, char **argv)
{
    if (argc != 4) return 2;
    int count = atoi(argv[2]);
    rng = strtoull(argv[3], NULL, 10) * 2654435761u + 1;
    (void)vec;
    for (int i = 0; i < count; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/random%03d.lyr", argv[1], i);
        f = fopen(path, "w");
        if (!f) return 1;
        nl = 0;
        int weights = 0, loss = rnd(3), x;
        fprintf(f, "model r%d;\n", i);
        if (rnd(2)) {
            Shape s = { 3, { 1 + rnd(3), 3 + rnd(6), 3 + rnd(6) } };
            fprintf(f, "input l0[%d, %d, %d];\n", s.d[0], s.d[1], s.d[2]);
            shapes[0] = s;
        } else {
            Shape s = { 1, { 1 + rnd(9), 0, 0 } };
            fprintf(f, "input l0[%d];\n", s.d[0]);
            shapes[0] = s;
        }
        nl = 1;
        x = 0;
        for (int k = 1 + rnd(4); k > 0 && nl < 40; k--) x = step(x, &weights);
        int classes = 2 + rnd(4);
        fprintf(f, "layer z = dense(l%d, %d%s);\n", x, classes, rnd(2) ? ", init=xavier" : "");
        if (loss == 0) fprintf(f, "output y = identity(z);\nloss mse(y);\n");
        else if (loss == 1) fprintf(f, "output y = softmax(z);\nloss cross_entropy(y);\n");
        else fprintf(f, "output y = sigmoid(z);\nloss bce(y);\n");
        if (rnd(2)) fprintf(f, "train { optimizer = adam(lr=0.01); batch = %d; seed = %d; }\n", 1 + rnd(5), i);
        else fprintf(f, "train { batch = %d; seed = %d; }\n", 1 + rnd(5), i);
        fclose(f);
    }
    return 0;
}
