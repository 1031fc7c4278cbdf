/* names.h: ONNX names as .lyr names.
 *
 * ONNX names are any strings ("/fc1/Gemm", "onnx::Gemm_5", "input.1"); a
 * .lyr name is [A-Za-z_][A-Za-z0-9_]*, not a keyword, and every name of a
 * model must stay distinct also as a C identifier once layerc adds the
 * suffixes of the weights a layer creates (h.W becomes h_W).
 */
#ifndef LC_ONNX_NAMES_H
#define LC_ONNX_NAMES_H

#include "arena.h"

typedef struct {
    Arena *a;
    const char **taken;     /* open addressing; cap a power of two */
    int n, cap;
} NameSet;

/* A readable .lyr name for an ONNX name: torch's scopes become words
 * ("/fc1/Gemm" for op Gemm gives "fc1", "/Relu_1" gives "relu_1"), other
 * characters become '_'.  op_type may be NULL. */
char *names_sanitize(Arena *a, const char *onnx_name, const char *op_type);

/* Takes name (or name_2, name_3, ... when it, or a C name derived from it,
 * is already taken) and returns the one taken. */
const char *names_take(NameSet *s, const char *name);
/* Whether name is taken (exactly). */
int names_taken(const NameSet *s, const char *name);

#endif
