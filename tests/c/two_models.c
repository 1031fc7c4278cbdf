/* Two generated models in one program: nothing global clashes. */
#include <stdio.h>

#include "shape.h"
#include "xor.h"

int main(void)
{
    static shape_t s;
    static xor_t x;
    const float food[shape_IN] = { 200, 0, 0 }, in[xor_IN] = { 1, 0 };
    float y1, y2;
    shape_init(&s, 1);
    xor_init(&x, 1);
    shape_forward(&s, food, &y1, 1);
    xor_forward(&x, in, &y2, 1);
    printf("%.3f %d\n", y1, y2 > 0 && y2 < 1);
    return !(y1 > 0.999f && y1 < 1.001f && y2 > 0 && y2 < 1);
}
