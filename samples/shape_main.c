/* Embedding a generated model: layerc samples/shape.lyr -o shape.c, then
 *     cc -std=c99 shape_main.c shape.c -lm -o shape && ./shape
 * prints the outputs of the three rows of the example: 0, 1, 0. */
#include <stdio.h>

#include "shape.h"

int main(void)
{
    static shape_t model;            /* the caller owns the state */
    const float x[3][shape_IN] = { { 100, 2000, 100 }, { 200, 0, 0 }, { 0, 2000, 3000 } };
    float y[3][shape_OUT];

    shape_init(&model, 1);
    shape_forward(&model, &x[0][0], &y[0][0], 3);
    for (int i = 0; i < 3; i++) printf("%.0f\n", y[i][0] + 0.0f);
    return 0;
}
