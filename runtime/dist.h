/* dist.h: the little of MPI that data-parallel training needs.
 *
 * Built with -DLC_MPI (`make MPI=1`), these functions are MPI calls on
 * MPI_COMM_WORLD; otherwise they are single-process no-ops (rank 0 of 1) and
 * nothing of MPI is compiled or linked.  The training loop (train.c) uses
 * them to split every global batch across ranks and to sum the gradients;
 * see docs/SCALING.md.
 *
 * Failure: a rank that meets an error must not leave the others blocked in a
 * collective, so errors end the whole job through lc_dist_abort (or
 * lc_dist_exit with a non-zero status), which is MPI_Abort under MPI.
 */
#ifndef LC_DIST_H
#define LC_DIST_H

#include <stdint.h>

/* Starts MPI when built with it and launched by mpirun (or another MPI
 * launcher); a plain `layerc ...` of an MPI build runs as one process
 * without starting MPI.  Call once, before any other lc_dist_ function. */
void lc_dist_init(int *argc, char ***argv);

int lc_dist_rank(void);          /* 0 .. size-1; 0 without MPI */
int lc_dist_size(void);          /* number of processes; 1 without MPI */

/* In place, on every rank: v[i] = the sum over ranks of v[i]. */
void lc_dist_allreduce_sum_float(float *v, long n);
void lc_dist_allreduce_sum_double(double *v, long n);
void lc_dist_allreduce_sum_long(long *v, long n);

/* In place: every rank gets rank 0's v[0..n). */
void lc_dist_broadcast_float(float *v, long n);

/* 1 when every rank passed the same value, else 0 (on every rank). */
int lc_dist_same_u64(uint64_t v);

/* Batch statistics across the ranks (batchnorm normalises with those of the
 * global batch, as torch.nn.SyncBatchNorm).  lc_train announces each
 * data-parallel step: this rank holds k of the global batch's n rows (a rank
 * with k = 0 runs a stand-in row that counts for nothing); lc_dist_set_step(0, 0)
 * ends it.  Inside a step, with several ranks, the kernels of
 * runtime/kernels/norm.c call:
 *   lc_dist_batch_rows(local): the rows of the global batch (else local);
 *   lc_dist_batch_sum(v, n, 0): v summed over the ranks (forward statistics;
 *     a rank with k = 0 adds nothing);
 *   lc_dist_batch_sum(v, n, 1): sums of gradients, which a rank holds in the
 *     units of the mean loss over its own k rows: summed as shares k/n of the
 *     global batch's loss and handed back in this rank's units.
 * Outside a step, or with one process, they change nothing. */
void lc_dist_set_step(int k, int n);
int lc_dist_batch_rows(int local);
void lc_dist_batch_sum(double *v, int n, int weighted);

/* Ends the job on every rank with this exit code (MPI_Abort), after flushing
 * stdout and stderr.  Without MPI: exit(code). */
void lc_dist_abort(int code);

/* Shuts MPI down (MPI_Finalize).  No-op without MPI or when not started. */
void lc_dist_finalize(void);

/* The end of main: with several ranks, a non-zero status aborts the whole
 * job (the other ranks may be waiting in a collective); otherwise MPI is
 * finalized.  Returns status. */
int lc_dist_exit(int status);

#endif
