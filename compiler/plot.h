/* plot.h: `layerc plot`, training curves drawn by gnuplot.
 *
 * Reads the CSV logs of `layerc train --log` (runtime/train.c: epoch,
 * train_loss, train_accuracy, test_loss, test_accuracy, seconds; empty
 * cells where a figure does not exist) and draws the loss per epoch and,
 * when a log has it, the accuracy per epoch: training solid, test dashed,
 * one colour per log.  gnuplot runs as a child process; the picture (.svg or
 * .png) is written atomically.
 */
#ifndef LC_PLOT_H
#define LC_PLOT_H

/* `layerc plot LOG.csv... -o curves.svg`: args are the words after "plot".
 * Returns an exit status (1 a bad log or a failed drawing, 2 usage). */
int plot_command(int argc, char **argv);

/* Draws the n logs into out_path.  Returns an exit status. */
int plot_logs(const char *const *logs, int n, const char *out_path);

/* The picture formats plot_logs draws: 1 when out_path ends in .svg or .png. */
int plot_format_known(const char *out_path);

/* A fresh temporary file for a log (train --plot without --log), malloc'd;
 * the caller unlinks and frees it.  NULL when none can be made. */
char *plot_temp_log(void);

#endif
