#include "pxt_media_internal.h"

#include <string.h>
#include <webp/decode.h>

static uint32_t be16(const uint8_t *p) { return ((uint32_t)p[0] << 8) | p[1]; }
static uint32_t be32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
static uint32_t le32(const uint8_t *p) { return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0]; }

// JPEG: walk the marker segments to the first start-of-frame. In entropy-coded data 0xFF is
// always stuffed (FF 00) or a restart marker, so an EOI (FF D9) near the end of the file means
// the scan data was not cut short.
int pxt_probe_jpeg(const uint8_t *d, size_t n, pxt_image_info *info, char *err, size_t err_size) {
    size_t i = 2;
    while (i + 4 <= n) {
        if (d[i] != 0xFF) return pxt_fail(err, err_size, "broken JPEG file: expected a marker at byte %zu", i);
        uint8_t m = d[i + 1];
        if (m == 0xFF) { i++; continue; }  // fill bytes
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { i += 2; continue; }
        if (m == 0xD9) break;
        uint32_t len = be16(d + i + 2);
        if (len < 2 || i + 2 + len > n) return pxt_fail(err, err_size, "broken JPEG file: segment at byte %zu runs past the end", i);
        int is_sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
        if (is_sof) {
            if (len < 8) return pxt_fail(err, err_size, "broken JPEG file: short frame header");
            info->height = (int)be16(d + i + 5);
            info->width = (int)be16(d + i + 7);
            int comps = d[i + 9];
            if (comps != 1 && comps != 3 && comps != 4)
                return pxt_fail(err, err_size, "unsupported JPEG file: %d color components", comps);
            info->channels = comps == 1 ? 1 : 3;
            size_t tail = n > 65536 ? n - 65536 : 0;
            info->complete = 0;
            for (size_t k = n; k >= tail + 2; k--) {
                if (d[k - 2] == 0xFF && d[k - 1] == 0xD9) { info->complete = 1; break; }
            }
            return 0;
        }
        i += 2 + len;
    }
    return pxt_fail(err, err_size, "broken JPEG file: no frame header");
}

// PNG: the IHDR chunk gives size and color type; a tRNS chunk before IDAT adds alpha; the
// IEND chunk closes a complete file.
int pxt_probe_png(const uint8_t *d, size_t n, pxt_image_info *info, char *err, size_t err_size) {
    if (n < 33 || memcmp(d + 12, "IHDR", 4) != 0) return pxt_fail(err, err_size, "broken PNG file: no IHDR chunk");
    info->width = (int)be32(d + 16);
    info->height = (int)be32(d + 20);
    if (be32(d + 16) > 0x7FFFFFFF || be32(d + 20) > 0x7FFFFFFF) return pxt_fail(err, err_size, "broken PNG file: bad size");
    int color = d[25];
    int alpha = color == 4 || color == 6;
    int gray = color == 0 || color == 4;
    if (color != 0 && color != 2 && color != 3 && color != 4 && color != 6)
        return pxt_fail(err, err_size, "broken PNG file: color type %d", color);
    size_t i = 33;
    while (i + 8 <= n) {
        uint32_t len = be32(d + i);
        const uint8_t *type = d + i + 4;
        if (memcmp(type, "tRNS", 4) == 0) alpha = 1;
        if (memcmp(type, "IDAT", 4) == 0) break;
        if (len > n || i + 12 + (size_t)len > n) break;
        i += 12 + (size_t)len;
    }
    info->channels = (gray ? 1 : 3) + (alpha ? 1 : 0);
    info->complete = n >= 12 && memcmp(d + n - 8, "IEND", 4) == 0;
    if (!info->complete) {
        // Data after IEND is tolerated: look for the chunk in the last bytes.
        size_t tail = n > 4096 ? n - 4096 : 0;
        for (size_t k = n - 4; k > tail; k--) {
            if (memcmp(d + k, "IEND", 4) == 0) { info->complete = 1; break; }
        }
    }
    return 0;
}

int pxt_probe_webp(const uint8_t *d, size_t n, pxt_image_info *info, char *err, size_t err_size) {
    WebPBitstreamFeatures f;
    if (WebPGetFeatures(d, n, &f) != VP8_STATUS_OK) return pxt_fail(err, err_size, "broken WebP file: unreadable header");
    if (f.has_animation) return pxt_fail(err, err_size, "animated WebP images are not supported");
    info->width = f.width;
    info->height = f.height;
    info->channels = f.has_alpha ? 4 : 3;
    info->complete = (size_t)le32(d + 4) + 8 <= n;
    return 0;
}
