/* protofile.h: .onnx files in and out, through protobuf-c.
 *
 * Reading checks what protobuf-c does not before it unpacks: the size of the
 * file, and how deeply its messages nest (protobuf-c recurses once a level,
 * so a small crafted file could otherwise exhaust the stack).  Writing is
 * atomic (runtime/files.c): the file is complete or absent.
 */
#ifndef LC_ONNX_PROTOFILE_H
#define LC_ONNX_PROTOFILE_H

#include <stddef.h>

#include "onnx.pb-c.h"

/* Largest .onnx file read: protobuf-c needs all of it in memory. */
#define OXP_MAX_FILE ((size_t)2 << 30)
/* Deepest nesting of messages accepted (protobuf's own default is 100). */
#define OXP_MAX_DEPTH 100

/* Returns the unpacked model (free with onnx__model_proto__free_unpacked),
 * or NULL with "PATH: error: ..." in err. */
Onnx__ModelProto *oxp_read(const char *path, char *err, size_t errlen);
/* The same on bytes in memory; path only names them in messages. */
Onnx__ModelProto *oxp_unpack(const char *path, const unsigned char *bytes, size_t n,
                             char *err, size_t errlen);
/* Packs and saves atomically; 0 with "PATH: error: ..." in err on failure. */
int oxp_write(const char *path, const Onnx__ModelProto *m, char *err, size_t errlen);

#endif
