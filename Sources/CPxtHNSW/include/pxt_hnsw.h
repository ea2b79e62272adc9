// A fixed C surface over hnswlib's HierarchicalNSW (Debian's libhnswlib-dev, header-only C++):
// Swift calls plain functions, and no C++ exception crosses into Swift (each is caught and
// turned into an error message).
#ifndef PXT_HNSW_H
#define PXT_HNSW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pxt_hnsw pxt_hnsw;

/// Distance spaces: squared Euclidean, or one minus the inner product (cosine on unit vectors).
enum { PXT_HNSW_L2 = 0, PXT_HNSW_IP = 1 };

/// A new empty graph for vectors of `dim` floats, room for `capacity` of them (it grows).
pxt_hnsw *pxt_hnsw_new(int dim, int space, size_t capacity, int m, int ef_construction, unsigned seed, char *err, size_t errlen);

/// A graph saved by pxt_hnsw_save; NULL with a message if the file is missing, truncated or
/// was saved for another dimension.
pxt_hnsw *pxt_hnsw_load(const char *path, int dim, int space, char *err, size_t errlen);

/// Writes the graph to `path` (the caller renames it into place). 0 on success.
int pxt_hnsw_save(pxt_hnsw *h, const char *path, char *err, size_t errlen);

/// Adds `n` vectors (row-major) with their labels, on `threads` threads. 0 on success.
int pxt_hnsw_add(pxt_hnsw *h, const float *vectors, const uint64_t *labels, size_t n, int threads, char *err, size_t errlen);

/// Excludes a label from results. 0 on success, -1 if the label is unknown or already excluded.
int pxt_hnsw_mark_deleted(pxt_hnsw *h, uint64_t label);

/// Sets the search breadth (at least k is used).
void pxt_hnsw_set_ef(pxt_hnsw *h, size_t ef);

/// The `k` nearest labels to `query`, nearest first, with their distances; returns how many.
/// Concurrent searches are safe; searches concurrent with adds are not (the caller locks).
size_t pxt_hnsw_search(const pxt_hnsw *h, const float *query, size_t k, uint64_t *labels, float *distances);

/// Writes up to `capacity` labels of the vectors not excluded; returns how many there are.
size_t pxt_hnsw_labels(const pxt_hnsw *h, uint64_t *out, size_t capacity);

/// Vectors added and not excluded.
size_t pxt_hnsw_live_count(const pxt_hnsw *h);

/// Vectors added, excluded ones included.
size_t pxt_hnsw_total_count(const pxt_hnsw *h);

void pxt_hnsw_free(pxt_hnsw *h);

#ifdef __cplusplus
}
#endif

#endif
