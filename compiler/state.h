/* state.h: the fields of a generated model's state struct (NAME_t), made
 * once from the model, its plan and its ops', loss's and optimizer's
 * descriptors.  The emitter prints them, `layerc summary` adds them up and
 * the checker holds them to the memory limit: one model of the memory.
 *
 * The layout is the same on every C ABI layerc targets (x86-64, AArch64,
 * 32-bit ARM): the 8-byte scalars come first, then the arrays of lc_real,
 * then the 4-byte scalars, so that no member needs padding and sizeof is
 * the sum of the fields rounded up to 8. */
#ifndef LC_STATE_H
#define LC_STATE_H

#include "ir.h"
#include "plan.h"

typedef enum {
    SF_DOUBLE, SF_INT64, SF_UINT64,   /* 8 bytes */
    SF_REAL,                          /* lc_real: float, or double in the gradient check */
    SF_INT                            /* 4 bytes */
} FieldType;

typedef enum {
    SG_PARAMS, SG_GRADS, SG_OPTIMIZER, SG_MISC, SG_OUTPUTS, SG_GRADIENTS, SG_SAVED, SG_SHARED,
    SG_SCRATCH
} FieldGroup;

typedef struct {
    FieldType type;
    FieldGroup group;
    const char *name;      /* the C member */
    long count;            /* elements, or 0 for a scalar */
    int per_sample;        /* count is per sample: the array is BATCH * count */
    const char *comment;
    int layer;             /* the layer it belongs to, -1 for none */
    int buffer;            /* the plan's buffer it is, -1 for none; a union when
                              the buffer has several tenants */
} StateField;

typedef struct {
    StateField *fields;
    int n, cap;
    Arena names;
} StateLayout;

void state_layout(const Model *m, const Build *b, const Plan *p, StateLayout *s);
void state_free(StateLayout *s);
/* sizeof(NAME_t) for a batch of `batch` samples. */
double state_bytes(const StateLayout *s, const Build *b, int batch);
/* The bytes of one field, and of one group of fields. */
double state_field_bytes(const StateField *f, const Build *b, int batch);
double state_group_bytes(const StateLayout *s, const Build *b, int batch, FieldGroup g);

#endif
