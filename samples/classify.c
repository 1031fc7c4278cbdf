/* classify: the trained Fashion-MNIST model as plain C, the way firmware
 * would use it.  Reads raw IDX test images and labels (uncompressed) and
 * prints the predicted and the true class of the first N images.
 *     layerc samples/fashion_mlp.lyr --weights fashion.lyw --inference -o fashion_mlp.c
 *     cc -O2 classify.c fashion_mlp.c -lm -o classify
 *     ./classify t10k-images-idx3-ubyte t10k-labels-idx1-ubyte 10 */
#include <stdio.h>
#include <stdlib.h>

#include "fashion_mlp.h"

static const char *const names[10] = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

int main(int argc, char **argv)
{
    static fashion_mlp_t model;
    unsigned char pixels[fashion_mlp_IN];
    float x[fashion_mlp_IN], y[fashion_mlp_OUT];
    if (argc != 4) {
        fprintf(stderr, "usage: classify IMAGES LABELS N\n");
        return 2;
    }
    FILE *images = fopen(argv[1], "rb"), *labels = fopen(argv[2], "rb");
    int n = atoi(argv[3]), right = 0;
    /* IDX headers: 16 bytes before the images, 8 before the labels */
    if (!images || !labels || fseek(images, 16, SEEK_SET) || fseek(labels, 8, SEEK_SET)) {
        fprintf(stderr, "classify: cannot read %s or %s\n", argv[1], argv[2]);
        return 1;
    }
    fashion_mlp_init(&model, 0);   /* the trained weights are baked in */
    for (int i = 0; i < n; i++) {
        int truth = fgetc(labels), best = 0;
        if (fread(pixels, 1, sizeof pixels, images) != sizeof pixels || truth == EOF) break;
        for (int j = 0; j < fashion_mlp_IN; j++) x[j] = pixels[j] / 255.0f;
        fashion_mlp_forward(&model, x, y, 1);
        for (int j = 1; j < fashion_mlp_OUT; j++)
            if (y[j] > y[best]) best = j;
        right += best == truth;
        printf("image %2d: predicted %-12s (%3.0f%%)  true %-12s %s\n", i, names[best],
               100 * y[best], names[truth], best == truth ? "" : "  <- wrong");
    }
    printf("%d of %d right\n", right, n);
    fclose(images);
    fclose(labels);
    return 0;
}
