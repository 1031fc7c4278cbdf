/* files.h: what every runtime file format shares: error messages into a
 * caller's buffer, little-endian integers, atomic saving, inputs read
 * once from one descriptor. */
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
 * keeps the old one's permissions, or gets 0666 & ~umask.  A symbolic link
 * is followed: the file it names is replaced, the link stays.  A path that
 * is a device or a FIFO (/dev/null, /dev/stdout, a pipe) is written in
 * place, without a temporary. */
int lc_save_atomic(const char *path, const char *what, int (*write_file)(int fd, void *ctx),
                   void *ctx, char *err, size_t errlen);
/* lc_save_atomic of a buffer, with WHAT = "cannot write". */
int lc_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* The file a save to path replaces: path with its symbolic links followed
 * (the last one may name a file that does not exist yet); malloc'd, NULL
 * when out of memory. */
char *lc_output_target(const char *path);
/* Whether a save to path can succeed, as far as can be told without
 * writing it: not a directory, and a temporary file can be created beside
 * it (or, for a device or FIFO, it is writable).  0 with a message in err. */
int lc_output_check(const char *path, char *err, size_t errlen);

/* SIGINT, SIGTERM and SIGHUP: from now on they still end layerc, but never
 * while a save holds them (lc_signals_hold), so no temporary file is left
 * behind and no output is half replaced.  Signals ignored at start-up stay
 * ignored. */
void lc_catch_signals(void);
/* Between hold and release (they nest) a caught signal waits; release
 * delivers it, ending the process. */
void lc_signals_hold(void);
void lc_signals_release(void);

/* An input read from one descriptor, once: a regular file, a pipe, a FIFO,
 * a device or /dev/stdin all work, and a format is told from the first
 * bytes read, which are not read again. */
typedef struct {
    const char *path;
    int fd;
    long long size;     /* a regular file's size, else -1 */
} LcInput;

/* Opens path; a directory is refused ("is a directory, not a KIND"). */
int lc_input_open(LcInput *in, const char *path, const char *kind, char *err, size_t errlen);
/* Up to n bytes; *got < n only at the end of the input. */
int lc_input_read(LcInput *in, void *buf, size_t n, size_t *got, char *err, size_t errlen);
/* Reads on into *buf (malloc'd or NULL, holding *n bytes already read),
 * growing it as bytes arrive, until the end or until more than max bytes
 * are there (*n = max + 1: the caller refuses the input). */
int lc_input_read_rest(LcInput *in, unsigned char **buf, size_t *n, size_t max,
                       char *err, size_t errlen);
void lc_input_close(LcInput *in);

#endif
