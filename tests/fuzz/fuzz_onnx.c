/* fuzz_onnx.c: libFuzzer target for `layerc import` (compiler/onnx/): the
 * bytes are an .onnx file, translated and checked in memory (nothing is
 * written).  What callers rely on: a refusal names the file; the importer
 * never writes a .lyr its own front end refuses (an "internal error"); a
 * translation that succeeds has a checked model whose weights it filled. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ImportResult r;
    int why;
    char err[2048];
    static const char prefix[] = "fuzz.onnx: error: ";
    if (onnx_import_bytes("fuzz.onnx", data, size, "fuzz.lyr", "fuzz.lyw", &r, &why, err, sizeof err)) {
        if (!r.model || !r.lyr || !strstr(r.lyr, "\nmodel ") || !r.params) abort();
        onnx_import_free(&r);
        return 0;
    }
    if (strncmp(err, prefix, sizeof prefix - 1) || why == IMPORT_INTERNAL || why == IMPORT_OK) {
        fprintf(stderr, "fuzz_onnx: bad refusal: %s\n", err);
        abort();
    }
    return 0;
}
