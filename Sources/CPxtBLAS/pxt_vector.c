#include "pxt_blas.h"

#include <cblas.h>

// A min-heap of (value, position) of size k: its root is the smallest kept value.
static void sift_down(float *v, int32_t *p, int size, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < size && v[l] < v[m]) m = l;
        if (r < size && v[r] < v[m]) m = r;
        if (m == i) return;
        float tv = v[i]; v[i] = v[m]; v[m] = tv;
        int32_t tp = p[i]; p[i] = p[m]; p[m] = tp;
        i = m;
    }
}

int pxt_top_k(const float *scores, const uint8_t *skip, long n, int k, int32_t *positions, float *values) {
    if (k <= 0) return 0;
    int size = 0;
    for (long i = 0; i < n; i++) {
        if (skip && skip[i]) continue;
        float s = scores[i];
        if (s != s) continue;  // NaN
        if (size < k) {
            values[size] = s;
            positions[size] = (int32_t)i;
            size++;
            if (size == k) {
                for (int j = k / 2 - 1; j >= 0; j--) sift_down(values, positions, k, j);
            }
        } else if (s > values[0]) {
            values[0] = s;
            positions[0] = (int32_t)i;
            sift_down(values, positions, k, 0);
        }
    }
    if (size < k) {
        for (int j = size / 2 - 1; j >= 0; j--) sift_down(values, positions, size, j);
    }
    // Pop the heap from the back: smallest last, so the array ends largest first.
    for (int end = size - 1; end > 0; end--) {
        float tv = values[0]; values[0] = values[end]; values[end] = tv;
        int32_t tp = positions[0]; positions[0] = positions[end]; positions[end] = tp;
        sift_down(values, positions, end, 0);
    }
    return size;
}

float pxt_sum(const float *x, long n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3];
        s4 += x[i + 4]; s5 += x[i + 5]; s6 += x[i + 6]; s7 += x[i + 7];
    }
    for (; i < n; i++) s0 += x[i];
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}
