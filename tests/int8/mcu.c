/* tests/int8/mcu.c: an int8 model's generated C on an emulated Cortex-M
 * (tests/mcu/build.sh, run.sh), on the quantised inputs of inputs.h
 * (inputs_N rows of MODEL_IN int8 values).  Output, one record a line:
 *     out I Y...     the int8 outputs of row I
 *     cost I INSTRUCTIONS
 *     end */
#include "board.h"
#include "inputs.h"
#include "model_glue.h"

static model_t model;

int main(void)
{
    int8_t y[MODEL_OUT];
    model_init(&model);
    for (int i = 0; i < inputs_N; i++) {
        uint32_t t0 = board_instructions();
        model_forward(&model, inputs_x[i], y, 1);
        uint32_t t1 = board_instructions();
        out_str("out ");
        out_int(i);
        for (int j = 0; j < MODEL_OUT; j++) {
            out_str(" ");
            out_int(y[j]);
        }
        out_str("\ncost ");
        out_int(i);
        out_str(" ");
        out_uint(t1 - t0);
        out_str("\n");
    }
    out_str("end\n");
    return 0;
}
