#ifndef PXT_MEDIA_INTERNAL_H
#define PXT_MEDIA_INTERNAL_H

#include "pxt_media.h"

#include <stdarg.h>
#include <stdio.h>

/// Writes a printf-style message into `err` (if any) and returns -1.
static inline int pxt_fail(char *err, size_t err_size, const char *fmt, ...) {
    if (err && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int pxt_probe_jpeg(const uint8_t *data, size_t size, pxt_image_info *info, char *err, size_t err_size);
int pxt_probe_png(const uint8_t *data, size_t size, pxt_image_info *info, char *err, size_t err_size);
int pxt_probe_webp(const uint8_t *data, size_t size, pxt_image_info *info, char *err, size_t err_size);

int pxt_decode_jpeg(const uint8_t *data, size_t size, int scale_denom, uint8_t **pixels, int *width, int *height, int *channels,
                    char *err, size_t err_size);
int pxt_decode_png(const uint8_t *data, size_t size, uint8_t **pixels, int *width, int *height, int *channels, char *err,
                   size_t err_size);
int pxt_decode_webp(const uint8_t *data, size_t size, uint8_t **pixels, int *width, int *height, int *channels, char *err,
                    size_t err_size);

int pxt_encode_jpeg(const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out, size_t *out_size,
                    char *err, size_t err_size);
int pxt_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **out, size_t *out_size, char *err,
                   size_t err_size);
int pxt_encode_webp(const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out, size_t *out_size,
                    char *err, size_t err_size);

/// The largest image accepted, in pixels: beyond this a hostile header could ask for gigabytes.
#define PXT_MAX_PIXELS ((int64_t)178956970)

#endif
