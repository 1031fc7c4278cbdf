/* dist.c: MPI behind the small interface of dist.h; single-process no-ops
 * unless compiled with -DLC_MPI (`make MPI=1`). */
#include "dist.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef LC_MPI

#include <limits.h>
#include <mpi.h>

static int started, rank, size = 1;

/* Launched by mpirun/mpiexec/srun?  (Open MPI, PMIx, PMI-1/2: MPICH's hydra, Slurm.)
 * A plain run of an MPI build does not start MPI, which would cost a
 * "singleton" start-up for nothing. */
static int under_launcher(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE" };
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

void lc_dist_init(int *argc, char ***argv)
{
    if (started || !under_launcher()) return;
    /* Open MPI: a rank waiting in a collective yields the CPU instead of
     * spinning on it.  Costs nothing on an idle machine, and on a busy one
     * (more runnable processes than cores) a spinning rank takes the core
     * that the rank it waits for needs: measured 2x faster there
     * (docs/SCALING.md).  `--mca mpi_yield_when_idle 0` overrides it. */
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    /* FUNNELED: the kernels' thread pool (--threads) may run worker threads,
     * but only this thread calls MPI */
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fputs("layerc: error: MPI_Init failed\n", stderr);
        exit(1);
    }
    started = 1;
    /* errors in MPI calls end the job (the default for MPI_COMM_WORLD; said here for the reader) */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
}

int lc_dist_rank(void) { return rank; }
int lc_dist_size(void) { return size; }

/* MPI counts are int: large arrays go in chunks. */
static void allreduce(void *v, long n, MPI_Datatype type, size_t elem, MPI_Op op)
{
    if (size == 1) return;
    for (char *p = v; n > 0;) {
        int k = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        MPI_Allreduce(MPI_IN_PLACE, p, k, type, op, MPI_COMM_WORLD);
        p += (size_t)k * elem;
        n -= k;
    }
}

void lc_dist_allreduce_sum_float(float *v, long n) { allreduce(v, n, MPI_FLOAT, sizeof *v, MPI_SUM); }
void lc_dist_allreduce_sum_double(double *v, long n) { allreduce(v, n, MPI_DOUBLE, sizeof *v, MPI_SUM); }
void lc_dist_allreduce_sum_long(long *v, long n) { allreduce(v, n, MPI_LONG, sizeof *v, MPI_SUM); }

void lc_dist_broadcast_float(float *v, long n)
{
    if (size == 1) return;
    for (; n > 0;) {
        int k = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        MPI_Bcast(v, k, MPI_FLOAT, 0, MPI_COMM_WORLD);
        v += k;
        n -= k;
    }
}

int lc_dist_same_u64(uint64_t v)
{
    /* max(v) and max(~v) = ~min(v): all equal when both give v back */
    uint64_t m[2] = { v, ~v };
    allreduce(m, 2, MPI_UINT64_T, sizeof *m, MPI_MAX);
    return m[0] == v && ~m[1] == v;
}

void lc_dist_abort(int code)
{
    fflush(stdout);
    fflush(stderr);
    if (started && size > 1) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

void lc_dist_finalize(void)
{
    int done = 0;
    if (started && (MPI_Finalized(&done), !done)) MPI_Finalize();
    started = 0;
}

#else /* one process, no MPI */

void lc_dist_init(int *argc, char ***argv) { (void)argc, (void)argv; }
int lc_dist_rank(void) { return 0; }
int lc_dist_size(void) { return 1; }
void lc_dist_allreduce_sum_float(float *v, long n) { (void)v, (void)n; }
void lc_dist_allreduce_sum_double(double *v, long n) { (void)v, (void)n; }
void lc_dist_allreduce_sum_long(long *v, long n) { (void)v, (void)n; }
void lc_dist_broadcast_float(float *v, long n) { (void)v, (void)n; }
int lc_dist_same_u64(uint64_t v) { (void)v; return 1; }
void lc_dist_abort(int code)
{
    fflush(stdout);
    fflush(stderr);
    exit(code);
}
void lc_dist_finalize(void) {}

#endif

/* ---- batch statistics of a data-parallel step (dist.h) ---- */

static int step_k, step_n;

void lc_dist_set_step(int k, int n)
{
    step_k = k;
    step_n = n;
}

int lc_dist_batch_rows(int local)
{
    return step_n > 0 && lc_dist_size() > 1 ? step_n : local;
}

void lc_dist_batch_sum(double *v, int n, int weighted)
{
    if (step_n <= 0 || lc_dist_size() == 1) return;
    double share = (double)step_k / step_n;
    for (int i = 0; i < n; i++) v[i] *= weighted ? share : step_k > 0;
    lc_dist_allreduce_sum_double(v, n);
    if (weighted && step_k > 0)
        for (int i = 0; i < n; i++) v[i] /= share;
}

int lc_dist_exit(int status)
{
    if (status && lc_dist_size() > 1) lc_dist_abort(status);
    lc_dist_finalize();
    return status;
}
