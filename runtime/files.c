/* files.c: shared pieces of the file formats (see files.h). */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* ---- signals ---- */

/* While a temporary file exists (or a pair of files is half replaced),
 * SIGINT, SIGTERM and SIGHUP wait: the handler notes the signal, and the
 * save finishes or fails cleanly first.  Outside such a window the handler
 * restores the default action and raises the signal again, so layerc dies
 * of it as it would have without a handler (the shell sees 128 + N). */
static volatile sig_atomic_t hold_depth, held_signal;
static const int caught[] = { SIGINT, SIGTERM, SIGHUP };

static void die_of(int sig)
{
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_signal(int sig)
{
    if (hold_depth > 0) held_signal = sig;
    else die_of(sig);
}

void lc_catch_signals(void)
{
    for (size_t i = 0; i < sizeof caught / sizeof *caught; i++) {
        struct sigaction old, sa;
        /* a signal ignored by whoever started layerc (nohup) stays ignored */
        if (sigaction(caught[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN) continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigfillset(&sa.sa_mask);
        sigaction(caught[i], &sa, NULL);
    }
}

void lc_signals_hold(void)
{
    hold_depth++;
}

void lc_signals_release(void)
{
    if (hold_depth > 0) hold_depth--;
    if (hold_depth == 0 && held_signal) die_of(held_signal);
}

/* ---- outputs ---- */

/* The directory part of path ("." for a bare name), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n ? n + 1 : 2);
    if (!d) return NULL;
    if (n) memcpy(d, path, n), d[n] = '\0';
    else strcpy(d, ".");
    return d;
}

char *lc_output_target(const char *path)
{
    char *p = strdup(path);
    for (int hops = 0; p && hops < 40; hops++) {
        struct stat st;
        char link[4096], *next;
        if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode)) return p;
        ssize_t n = readlink(p, link, sizeof link - 1);
        if (n < 0) return p;
        link[n] = '\0';
        if (link[0] == '/' || !strchr(p, '/')) {
            next = strdup(link);
        } else {   /* relative to the link's directory */
            char *dir = dir_of(p);
            next = dir ? malloc(strlen(dir) + 1 + (size_t)n + 1) : NULL;
            if (next) sprintf(next, "%s/%s", dir, link);
            free(dir);
        }
        free(p);
        p = next;
    }
    return p;   /* a loop of links: the save itself reports it (ELOOP) */
}

/* "TARGET.tmp.XXXXXX", for mkstemp; malloc'd. */
static char *temp_name(const char *target)
{
    size_t len = strlen(target);
    char *tmp = malloc(len + sizeof ".tmp.XXXXXX");
    if (tmp) {
        memcpy(tmp, target, len);
        memcpy(tmp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    }
    return tmp;
}

int lc_output_check(const char *path, char *err, size_t errlen)
{
    char *target = lc_output_target(path), *tmp = NULL;
    struct stat st;
    int ok = 1, exists;
    if (!target) return lc_fail(err, errlen, "%s: error: out of memory", path);
    exists = stat(target, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        ok = lc_fail(err, errlen, "%s: error: cannot write: is a directory", path);
    } else if (exists && !S_ISREG(st.st_mode)) {
        if (access(target, W_OK) != 0)
            ok = lc_fail(err, errlen, "%s: error: cannot write: %s", path, strerror(errno));
    } else if (!(tmp = temp_name(target))) {
        ok = lc_fail(err, errlen, "%s: error: out of memory", path);
    } else {
        /* what the save will do: create a temporary file beside the target */
        lc_signals_hold();
        int fd = mkstemp(tmp);
        if (fd < 0) {
            int e = errno;
            char *dir = dir_of(target);
            ok = lc_fail(err, errlen, "%s: error: cannot write in %s: %s", path,
                         dir ? dir : "its directory", strerror(e));
            free(dir);
        } else {
            close(fd);
            unlink(tmp);
        }
        lc_signals_release();
    }
    free(tmp);
    free(target);
    return ok;
}

/* A device or a FIFO is written where it is: replacing it by a file would
 * destroy it (/dev/null), and a FIFO's reader waits on the FIFO itself. */
static int save_in_place(const char *path, const char *target, const char *what,
                         int (*write_file)(int fd, void *ctx), void *ctx, char *err, size_t errlen)
{
    int fd = open(target, O_WRONLY | O_NOCTTY), error;
    if (fd < 0) return save_failed(path, NULL, what, "cannot open", errno, err, errlen);
    if ((error = write_file(fd, ctx)) != 0) {
        close(fd);
        return save_failed(path, NULL, what, "write failed", error, err, errlen);
    }
    if (close(fd) != 0) return save_failed(path, NULL, what, "close failed", errno, err, errlen);
    return 1;
}

static int save_replacing(const char *path, const char *target, const char *what,
                          int (*write_file)(int fd, void *ctx), void *ctx, char *err, size_t errlen)
{
    char *tmp = temp_name(target);
    int fd, error, ok = 0;
    if (!tmp) return lc_fail(err, errlen, "%s: error: %s: out of memory", path, what);
    lc_signals_hold();
    fd = mkstemp(tmp);
    if (fd < 0) {
        save_failed(path, NULL, what, "cannot create a temporary file beside it", errno, err, errlen);
    } else if (fchmod(fd, new_file_mode(target)) != 0) {
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
    } else if (rename(tmp, target) != 0) {
        save_failed(path, tmp, what, "cannot rename the temporary file over it", errno, err, errlen);
    } else {
        sync_directory_of(target);
        ok = 1;
    }
    free(tmp);
    lc_signals_release();
    return ok;
}

int lc_save_atomic(const char *path, const char *what, int (*write_file)(int fd, void *ctx),
                   void *ctx, char *err, size_t errlen)
{
    char *target = lc_output_target(path);
    struct stat st;
    int ok;
    if (!target) return lc_fail(err, errlen, "%s: error: %s: out of memory", path, what);
    if (stat(target, &st) == 0 && S_ISDIR(st.st_mode))
        ok = lc_fail(err, errlen, "%s: error: %s: is a directory", path, what);
    else if (stat(target, &st) == 0 && !S_ISREG(st.st_mode))
        ok = save_in_place(path, target, what, write_file, ctx, err, errlen);
    else
        ok = save_replacing(path, target, what, write_file, ctx, err, errlen);
    free(target);
    return ok;
}

/* ---- inputs ---- */

int lc_input_open(LcInput *in, const char *path, const char *kind, char *err, size_t errlen)
{
    struct stat st;
    memset(in, 0, sizeof *in);
    in->path = path;
    in->size = -1;
    in->fd = open(path, O_RDONLY | O_NOCTTY);
    if (in->fd < 0) return lc_fail(err, errlen, "%s: error: cannot open: %s", path, strerror(errno));
    if (fstat(in->fd, &st) != 0) {
        int e = errno;
        lc_input_close(in);
        return lc_fail(err, errlen, "%s: error: cannot read: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        lc_input_close(in);
        return lc_fail(err, errlen, "%s: error: is a directory, not a %s", path, kind);
    }
    if (S_ISREG(st.st_mode)) in->size = (long long)st.st_size;
    return 1;
}

int lc_input_read(LcInput *in, void *buf, size_t n, size_t *got, char *err, size_t errlen)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = read(in->fd, (char *)buf + *got, n - *got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return lc_fail(err, errlen, "%s: error: cannot read: %s", in->path, strerror(errno));
        if (r == 0) break;
        *got += (size_t)r;
    }
    return 1;
}

int lc_input_read_rest(LcInput *in, unsigned char **buf, size_t *n, size_t max,
                       char *err, size_t errlen)
{
    size_t cap = *n, got;
    /* a regular file says how much is coming: one allocation */
    if (in->size >= 0 && (unsigned long long)in->size <= max && (size_t)in->size + 1 > cap) {
        unsigned char *b = realloc(*buf, (size_t)in->size + 1);
        if (!b) return lc_fail(err, errlen, "%s: error: out of memory", in->path);
        *buf = b;
        cap = (size_t)in->size + 1;
    }
    for (;;) {
        if (*n == cap) {
            if (cap > max) return 1;   /* max + 1 bytes: the caller says what that means */
            size_t bigger = cap < 65536 ? 65536 : cap > max / 2 ? max + 1 : cap * 2;
            unsigned char *b = realloc(*buf, bigger);
            if (!b) return lc_fail(err, errlen, "%s: error: out of memory", in->path);
            *buf = b;
            cap = bigger;
        }
        if (!lc_input_read(in, *buf + *n, cap - *n, &got, err, errlen)) return 0;
        *n += got;
        if (*n < cap) return 1;   /* the end */
    }
}

void lc_input_close(LcInput *in)
{
    if (in->fd >= 0) close(in->fd);
    in->fd = -1;
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
