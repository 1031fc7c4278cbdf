/* kernels/loss_mcu.c: no loss kernels for small cores (layerc --target mcu):
 * the generated NAME_loss computes the loss in a loop of the real type, so
 * that no double arithmetic, which a single-precision FPU does in software,
 * reaches the firmware.  The unit stands in for loss.c. */
