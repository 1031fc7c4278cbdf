/* import.h: `layerc import model.onnx -o model.lyr` (SPEC sections 2 and 4).
 *
 * The ONNX graph becomes a .lyr file with one layer a node, and its
 * initializers a weight file beside it.  The .lyr text is checked by
 * layerc's own front end before anything is written, and the weights are
 * saved through the tensor table of that checked model, so the weight file
 * carries the .lyr's own weight layout.  A node layerc cannot express
 * exactly is refused, naming the file, node, op type and opset; then
 * nothing is written.
 */
#ifndef LC_ONNX_IMPORT_H
#define LC_ONNX_IMPORT_H

#include <stddef.h>

typedef struct {
    char *lyr;              /* the .lyr text (malloc'd) */
    float *params;          /* the weights in the model's params[] order (malloc'd) */
    long nparams;
    void *model;            /* the checked model (Model *), for saving by its table */
    void *priv;             /* what the model lives in */
} ImportResult;

enum {
    IMPORT_OK,
    IMPORT_REFUSED,     /* the file is broken, or a node cannot be expressed */
    IMPORT_INTERNAL     /* the .lyr written does not check: a bug in the importer */
};

/* Translates and checks the model in memory.  Returns 1, or 0 with a
 * message in err and the kind of refusal in *why.
 * lyr_path names the .lyr in its diagnostics and header; weights_name is
 * cited in its header comment. */
int onnx_import_bytes(const char *onnx_path, const unsigned char *bytes, size_t n, const char *lyr_path,
                      const char *weights_name, ImportResult *r, int *why, char *err, size_t errlen);
void onnx_import_free(ImportResult *r);

/* The command: reads onnx_path, writes lyr_path ("-": standard output, and
 * the weights only with npz_path) and its weights (npz_path, else the .lyr
 * path with .lyw).  Returns the exit status (0, or 1 with a message). */
int onnx_import(const char *onnx_path, const char *lyr_path, const char *npz_path);
/* The weights file beside lyr_path: model.lyr -> model.lyw (malloc'd). */
char *onnx_weights_path(const char *lyr_path);

#endif
