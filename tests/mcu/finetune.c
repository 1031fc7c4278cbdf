/* finetune.c: training on the device.  The model (samples/fashion_cnn_finetune.lyr,
 * its convolutions frozen) learns from embedded labelled images one at a
 * time (train_step with n = 1), and its accuracy on embedded held-out images
 * is measured before and after.  Output, one record a line:
 *     model NAME IN OUT
 *     state BYTES                          sizeof the model's state (training build)
 *     accuracy before|after RIGHT OF
 *     epoch E MEAN_LOSS_BITS
 *     step INSTRUCTIONS STACK_BYTES        of one train_step (the costliest seen)
 *     stack_total BYTES                    the most stack in use, from the top of RAM
 *     end
 * FINETUNE_EPOCHS passes over the training images (default 1). */
#include "board.h"
#include "model_glue.h"
#include "finetune_train.h"
#include "finetune_held.h"

#ifndef FINETUNE_EPOCHS
#define FINETUNE_EPOCHS 1
#endif

typedef char input_size_matches[MODEL_IN == train_BYTES && MODEL_IN == held_BYTES ? 1 : -1];

static model_t model;
static long stack_total;

/* the stack below sp a call used, and the most in use from the top of RAM */
static long metered(uintptr_t sp)
{
    long used = board_stack_used(sp);
    if (used >= 0 && (long)(board_stack_top() - sp) + used > stack_total)
        stack_total = (long)(board_stack_top() - sp) + used;
    return used;
}

static void pixels(const unsigned char *p, float *x)
{
    for (int j = 0; j < MODEL_IN; j++) x[j] = (float)p[j] / 255.0f;
}

static int accuracy(const char *when)
{
    float x[MODEL_IN], y[MODEL_OUT];
    int right = 0;
    for (int i = 0; i < held_N; i++) {
        pixels(held_x[i], x);
        uintptr_t sp = board_sp();
        board_stack_paint();
        model_forward(&model, x, y, 1);
        if (metered(sp) < 0) {
            out_str("stack overflow: forward reached the end of RAM or of the paint\n");
            board_exit(3);
        }
        int best = 0;
        for (int j = 1; j < MODEL_OUT; j++)
            if (y[j] > y[best]) best = j;
        right += best == held_label[i];
    }
    out_str("accuracy ");
    out_str(when);
    out_str(" ");
    out_int(right);
    out_str(" ");
    out_int(held_N);
    out_str("\n");
    return right;
}

int main(void)
{
    float x[MODEL_IN], truth[MODEL_OUT];
    uint32_t worst = 0;
    long worst_stack = 0;
    out_str("model " MODEL_NAME " ");
    out_uint(MODEL_IN);
    out_str(" ");
    out_uint(MODEL_OUT);
    out_str("\nstate ");
    out_uint(sizeof model);
    out_str("\n");
    model_init(&model, 1);
    accuracy("before");
    for (int e = 0; e < FINETUNE_EPOCHS; e++) {
        float total = 0;
        for (int i = 0; i < train_N; i++) {
            pixels(train_x[i], x);
            for (int j = 0; j < MODEL_OUT; j++) truth[j] = j == train_label[i] ? 1.0f : 0.0f;
            uintptr_t sp = board_sp();
            board_stack_paint();
            uint32_t t0 = board_instructions();
            total += model_train_step(&model, x, truth, 1);
            uint32_t t1 = board_instructions();
            long stack = metered(sp);
            if (stack < 0) {
                out_str("stack overflow: train_step reached the end of RAM or of the paint\n");
                return 3;
            }
            if (t1 - t0 > worst) worst = t1 - t0;
            if (stack > worst_stack) worst_stack = stack;
        }
        out_str("epoch ");
        out_int(e + 1);
        out_str(" ");
        out_float(total / (float)train_N);
        out_str("\n");
    }
    out_str("step ");
    out_uint(worst);
    out_str(" ");
    out_int(worst_stack);
    out_str("\n");
    accuracy("after");
    out_str("stack_total ");
    out_int(stack_total);
    out_str("\nend\n");
    return 0;
}
