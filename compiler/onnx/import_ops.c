/* import_ops.c: the table of ONNX op types and their translators (see
 * import_ops.h); the translators are in tr_*.c, one file an op family. */
#include "import_ops.h"

#include <string.h>

const ImpOp imp_ops[] = {
    { "Gemm", tr_gemm },
    { "MatMul", tr_matmul },
    { "Conv", tr_conv },
    { "BatchNormalization", tr_batchnorm },
    { "LayerNormalization", tr_layernorm },
    { "Relu", tr_relu },
    { "Clip", tr_clip },
    { "LeakyRelu", tr_leaky_relu },
    { "Elu", tr_elu },
    { "Sigmoid", tr_sigmoid },
    { "Tanh", tr_tanh },
    { "HardSwish", tr_hardswish },
    { "Softmax", tr_softmax },
    { "MaxPool", tr_maxpool },
    { "AveragePool", tr_avgpool },
    { "GlobalAveragePool", tr_global_avgpool },
    { "GlobalMaxPool", tr_global_maxpool },
    { "Flatten", tr_flatten },
    { "Reshape", tr_reshape },
    { "Unsqueeze", tr_unsqueeze },
    { "Squeeze", tr_squeeze },
    { "Add", tr_add },
    { "Mul", tr_mul },
    { "Concat", tr_concat },
    { "Dropout", tr_dropout },
    { "Pad", tr_pad },
    { "Identity", tr_identity },
};
const int imp_nops = (int)(sizeof imp_ops / sizeof imp_ops[0]);

const ImpOp *imp_op_find(const char *op_type)
{
    for (int i = 0; i < imp_nops; i++)
        if (!strcmp(imp_ops[i].op_type, op_type)) return &imp_ops[i];
    return NULL;
}
