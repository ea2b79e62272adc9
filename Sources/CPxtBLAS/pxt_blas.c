#include "pxt_blas.h"

#include <cblas.h>

void pxt_sgemm_nt(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void pxt_sgemm_nn(int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int pxt_blas_threads(void) { return openblas_get_num_threads(); }

void pxt_blas_set_threads(int n) { openblas_set_num_threads(n); }
