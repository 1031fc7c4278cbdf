/* tr_activation.c: ONNX translators for elementwise activations, dropout and softmax (see import_ops.h).
 *
 * Each translator checks every attribute against what the layerc op can
 * express and refuses the node otherwise: the numbers layerc computes must
 * be ONNX's own (the ONNX operator documents, onnx/docs/Operators.md,
 * against SPEC section 1).
 */
#include "import_ops.h"

#include <math.h>
#include <string.h>

int tr_relu(ImpCtx *cx) { return imp_attr_check(cx, "") && imp_unary(cx, "relu", 0); }
int tr_tanh(ImpCtx *cx) { return imp_attr_check(cx, "") && imp_unary(cx, "tanh", 0); }
int tr_sigmoid(ImpCtx *cx) { return imp_attr_check(cx, "") && imp_unary(cx, "sigmoid", IMP_FUSE_SIGMOID); }
int tr_hardswish(ImpCtx *cx) { return imp_attr_check(cx, "") && imp_unary(cx, "hardswish", 0); }
int tr_identity(ImpCtx *cx) { return imp_attr_check(cx, "") && imp_unary(cx, "identity", 0); }

int tr_leaky_relu(ImpCtx *cx)
{
    double alpha;
    if (!imp_attr_check(cx, "alpha") || imp_attr_float(cx, "alpha", 0.01, &alpha) < 0) return 0;
    if (!imp_unary(cx, "leaky_relu", 0)) return 0;
    if ((float)alpha != 0.01f) imp_arg(cx, imp_layer_at(cx, cx->nlayers - 1), "alpha", "%s", imp_num(cx, alpha));
    return 1;
}

int tr_elu(ImpCtx *cx)
{
    double alpha;
    if (!imp_attr_check(cx, "alpha") || imp_attr_float(cx, "alpha", 1.0, &alpha) < 0) return 0;
    if (!imp_unary(cx, "elu", 0)) return 0;
    if ((float)alpha != 1.0f) imp_arg(cx, imp_layer_at(cx, cx->nlayers - 1), "alpha", "%s", imp_num(cx, alpha));
    return 1;
}

/* A scalar bound of Clip: an input (opset 11 on) or an attribute. */
static int clip_bound(ImpCtx *cx, int k, const char *attr_name, double def, double *out)
{
    *out = def;
    if (imp_opset(cx) < 11) return imp_attr_float(cx, attr_name, def, out) >= 0;
    if (!imp_in(cx, k)) return 1;
    const OxTensor *t = imp_const_in(cx, k, k == 1 ? "min" : "max");
    if (!t) return 0;
    if (t->n != 1) return imp_refuse(cx, "its %s is not one number", k == 1 ? "min" : "max");
    *out = oxt_get(t, 0);
    return 1;
}

int tr_clip(ImpCtx *cx)
{
    double lo, hi;
    if (!imp_attr_check(cx, imp_opset(cx) < 11 ? "min,max" : "") ||
        !clip_bound(cx, 1, "min", -INFINITY, &lo) || !clip_bound(cx, 2, "max", INFINITY, &hi))
        return 0;
    /* the attribute defaults are float's limits: as good as no bound */
    if (lo <= -3.4028234e38) lo = -INFINITY;
    if (hi >= 3.4028234e38) hi = INFINITY;
    if (isnan(lo) || isnan(hi)) return imp_refuse(cx, "a bound is NaN");
    if (lo > hi) return imp_refuse(cx, "its min (%g) is above its max (%g)", lo, hi);
    if (lo == 0 && hi == 6) return imp_unary(cx, "relu6", 0);
    if (lo == 0 && hi == INFINITY) return imp_unary(cx, "relu", 0);
    if (lo == -INFINITY && hi == INFINITY) return imp_unary(cx, "identity", 0);
    if (!imp_unary(cx, "clip", 0)) return 0;
    ImpLayer *l = imp_layer_at(cx, cx->nlayers - 1);
    /* an open side is float's largest value: the same for every finite input */
    imp_arg(cx, l, NULL, "%s", lo == -INFINITY ? "-3.4028234663852886e38" : imp_num(cx, lo));
    imp_arg(cx, l, NULL, "%s", hi == INFINITY ? "3.4028234663852886e38" : imp_num(cx, hi));
    return 1;
}

int tr_dropout(ImpCtx *cx)
{
    double ratio = 0.5;
    if (!imp_attr_check(cx, "ratio,is_test,seed")) return 0;
    if (imp_opset(cx) < 12) {
        if (imp_attr_float(cx, "ratio", 0.5, &ratio) < 0) return 0;
    } else {
        if (imp_in(cx, 1)) {
            const OxTensor *t = imp_const_in(cx, 1, "ratio");
            if (!t) return 0;
            if (t->n != 1) return imp_refuse(cx, "its ratio is not one number");
            ratio = oxt_get(t, 0);
        }
        if (imp_in(cx, 2)) {
            const OxTensor *t = imp_const_in(cx, 2, "training_mode");
            if (!t) return 0;
            if (t->n != 1 || oxt_get(t, 0) != 0)
                return imp_refuse(cx, "it runs in training mode; layerc imports the inference graph");
        }
    }
    if (!(ratio >= 0 && ratio < 1)) return imp_refuse(cx, "its ratio %g is not in [0, 1)", ratio);
    if (!imp_unused_from(cx, 1, "the mask") || !imp_unary(cx, "dropout", 0)) return 0;
    imp_arg(cx, imp_layer_at(cx, cx->nlayers - 1), NULL, "%s", imp_num(cx, ratio));
    return 1;
}

/* Softmax over an axis is layerc's softmax over a vector when every other
 * axis of the sample has size 1; before opset 13 the sample is flattened
 * from `axis` on, which is layerc's softmax when the axis is the first one
 * of the sample (or those before it have size 1). */
int tr_softmax(ImpCtx *cx)
{
    int64_t axis;
    ImpValue *v = imp_layer_in(cx, 0);
    int old = imp_opset(cx) < 13;
    if (!v || !imp_attr_check(cx, "axis") || imp_attr_int(cx, "axis", old ? 1 : -1, &axis) < 0) return 0;
    int r = v->shape.rank + 1;
    if (axis < -r || axis >= r) return imp_refuse(cx, "axis %lld is out of range", (long long)axis);
    if (axis < 0) axis += r;
    if (axis == 0) return imp_refuse(cx, "it normalises along the batch axis");
    for (int k = 0; k < v->shape.rank; k++) {
        int free_axis = old ? k + 1 >= axis : k + 1 == axis;
        if (!free_axis && v->shape.dims[k] != 1)
            return imp_refuse(cx, "it normalises along axis %lld of a sample of %d axes; layerc's softmax "
                              "takes the whole sample as one vector", (long long)axis, v->shape.rank);
    }
    Shape flat = { 1, { shape_size(&v->shape) } }, onnx = v->shape;
    int x = imp_want(cx, v, &flat);
    if (x < 0) return 0;
    ImpLayer *l = imp_layer(cx, "softmax", &x, 1);
    l->shape = flat;
    return imp_out(cx, l, &onnx);
}
