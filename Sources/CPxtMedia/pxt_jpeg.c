#include "pxt_media_internal.h"

#include <jerror.h>
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

// libjpeg's error manager ends a failing call with longjmp back here, never into Swift.
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} pxt_jpeg_error;

static void on_error(j_common_ptr cinfo) {
    pxt_jpeg_error *e = (pxt_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

// Warnings are ignored as Pillow ignores them, except a premature end of data: libjpeg would
// fill the missing rows with gray, while Pillow reports the file as truncated.
static void on_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        pxt_jpeg_error *e = (pxt_jpeg_error *)cinfo->err;
        snprintf(e->message, sizeof(e->message), "image file is truncated");
        longjmp(e->jump, 1);
    }
}

int pxt_decode_jpeg(const uint8_t *data, size_t size, int scale_denom, uint8_t **pixels, int *width, int *height, int *channels,
                    char *err, size_t err_size) {
    struct jpeg_decompress_struct cinfo;
    pxt_jpeg_error jerr;
    // Volatile: these change after setjmp and are read after a longjmp.
    uint8_t *volatile out = NULL;
    JSAMPLE *volatile cmyk_row = NULL;
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&jerr.base);
    jerr.base.error_exit = on_error;
    jerr.base.emit_message = on_message;
    jerr.message[0] = 0;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free((void *)out);
        free((void *)cmyk_row);
        return pxt_fail(err, err_size, "%s", jerr.message[0] ? jerr.message : "broken JPEG file");
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    if (cinfo.num_components == 1) {
        cinfo.out_color_space = JCS_GRAYSCALE;
    } else if (cmyk) {
        cinfo.out_color_space = JCS_CMYK;
    } else {
        cinfo.out_color_space = JCS_RGB;
    }
    if (scale_denom == 2 || scale_denom == 4 || scale_denom == 8) {
        cinfo.scale_num = 1;
        cinfo.scale_denom = (unsigned int)scale_denom;
    }
    // Pillow decodes with the accurate integer IDCT and fancy upsampling, libjpeg's defaults.
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    int ch = cinfo.out_color_space == JCS_GRAYSCALE ? 1 : 3;
    if ((int64_t)w * h > PXT_MAX_PIXELS) {
        snprintf(jerr.message, sizeof(jerr.message), "image size (%dx%d pixels) exceeds the limit", w, h);
        longjmp(jerr.jump, 1);
    }
    out = malloc((size_t)w * (size_t)h * (size_t)ch);
    if (cmyk) cmyk_row = malloc((size_t)w * 4);
    if (!out || (cmyk && !cmyk_row)) {
        snprintf(jerr.message, sizeof(jerr.message), "out of memory decoding a %dx%d JPEG", w, h);
        longjmp(jerr.jump, 1);
    }
    // Adobe writes CMYK inverted; the product of each ink with black gives RGB, as Pillow does.
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *row = out + (size_t)cinfo.output_scanline * (size_t)w * (size_t)ch;
        if (cmyk) {
            JSAMPROW rows[1] = {cmyk_row};
            jpeg_read_scanlines(&cinfo, rows, 1);
            for (int x = 0; x < w; x++) {
                int c = cmyk_row[4 * x], m = cmyk_row[4 * x + 1], y = cmyk_row[4 * x + 2], k = cmyk_row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
                row[3 * x] = (uint8_t)((c * k + 127) / 255);
                row[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
                row[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
            }
        } else {
            JSAMPROW rows[1] = {row};
            jpeg_read_scanlines(&cinfo, rows, 1);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free((void *)cmyk_row);
    *pixels = out;
    *width = w;
    *height = h;
    *channels = ch;
    return 0;
}

int pxt_encode_jpeg(const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out, size_t *out_size,
                    char *err, size_t err_size) {
    if (channels != 1 && channels != 3) return pxt_fail(err, err_size, "JPEG holds L or RGB images, not %d channels", channels);
    struct jpeg_compress_struct cinfo;
    pxt_jpeg_error jerr;
    unsigned char *volatile buffer = NULL;
    unsigned long length = 0;
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&jerr.base);
    jerr.base.error_exit = on_error;
    jerr.message[0] = 0;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&cinfo);
        free((void *)buffer);
        return pxt_fail(err, err_size, "%s", jerr.message[0] ? jerr.message : "JPEG encoding failed");
    }
    jpeg_create_compress(&cinfo);
    unsigned char *dest = NULL;
    jpeg_mem_dest(&cinfo, &dest, &length);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    // Pillow's defaults: quality 75, 4:2:0 chroma subsampling (libjpeg's default too).
    jpeg_set_quality(&cinfo, quality > 0 && quality <= 100 ? quality : 75, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = {(JSAMPROW)(pixels + (size_t)cinfo.next_scanline * (size_t)width * (size_t)channels)};
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    buffer = dest;
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = length;
    return 0;
}
