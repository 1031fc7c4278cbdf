/* infer.c: runs a layerc model on embedded test images, the way firmware
 * would, and reports each output (as float bits) with the instructions and
 * the stack of each forward call.  Output, one record a line:
 *     model NAME IN OUT
 *     state BYTES                        sizeof the model's state
 *     out I LABEL BITS...                the outputs of image I
 *     cost I INSTRUCTIONS STACK_BYTES    of the forward call on image I
 *     stack_total BYTES                  the most stack in use, from the top of RAM
 *     end
 * Exit status 0, or 3 when a call overflowed the stack. */
#include "board.h"
#include "model_glue.h"
#include "samples.h"

/* the embedded images must be the model's input size */
typedef char input_size_matches[MODEL_IN == samples_BYTES ? 1 : -1];

static model_t model;

static void record(const char *tag, long i)
{
    out_str(tag);
    out_str(" ");
    out_int(i);
}

int main(void)
{
    float x[MODEL_IN], y[MODEL_OUT];
    long total = 0;
    out_str("model " MODEL_NAME " ");
    out_uint(MODEL_IN);
    out_str(" ");
    out_uint(MODEL_OUT);
    out_str("\nstate ");
    out_uint(sizeof model);
    out_str("\n");
    model_init(&model, 1);
    for (int i = 0; i < samples_N; i++) {
        /* as layerc's IDX reader does: the correctly rounded pixel / 255 */
        for (int j = 0; j < MODEL_IN; j++) x[j] = (float)samples_x[i][j] / 255.0f;
        uintptr_t sp = board_sp();
        board_stack_paint();
        uint32_t t0 = board_instructions();
        model_forward(&model, x, y, 1);
        uint32_t t1 = board_instructions();
        long stack = board_stack_used(sp);
        record("out", i);
        out_str(" ");
        out_uint(samples_label[i]);
        for (int j = 0; j < MODEL_OUT; j++) {
            out_str(" ");
            out_float(y[j]);
        }
        record("\ncost", i);
        out_str(" ");
        out_uint(t1 - t0);
        out_str(" ");
        out_int(stack);
        out_str("\n");
        if (stack < 0) {
            out_str("stack overflow: the forward call reached the end of RAM or of the paint\n");
            return 3;
        }
        if ((long)(board_stack_top() - sp) + stack > total) total = (long)(board_stack_top() - sp) + stack;
    }
    out_str("stack_total ");
    out_int(total);
    out_str("\nend\n");
    return 0;
}
