/* tensors.h: a checked model's weights as weight files see them: the table
 * of names, shapes and offsets that runtime/weights.c and npz.c save and
 * load by. */
#ifndef LC_TENSORS_H
#define LC_TENSORS_H

#include "ir.h"
#include "weights.h"

/* One row per weight, in declaration order (malloc'd). */
LcTensorInfo *model_tensor_table(const Model *m);

#endif
