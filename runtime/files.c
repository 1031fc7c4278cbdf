/* files.c: shared pieces of the file formats (see files.h). */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lc_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return 0;
}

void lc_put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t lc_get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

int lc_write_all(int fd, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The new file gets the old one's permissions, or the usual 0666 & ~umask
 * (mkstemp makes it 0600).  Reading the umask means setting it: a brief
 * window in a threaded program, acceptable for a save. */
static mode_t new_file_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
    mode_t mask = umask(022);
    umask(mask);
    return 0666 & ~mask;
}

/* After the rename the new file is in place; syncing the directory makes the
 * rename itself durable.  Some file systems refuse to fsync a directory, and
 * the save has succeeded anyway, so errors here are ignored. */
static void sync_directory_of(const char *path)
{
    char *dir = strdup(path), *slash;
    if (!dir) return;
    slash = strrchr(dir, '/');
    if (!slash) strcpy(dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

static int save_failed(const char *path, const char *tmp, const char *what, const char *step,
                       int error, char *err, size_t errlen)
{
    if (tmp) unlink(tmp);
    return lc_fail(err, errlen, "%s: error: %s: %s: %s", path, what, step, strerror(error));
}

int lc_save_atomic(const char *path, const char *what, int (*write_file)(int fd, void *ctx),
                   void *ctx, char *err, size_t errlen)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + sizeof ".tmp.XXXXXX");
    int fd, error, ok = 0;
    if (!tmp) return lc_fail(err, errlen, "%s: error: %s: out of memory", path, what);
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    fd = mkstemp(tmp);
    if (fd < 0) {
        save_failed(path, NULL, what, "cannot create a temporary file beside it", errno, err, errlen);
    } else if (fchmod(fd, new_file_mode(path)) != 0) {
        error = errno;
        close(fd);
        save_failed(path, tmp, what, "cannot set permissions", error, err, errlen);
    } else if ((error = write_file(fd, ctx)) != 0) {
        close(fd);
        save_failed(path, tmp, what, "write failed", error, err, errlen);
    } else if (fsync(fd) != 0) {
        error = errno;
        close(fd);
        save_failed(path, tmp, what, "fsync failed", error, err, errlen);
    } else if (close(fd) != 0) {
        save_failed(path, tmp, what, "close failed", errno, err, errlen);
    } else if (rename(tmp, path) != 0) {
        save_failed(path, tmp, what, "cannot rename the temporary file over it", errno, err, errlen);
    } else {
        sync_directory_of(path);
        ok = 1;
    }
    free(tmp);
    return ok;
}

typedef struct {
    const void *data;
    size_t len;
} Buffer;

static int write_buffer(int fd, void *ctx)
{
    const Buffer *b = ctx;
    return lc_write_all(fd, b->data, b->len);
}

int lc_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    Buffer b = { data, len };
    return lc_save_atomic(path, "cannot write", write_buffer, &b, err, errlen);
}
