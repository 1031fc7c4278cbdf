/* import_ops.c: the translator of an ONNX op type, from the op table (see import_ops.h). */
#include "import_ops.h"

#include <string.h>

#include "op.h"

ImpTranslate imp_op_find(const char *op_type)
{
    for (int i = 0; i < op_count(); i++) {
        const OpDef *op = op_at(i);
        for (int k = 0; k < LC_MAX_ONNX_IMPORTS && op->onnx_import[k].op_type; k++)
            if (!strcmp(op->onnx_import[k].op_type, op_type)) return op->onnx_import[k].translate;
    }
    return NULL;
}
