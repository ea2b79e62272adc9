#ifndef PXT_BLAS_H
#define PXT_BLAS_H

// Matrix products through OpenBLAS, behind plain functions so that Swift needs no CBLAS module
// map and the static build links libopenblas.a (its pthread build, on every core).

/// C = alpha * A * B' + beta * C, row-major: A is m x k, B is n x k (so B' is k x n), C is m x n.
/// This is the shape of a linear layer with PyTorch's weight layout (out_features x in_features).
void pxt_sgemm_nt(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/// C = alpha * A * B + beta * C, row-major: A is m x k, B is k x n.
void pxt_sgemm_nn(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/// The number of threads OpenBLAS uses.
int pxt_blas_threads(void);

/// Sets the number of threads OpenBLAS uses.
void pxt_blas_set_threads(int n);

// The encoder's element-wise kernels. They are C, compiled with optimization even in debug
// builds, so that the tests (which run debug builds) embed text in milliseconds, and so that
// the compiler vectorizes them without bounds checks. Callers split rows across cores.

/// Layer normalization of `rows` rows of `width` floats in place.
void pxt_layer_norm(float *x, long rows, int width, const float *gamma, const float *beta, float eps);

/// GELU with the error function, in place, over `count` floats.
void pxt_gelu(float *x, long count);

/// out[i] += x[i] for `count` floats.
void pxt_add(float *out, const float *x, long count);

/// Copies `bias` (`width` floats) into each of `rows` rows of `out`.
void pxt_broadcast_rows(float *out, const float *bias, long rows, int width);

/// Scaled dot-product attention for one sentence and one head. `qkv` holds, per token, the
/// query, key and value projections side by side (3 * hidden floats); tokens `offset` to
/// `offset + length` are the sentence. Writes the head's `hidden / heads` floats of each of the
/// sentence's rows of `ctx` (hidden floats per row). `scratch` has room for
/// `pxt_attention_scratch(length, hidden, heads)` floats.
void pxt_attention(const float *qkv, float *ctx, long offset, int length, int hidden, int heads, int head, float *scratch);

/// The floats of scratch space ``pxt_attention`` needs for a sentence of `length` tokens.
long pxt_attention_scratch(int length, int hidden, int heads);

// Exact vector search (an embedding index's search when no HNSW graph is used).

#include <stdint.h>

/// out[j] = dot(m[slots[j]], q) for `n` chosen rows.
void pxt_dot_rows(const float *m, int dim, const int32_t *slots, long n, const float *q, float *out);

/// out[r] = dot(m[r], q) for rows lo..<hi (callers split a table's rows across cores).
void pxt_dot_range(const float *m, long lo, long hi, int dim, const float *q, float *out);

/// Whether this CPU runs AVX2 and FMA (and the OS saves their registers). The kernels above pick
/// their AVX2 versions by it; hnswlib's shim is built for AVX2 and used only when it is true.
int pxt_cpu_has_avx2_fma(void);

/// The `k` largest of `n` scores, largest first: their positions and values; entries whose
/// `skip` byte is non-zero (deleted rows) are passed over (`skip` may be NULL). Returns how many.
int pxt_top_k(const float *scores, const uint8_t *skip, long n, int k, int32_t *positions, float *values);

/// The sum of `n` floats in one pass: the memory-bandwidth baseline of an exact search.
float pxt_sum(const float *x, long n);

#endif
