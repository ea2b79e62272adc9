#ifndef PXT_MEDIA_H
#define PXT_MEDIA_H

// A small, fixed-argument C surface over libjpeg(-turbo), libpng and libwebp.
//
// The classic libjpeg API reports errors with setjmp/longjmp, which must never cross Swift
// frames; every jump stays inside these functions, and each failure comes back as -1 with a
// message. All buffers handed out are malloc'd and released with pxt_image_free.

#include <stddef.h>
#include <stdint.h>

enum {
    PXT_FORMAT_UNKNOWN = 0,
    PXT_FORMAT_JPEG = 1,
    PXT_FORMAT_PNG = 2,
    PXT_FORMAT_WEBP = 3,
    PXT_FORMAT_GIF = 4,
    PXT_FORMAT_BMP = 5,
    PXT_FORMAT_TIFF = 6,
};

/// What an image's header says, read without decoding its pixels.
typedef struct {
    int format;
    int width;
    int height;
    /// 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA): the channels a decode produces.
    int channels;
    /// 1 when the file ends as its format requires (JPEG EOI, PNG IEND, the RIFF size of a WebP),
    /// 0 for a file cut short.
    int complete;
} pxt_image_info;

/// Reads the header of the encoded image in `data`. Returns 0, or -1 with a message in `err`.
int pxt_image_probe(const uint8_t *data, size_t size, pxt_image_info *info, char *err, size_t err_size);

/// Decodes `data` to 8-bit interleaved pixels with the channels `pxt_image_probe` reports (CMYK
/// JPEGs become RGB). For JPEG, `scale_denom` (1, 2, 4 or 8) decodes in the DCT domain at that
/// fraction of the size, which costs a fraction of a full decode; other formats ignore it.
/// On success `*pixels` holds `*width * *height * *channels` bytes.
int pxt_image_decode(const uint8_t *data, size_t size, int scale_denom, uint8_t **pixels, int *width, int *height, int *channels,
                     char *err, size_t err_size);

/// Encodes pixels (1 to 4 channels; JPEG takes 1 or 3, WebP 3 or 4) as `format`. `quality` is
/// 1-100 for JPEG and lossy WebP (0 asks for lossless WebP) and ignored by PNG.
int pxt_image_encode(int format, const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out,
                     size_t *out_size, char *err, size_t err_size);

/// Frees a buffer returned by this API.
void pxt_image_free(void *p);

#endif
