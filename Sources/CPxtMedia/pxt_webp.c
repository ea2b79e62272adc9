#include "pxt_media_internal.h"

#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/encode.h>

int pxt_decode_webp(const uint8_t *data, size_t size, uint8_t **pixels, int *width, int *height, int *channels, char *err,
                    size_t err_size) {
    WebPBitstreamFeatures f;
    if (WebPGetFeatures(data, size, &f) != VP8_STATUS_OK) return pxt_fail(err, err_size, "broken WebP file: unreadable header");
    int ch = f.has_alpha ? 4 : 3;
    if ((int64_t)f.width * f.height > PXT_MAX_PIXELS) return pxt_fail(err, err_size, "image size exceeds the limit");
    size_t stride = (size_t)f.width * (size_t)ch;
    size_t bytes = stride * (size_t)f.height;
    uint8_t *out = malloc(bytes);
    if (!out) return pxt_fail(err, err_size, "out of memory decoding a %dx%d WebP", f.width, f.height);
    uint8_t *r = ch == 4 ? WebPDecodeRGBAInto(data, size, out, bytes, (int)stride) : WebPDecodeRGBInto(data, size, out, bytes, (int)stride);
    if (!r) {
        free(out);
        size_t riff = size >= 8 ? (size_t)data[4] | ((size_t)data[5] << 8) | ((size_t)data[6] << 16) | ((size_t)data[7] << 24) : 0;
        if (riff + 8 > size) return pxt_fail(err, err_size, "image file is truncated");
        return pxt_fail(err, err_size, "broken WebP file: cannot decode");
    }
    *pixels = out;
    *width = f.width;
    *height = f.height;
    *channels = ch;
    return 0;
}

int pxt_encode_webp(const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out, size_t *out_size,
                    char *err, size_t err_size) {
    if (channels != 3 && channels != 4) return pxt_fail(err, err_size, "WebP holds RGB or RGBA images, not %d channels", channels);
    uint8_t *encoded = NULL;
    size_t n;
    int stride = width * channels;
    if (quality <= 0) {
        n = channels == 4 ? WebPEncodeLosslessRGBA(pixels, width, height, stride, &encoded)
                          : WebPEncodeLosslessRGB(pixels, width, height, stride, &encoded);
    } else {
        float q = (float)(quality > 100 ? 100 : quality);
        n = channels == 4 ? WebPEncodeRGBA(pixels, width, height, stride, q, &encoded) : WebPEncodeRGB(pixels, width, height, stride, q, &encoded);
    }
    if (n == 0 || !encoded) return pxt_fail(err, err_size, "WebP encoding failed (%dx%d)", width, height);
    // Hand out a malloc'd copy so that every buffer of this API is released the same way.
    uint8_t *copy = malloc(n);
    if (!copy) {
        WebPFree(encoded);
        return pxt_fail(err, err_size, "out of memory encoding a WebP");
    }
    memcpy(copy, encoded, n);
    WebPFree(encoded);
    *out = copy;
    *out_size = n;
    return 0;
}
