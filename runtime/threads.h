/* threads.h: the small persistent thread pool the kernels split their work
 * over (`--threads N`).
 *
 * runtime/threads.c is one source used two ways, like kernels.c:
 *   - compiled into layerc: the kernels it hands to the JIT's code call
 *     lc_pool_for() (kernels.o is compiled with -DLC_POOL);
 *   - pasted, every function static, into the C that `layerc --threads N
 *     m.lyr -o m.c` writes (with `#define LC_THREADS N` before it), so that
 *     such a file needs pthreads and nothing else.
 *
 * A job is NTASKS calls fn(ctx, 0) ... fn(ctx, NTASKS - 1); the calling
 * thread takes part, and lc_pool_for returns when all are done.  Tasks are
 * claimed one at a time from a shared counter, so a worker that the system
 * has not scheduled yet delays nothing: the caller runs the tasks nobody has
 * claimed.  Workers spin for a short while between jobs (a training step is
 * a chain of jobs a few microseconds to a millisecond long), then yield,
 * then sleep on a condition variable.
 *
 * What a kernel computes never depends on which thread runs a task, nor on
 * whether the job runs on threads at all (a nested call, or one made while
 * another thread uses the pool, runs its tasks in order on the caller):
 * the results depend only on the task decomposition, which the kernels fix
 * from the thread count given at start-up (see kernels.c).
 */
#ifndef LC_THREADS_H
#define LC_THREADS_H

/* Most threads the pool runs (workers + the caller). */
#define LC_POOL_MAX 64

/* Starts the pool with n threads in all (the caller and n - 1 workers);
 * n <= 1 (or a failure to start a thread) leaves it serial.  Call once,
 * before any kernel runs; later calls do nothing and return the size. */
int lc_pool_init(int n);
/* The number of threads the pool was started with (1 before lc_pool_init). */
int lc_pool_threads(void);
/* Runs fn(ctx, t) for t = 0 .. ntasks - 1 and waits for all of them. */
void lc_pool_for(int ntasks, void (*fn)(void *ctx, int task), void *ctx);
/* The CPUs this process may run on (sched_getaffinity), at least 1. */
int lc_cpu_count(void);

#endif
