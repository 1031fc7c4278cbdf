/* threads.c: a small persistent thread pool for the kernels (see threads.h).
 *
 * One source, used two ways: compiled into layerc (the JIT's kernels split
 * their work over it; lc_pool_init starts it from `--threads N`), and pasted
 * into generated C when `layerc --threads N -o m.c` asks for threads: there
 * LC_THREADS is defined to N before this text, every function is static and
 * the pool starts itself, N threads in all, on the first job.  It then needs
 * <pthread.h> and the GCC/Clang __atomic builtins, nothing else.
 *
 * Synchronisation.  A job is published by bumping a generation number; its
 * tasks are claimed from one 64-bit counter holding (generation << 32 |
 * next task), so a late worker can never claim a task of a job it did not
 * read: its compare-and-swap fails as soon as the generation moved on.  The
 * job's function, context and size sit in slot (generation & 1), written
 * before the generation is published; a job cannot end while a task is
 * unclaimed, so the slot a successful claim read is still that job's.  The
 * caller runs tasks too, then waits for the count of finished tasks, so a
 * worker the system has not scheduled delays nothing (under load the caller
 * simply does all the work, as in a serial run).  Idle workers spin with
 * `pause` for a few tens of microseconds, then yield the CPU for a while,
 * then sleep on a condition variable; the caller signals it only when
 * someone sleeps.
 */
#if !defined(LC_THREADS) || (defined(__GNUC__) && !defined(__TINYC__))
/* (pasted into generated C, the pool needs gcc's or clang's __atomic
 * builtins; another compiler gets none, and the kernels run their tasks in
 * line: the same numbers, on one thread) */
#ifndef LC_THREADS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* sched_getaffinity, CPU_COUNT */
#endif
#include "threads.h"
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#define LC_POOL_API
#else
#define LC_POOL_API static
#define LC_POOL_PASTED 1   /* kernels.c: lc_pool_for is here */
#ifndef LC_POOL_MAX
#define LC_POOL_MAX 64
#endif
#endif
#include <pthread.h>
#include <sched.h>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

/* Idle workers: this many `pause` spins (~10-40 ns each), then this many
 * sched_yield calls, then sleep. */
#ifndef LC_POOL_SPINS
#define LC_POOL_SPINS 4000
#endif
#ifndef LC_POOL_YIELDS
#define LC_POOL_YIELDS 200
#endif

typedef void (*lc__pool_fn)(void *ctx, int task);

static struct {
    int threads;                  /* started: the caller and threads - 1 workers */
    int quit;
    int busy;                     /* a job is running: other callers go serial */
    int sleeping;                 /* workers waiting on `wake` */
    unsigned gen;                 /* generation of the latest job */
    int done;                     /* tasks of the current job finished */
    unsigned long long next;      /* gen << 32 | next task to claim */
    lc__pool_fn fn[2];            /* slot gen & 1 */
    void *ctx[2];
    int ntasks[2];
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t tid[LC_POOL_MAX];
} lc__pool = { 1, 0, 0, 0, 0, 0, 0, { 0, 0 }, { 0, 0 }, { 0, 0 },
               PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 } };

static void lc__pool_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Claims and runs tasks of job g until none is left (or the job is over). */
static void lc__pool_work(unsigned g)
{
    for (;;) {
        unsigned long long v = __atomic_load_n(&lc__pool.next, __ATOMIC_ACQUIRE);
        unsigned idx = (unsigned)v;
        int slot = (int)(g & 1);
        lc__pool_fn fn;
        void *ctx;
        if ((unsigned)(v >> 32) != g)
            return;
        if (idx >= (unsigned)__atomic_load_n(&lc__pool.ntasks[slot], __ATOMIC_RELAXED))
            return;
        fn = __atomic_load_n(&lc__pool.fn[slot], __ATOMIC_RELAXED);
        ctx = __atomic_load_n(&lc__pool.ctx[slot], __ATOMIC_RELAXED);
        if (__atomic_compare_exchange_n(&lc__pool.next, &v, v + 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            fn(ctx, (int)idx);
            __atomic_add_fetch(&lc__pool.done, 1, __ATOMIC_RELEASE);
        }
    }
}

/* Waits for a generation other than `seen`; returns it (or `seen` on quit). */
static unsigned lc__pool_wait(unsigned seen)
{
    unsigned g;
    long i;
    for (i = 0; i < LC_POOL_SPINS + LC_POOL_YIELDS; i++) {
        g = __atomic_load_n(&lc__pool.gen, __ATOMIC_ACQUIRE);
        if (g != seen || __atomic_load_n(&lc__pool.quit, __ATOMIC_RELAXED))
            return __atomic_load_n(&lc__pool.quit, __ATOMIC_RELAXED) ? seen : g;
        if (i < LC_POOL_SPINS)
            lc__pool_pause();
        else
            sched_yield();
    }
    pthread_mutex_lock(&lc__pool.lock);
    __atomic_add_fetch(&lc__pool.sleeping, 1, __ATOMIC_SEQ_CST);
    while ((g = __atomic_load_n(&lc__pool.gen, __ATOMIC_SEQ_CST)) == seen &&
           !__atomic_load_n(&lc__pool.quit, __ATOMIC_SEQ_CST))
        pthread_cond_wait(&lc__pool.wake, &lc__pool.lock);
    __atomic_sub_fetch(&lc__pool.sleeping, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&lc__pool.lock);
    return __atomic_load_n(&lc__pool.quit, __ATOMIC_SEQ_CST) ? seen : g;
}

static void *lc__pool_worker(void *arg)
{
    unsigned seen = 0, g;
    (void)arg;
    while ((g = lc__pool_wait(seen)) != seen) {
        seen = g;
        lc__pool_work(g);
    }
    return NULL;
}

/* Starts n - 1 workers (fewer if the system refuses); returns the pool size. */
static int lc__pool_start(int n)
{
    int t;
    if (n > LC_POOL_MAX)
        n = LC_POOL_MAX;
    for (t = 1; t < n; t++)
        if (pthread_create(&lc__pool.tid[t], NULL, lc__pool_worker, NULL) != 0)
            break;
    lc__pool.threads = t;
    return t;
}

/* Runs fn(ctx, 0 .. ntasks - 1) on the pool and the caller; see above. */
LC_POOL_API void lc_pool_for(int ntasks, void (*fn)(void *ctx, int task), void *ctx);

#ifdef LC_THREADS
static pthread_once_t lc__pool_once = PTHREAD_ONCE_INIT;
static void lc__pool_start_once(void) { lc__pool_start(LC_THREADS); }
#else
static void lc__pool_stop(void)
{
    int t;
    __atomic_store_n(&lc__pool.quit, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&lc__pool.lock);
    pthread_cond_broadcast(&lc__pool.wake);
    pthread_mutex_unlock(&lc__pool.lock);
    for (t = 1; t < lc__pool.threads; t++)
        pthread_join(lc__pool.tid[t], NULL);
    lc__pool.threads = 1;
}

int lc_pool_init(int n)
{
    static int started;
    sigset_t all, old;
    if (started++)
        return lc__pool.threads;
    if (n <= 1)
        return 1;
    /* workers take no signals: they stay with the thread that handles them */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    n = lc__pool_start(n);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (n > 1)
        atexit(lc__pool_stop);
    return n;
}

int lc_pool_threads(void)
{
    return lc__pool.threads;
}

int lc_cpu_count(void)
{
    cpu_set_t set;
    long n;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
#endif

LC_POOL_API void lc_pool_for(int ntasks, void (*fn)(void *ctx, int task), void *ctx)
{
    unsigned g;
    int t, slot;
    long i;
#ifdef LC_THREADS
    pthread_once(&lc__pool_once, lc__pool_start_once);
#endif
    if (ntasks <= 1 || lc__pool.threads <= 1 ||
        __atomic_exchange_n(&lc__pool.busy, 1, __ATOMIC_ACQUIRE)) {
        /* serial: one thread, or a call from inside a task or beside another job */
        for (t = 0; t < ntasks; t++)
            fn(ctx, t);
        return;
    }
    g = __atomic_load_n(&lc__pool.gen, __ATOMIC_RELAXED) + 1;
    slot = (int)(g & 1);
    __atomic_store_n(&lc__pool.fn[slot], fn, __ATOMIC_RELAXED);
    __atomic_store_n(&lc__pool.ctx[slot], ctx, __ATOMIC_RELAXED);
    __atomic_store_n(&lc__pool.ntasks[slot], ntasks, __ATOMIC_RELAXED);
    __atomic_store_n(&lc__pool.done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&lc__pool.next, (unsigned long long)g << 32, __ATOMIC_RELEASE);
    __atomic_store_n(&lc__pool.gen, g, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&lc__pool.sleeping, __ATOMIC_SEQ_CST)) {
        pthread_mutex_lock(&lc__pool.lock);
        pthread_cond_broadcast(&lc__pool.wake);
        pthread_mutex_unlock(&lc__pool.lock);
    }
    lc__pool_work(g);
    for (i = 0; __atomic_load_n(&lc__pool.done, __ATOMIC_ACQUIRE) < ntasks; i++) {
        if (i < LC_POOL_SPINS)
            lc__pool_pause();
        else
            sched_yield();
    }
    __atomic_store_n(&lc__pool.busy, 0, __ATOMIC_RELEASE);
}

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#endif
