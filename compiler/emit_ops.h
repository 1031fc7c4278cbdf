/* emit_ops.h: the forward and backward emitter of every op (see ops.h). */
#ifndef LC_EMIT_OPS_H
#define LC_EMIT_OPS_H

#include "emit.h"

#define LC_OP_EMITTERS(op) \
    void emit_##op##_forward(Emit *e, const Model *m, const Layer *l); \
    void emit_##op##_backward(Emit *e, const Model *m, const Layer *l);

LC_OP_EMITTERS(identity)
LC_OP_EMITTERS(linear)
LC_OP_EMITTERS(relu)
LC_OP_EMITTERS(leaky_relu)
LC_OP_EMITTERS(sigmoid)
LC_OP_EMITTERS(tanh)
LC_OP_EMITTERS(softmax)
LC_OP_EMITTERS(add)
LC_OP_EMITTERS(mul)
LC_OP_EMITTERS(concat)
LC_OP_EMITTERS(conv2d)
LC_OP_EMITTERS(maxpool)
LC_OP_EMITTERS(avgpool)
LC_OP_EMITTERS(dropout)

#endif
