#include "pxt_media_internal.h"

#include <stdlib.h>
#include <string.h>

static int sniff(const uint8_t *d, size_t n) {
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return PXT_FORMAT_JPEG;
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return PXT_FORMAT_PNG;
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) return PXT_FORMAT_WEBP;
    if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) return PXT_FORMAT_GIF;
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return PXT_FORMAT_BMP;
    if (n >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0)) return PXT_FORMAT_TIFF;
    return PXT_FORMAT_UNKNOWN;
}

static const char *format_name(int f) {
    switch (f) {
    case PXT_FORMAT_GIF: return "GIF";
    case PXT_FORMAT_BMP: return "BMP";
    case PXT_FORMAT_TIFF: return "TIFF";
    default: return "this";
    }
}

int pxt_image_probe(const uint8_t *data, size_t size, pxt_image_info *info, char *err, size_t err_size) {
    memset(info, 0, sizeof(*info));
    int f = sniff(data, size);
    info->format = f;
    int rc;
    switch (f) {
    case PXT_FORMAT_JPEG: rc = pxt_probe_jpeg(data, size, info, err, err_size); break;
    case PXT_FORMAT_PNG: rc = pxt_probe_png(data, size, info, err, err_size); break;
    case PXT_FORMAT_WEBP: rc = pxt_probe_webp(data, size, info, err, err_size); break;
    case PXT_FORMAT_UNKNOWN: return pxt_fail(err, err_size, "cannot identify image file");
    default: return pxt_fail(err, err_size, "%s image format is not supported (JPEG, PNG and WebP are)", format_name(f));
    }
    if (rc != 0) return rc;
    if (info->width <= 0 || info->height <= 0) return pxt_fail(err, err_size, "image has no pixels (%dx%d)", info->width, info->height);
    if ((int64_t)info->width * info->height > PXT_MAX_PIXELS)
        return pxt_fail(err, err_size, "image size (%dx%d pixels) exceeds the limit of %lld pixels", info->width, info->height,
                        (long long)PXT_MAX_PIXELS);
    return 0;
}

int pxt_image_decode(const uint8_t *data, size_t size, int scale_denom, uint8_t **pixels, int *width, int *height, int *channels,
                     char *err, size_t err_size) {
    *pixels = NULL;
    pxt_image_info info;
    if (pxt_image_probe(data, size, &info, err, err_size) != 0) return -1;
    switch (info.format) {
    case PXT_FORMAT_JPEG: return pxt_decode_jpeg(data, size, scale_denom, pixels, width, height, channels, err, err_size);
    case PXT_FORMAT_PNG: return pxt_decode_png(data, size, pixels, width, height, channels, err, err_size);
    case PXT_FORMAT_WEBP: return pxt_decode_webp(data, size, pixels, width, height, channels, err, err_size);
    default: return pxt_fail(err, err_size, "cannot identify image file");
    }
}

int pxt_image_encode(int format, const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out,
                     size_t *out_size, char *err, size_t err_size) {
    *out = NULL;
    *out_size = 0;
    if (width <= 0 || height <= 0) return pxt_fail(err, err_size, "cannot encode an empty image (%dx%d)", width, height);
    if (channels < 1 || channels > 4) return pxt_fail(err, err_size, "cannot encode %d channels", channels);
    switch (format) {
    case PXT_FORMAT_JPEG: return pxt_encode_jpeg(pixels, width, height, channels, quality, out, out_size, err, err_size);
    case PXT_FORMAT_PNG: return pxt_encode_png(pixels, width, height, channels, out, out_size, err, err_size);
    case PXT_FORMAT_WEBP: return pxt_encode_webp(pixels, width, height, channels, quality, out, out_size, err, err_size);
    default: return pxt_fail(err, err_size, "unknown output format %d", format);
    }
}

void pxt_image_free(void *p) { free(p); }
