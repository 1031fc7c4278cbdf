/* main.c: the Fashion-MNIST CNN on a Cortex-M4.  The model is the C that
 * `layerc samples/fashion_cnn.lyr --weights cnn.lyw --inference -o fashion_cnn.c`
 * writes (the trained weights baked in as constants); images.h holds a few
 * test images as bytes, made from the IDX file by the tutorial's od step. */
#include <stdint.h>

#include "fashion_cnn.h"
#include "images.h"
#include "semihost.h"

static const char *const names[10] = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

static fashion_cnn_t model;   /* the whole state: no heap */

/* n in decimal at the end of buf */
static char *decimal(char *end, unsigned n)
{
    *--end = '\0';
    do *--end = (char)('0' + n % 10); while (n /= 10);
    return end;
}

int main(void)
{
    char buf[16];
    float x[fashion_cnn_IN], y[fashion_cnn_OUT];
    fashion_cnn_init(&model, 0);
    int n = (int)(sizeof images / sizeof images[0]);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < fashion_cnn_IN; j++) x[j] = images[i][j] / 255.0f;   /* as layerc reads IDX */
        fashion_cnn_forward(&model, x, y, 1);
        int best = 0;
        for (int k = 1; k < fashion_cnn_OUT; k++)
            if (y[k] > y[best]) best = k;
        sh_puts("image ");
        sh_puts(decimal(buf + sizeof buf, (unsigned)i));
        sh_puts(": class ");
        sh_puts(decimal(buf + sizeof buf, (unsigned)best));
        sh_puts(" (");
        sh_puts(names[best]);
        sh_puts("), ");
        sh_puts(decimal(buf + sizeof buf, (unsigned)(y[best] * 100 + 0.5f)));
        sh_puts("%\n");
    }
    return 0;
}
