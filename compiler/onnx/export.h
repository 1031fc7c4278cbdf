/* export.h: `layerc export MODEL.lyr --weights W --onnx m.onnx` (SPEC sections 2 and 4).
 *
 * The checked model and its weights as an ONNX model (IR 8, opset 13 or the
 * higher one an op needs) that onnx.checker accepts: the inference graph,
 * batch size N free.  What ONNX has no place for (the loss, the train
 * block, declared weights and initializers) goes into the model's
 * metadata_props under "layerc.*" keys, so `layerc import` gives the model
 * back as it was.
 */
#ifndef LC_ONNX_EXPORT_H
#define LC_ONNX_EXPORT_H

#include <stddef.h>

#include "ir.h"

/* Writes path atomically; 0 with "...: error: ..." in err on failure. */
int onnx_export(const Model *m, const float *params, const char *source_name, const char *path,
                char *err, size_t errlen);

#endif
