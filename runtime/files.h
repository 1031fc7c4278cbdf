/* files.h: what every runtime file format shares: error messages into a
 * caller's buffer, little-endian integers, and atomic saving. */
#ifndef LC_FILES_H
#define LC_FILES_H

#include <stddef.h>
#include <stdint.h>

/* Formats a message into err (when given) and returns 0, so that a check
 * reads `if (bad) return lc_fail(err, errlen, "...", ...);`. */
int lc_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void lc_put_le(unsigned char *p, uint64_t v, int bytes);
uint64_t lc_get_le(const unsigned char *p, int bytes);

/* Writes all n bytes to fd; 0, or the errno of the failure. */
int lc_write_all(int fd, const void *p, size_t n);

/* Saves path through a temporary file beside it: write_file(fd, ctx) fills
 * it (returning 0 or an errno), then fsync, rename over path, fsync the
 * directory.  On any failure the temporary is removed and the old file is
 * left as it was; err gets "PATH: error: WHAT: step: reason".  The new file
 * keeps the old one's permissions, or gets 0666 & ~umask. */
int lc_save_atomic(const char *path, const char *what, int (*write_file)(int fd, void *ctx),
                   void *ctx, char *err, size_t errlen);
/* lc_save_atomic of a buffer, with WHAT = "cannot write". */
int lc_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
