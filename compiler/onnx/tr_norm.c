/* tr_norm.c: ONNX translators for normalisation (see import_ops.h).
 *
 * Each translator checks every attribute against what the layerc op can
 * express and refuses the node otherwise: the numbers layerc computes must
 * be ONNX's own (the ONNX operator documents, onnx/docs/Operators.md,
 * against SPEC section 1).
 */
#include "import_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The shortest text of layerc's momentum m that gives ONNX's float momentum
 * `keep` (1 - m, as layerc's export writes it) back. */
static const char *momentum_text(ImpCtx *cx, double keep)
{
    char buf[64];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, 1 - keep);
        if ((float)(1 - strtod(buf, NULL)) == (float)keep) break;
    }
    return arena_strdup(cx->a, buf);
}

int tr_batchnorm(ImpCtx *cx)
{
    double eps, momentum;
    int64_t spatial, training;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "epsilon,momentum,spatial,training_mode,is_test,consumed_inputs") ||
        imp_attr_float(cx, "epsilon", 1e-5, &eps) < 0 || imp_attr_float(cx, "momentum", 0.9, &momentum) < 0 ||
        imp_attr_int(cx, "spatial", 1, &spatial) < 0 || imp_attr_int(cx, "training_mode", 0, &training) < 0)
        return 0;
    if (!spatial) return imp_refuse(cx, "spatial=0 normalises each element, not each channel");
    if (training) return imp_refuse(cx, "it runs in training mode; layerc imports the inference graph");
    if (v->shape.rank < 1) return imp_refuse(cx, "its input has no channel axis");
    if (!imp_unused_from(cx, 1, "a running statistic")) return 0;
    long C = v->shape.dims[0];
    OxTensor *g, *b, *m, *var;
    if (!(g = imp_vector_const(cx, 1, "scale", C)) || !(b = imp_vector_const(cx, 2, "bias", C)) ||
        !(m = imp_vector_const(cx, 3, "mean", C)) || !(var = imp_vector_const(cx, 4, "variance", C)))
        return 0;
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    Shape s = v->shape;
    ImpLayer *l = imp_layer(cx, "batchnorm", &x, 1);
    /* ONNX keeps momentum of the old statistics, PyTorch and layerc of the new */
    if (fabs((1 - momentum) - 0.1) > 1e-6) imp_arg(cx, l, "momentum", "%s", momentum_text(cx, momentum));
    if ((float)eps != 1e-5f) imp_arg(cx, l, "eps", "%s", imp_num(cx, eps));
    imp_weight(cx, l, "gamma", g);
    imp_weight(cx, l, "beta", b);
    imp_weight(cx, l, "mean", m);
    imp_weight(cx, l, "var", var);
    l->shape = imp_layer_at(cx, x)->shape;
    return imp_out(cx, l, &s);
}

int tr_layernorm(ImpCtx *cx)
{
    int64_t axis;
    double eps;
    ImpValue *v = imp_layer_in(cx, 0);
    if (!v || !imp_attr_check(cx, "axis,epsilon,stash_type") || imp_attr_int(cx, "axis", -1, &axis) < 0 ||
        imp_attr_float(cx, "epsilon", 1e-5, &eps) < 0)
        return 0;
    int r = v->shape.rank + 1;
    if (axis < 0) axis += r;
    if (axis != r - 1 || r < 2)
        return imp_refuse(cx, "it normalises from axis %lld on; layerc's layernorm normalises the last axis", (long long)axis);
    if (!imp_unused_from(cx, 1, "a statistic")) return 0;
    long D = v->shape.dims[v->shape.rank - 1];
    OxTensor *g = imp_vector_const(cx, 1, "scale", D), *b;
    if (!g) return 0;
    if (imp_in(cx, 2)) {
        if (!(b = imp_vector_const(cx, 2, "bias", D))) return 0;
    } else {
        int64_t dim = D;
        b = oxt_new(cx->a, OXT_FLOAT, 1, &dim);
    }
    int x = imp_want(cx, v, NULL);
    if (x < 0) return 0;
    Shape s = v->shape;
    ImpLayer *l = imp_layer(cx, "layernorm", &x, 1);
    if ((float)eps != 1e-5f) imp_arg(cx, l, "eps", "%s", imp_num(cx, eps));
    imp_weight(cx, l, "gamma", g);
    imp_weight(cx, l, "beta", b);
    l->shape = s;
    return imp_out(cx, l, &s);
}
