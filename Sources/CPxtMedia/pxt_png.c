#include "pxt_media_internal.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

// libpng's simplified API reports errors by return value, so no jump crosses this file.

int pxt_decode_png(const uint8_t *data, size_t size, uint8_t **pixels, int *width, int *height, int *channels, char *err,
                   size_t err_size) {
    png_image image;
    memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        int rc = pxt_fail(err, err_size, "broken PNG file: %s", image.message);
        png_image_free(&image);
        return rc;
    }
    int color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
    int alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    image.format = color ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB) : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
    int ch = (color ? 3 : 1) + (alpha ? 1 : 0);
    if ((int64_t)image.width * image.height > PXT_MAX_PIXELS) {
        png_image_free(&image);
        return pxt_fail(err, err_size, "image size (%ux%u pixels) exceeds the limit", image.width, image.height);
    }
    size_t bytes = PNG_IMAGE_SIZE(image);
    uint8_t *out = malloc(bytes);
    if (!out) {
        png_image_free(&image);
        return pxt_fail(err, err_size, "out of memory decoding a %ux%u PNG", image.width, image.height);
    }
    if (!png_image_finish_read(&image, NULL, out, 0, NULL)) {
        int truncated = strstr(image.message, "EOF") != NULL || strstr(image.message, "end") != NULL;
        int rc = truncated ? pxt_fail(err, err_size, "image file is truncated (%s)", image.message)
                           : pxt_fail(err, err_size, "broken PNG file: %s", image.message);
        free(out);
        png_image_free(&image);
        return rc;
    }
    *pixels = out;
    *width = (int)image.width;
    *height = (int)image.height;
    *channels = ch;
    png_image_free(&image);
    return 0;
}

int pxt_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **out, size_t *out_size, char *err,
                   size_t err_size) {
    png_image image;
    memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    static const png_uint_32 formats[5] = {0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA};
    image.format = formats[channels];
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&image, NULL, &size, 0, pixels, 0, NULL)) {
        int rc = pxt_fail(err, err_size, "PNG encoding failed: %s", image.message);
        png_image_free(&image);
        return rc;
    }
    uint8_t *buffer = malloc(size);
    if (!buffer) return pxt_fail(err, err_size, "out of memory encoding a %dx%d PNG", width, height);
    if (!png_image_write_to_memory(&image, buffer, &size, 0, pixels, 0, NULL)) {
        int rc = pxt_fail(err, err_size, "PNG encoding failed: %s", image.message);
        free(buffer);
        png_image_free(&image);
        return rc;
    }
    png_image_free(&image);
    *out = buffer;
    *out_size = size;
    return 0;
}
