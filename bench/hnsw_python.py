"""The Python side of bench/embeddings.sh's HNSW comparison: the exact neighbours of the queries
(NumPy, the ground truth both runs are scored against) and the `hnswlib` package on the same
vectors with the same parameters.

    python3 bench/hnsw_python.py VECTORS.f32 QUERIES.f32 DIMS TRUTH_OUT.i64 [M EF_CONSTRUCTION EF K]
"""
import json, sys, time

import numpy as np

vec_file, q_file, dims, truth_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
m, ef_c, ef, k = (int(x) for x in (sys.argv[5:9] if len(sys.argv) >= 9 else (16, 100, 64, 10)))
data = np.fromfile(vec_file, dtype=np.float32).reshape(-1, dims)
queries = np.fromfile(q_file, dtype=np.float32).reshape(-1, dims)

# Exact top-k by inner product (the vectors are unit length, so this is cosine), in chunks.
truth = np.zeros((len(queries), k), dtype=np.int64)
for s in range(0, len(queries), 100):
    scores = queries[s : s + 100] @ data.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
    truth[s : s + 100] = np.take_along_axis(top, order, axis=1)
truth.tofile(truth_out)

result = {"rows": len(data), "dims": dims, "k": k, "m": m, "ef_construction": ef_c, "ef": ef}
try:
    import hnswlib
except ImportError:
    result["hnswlib"] = None
    print(json.dumps(result))
    sys.exit(0)
try:
    from importlib.metadata import version as package_version
    version = package_version("hnswlib")
except Exception:
    version = getattr(hnswlib, "__version__", "?")
index = hnswlib.Index(space="ip", dim=dims)
index.init_index(max_elements=len(data), M=m, ef_construction=ef_c, random_seed=100)
index.set_num_threads(2)
t = time.perf_counter()
index.add_items(data, np.arange(len(data)))
build = time.perf_counter() - t
index.set_ef(ef)
index.set_num_threads(1)
times, hits = [], 0
for i, q in enumerate(queries):
    t = time.perf_counter()
    labels, _ = index.knn_query(q, k=k)
    times.append((time.perf_counter() - t) * 1000)
    hits += len(set(labels[0].tolist()) & set(truth[i].tolist()))
times.sort()
result["hnswlib"] = {
    "version": version, "build_seconds": build,
    "search_ms": {"p50": times[len(times) // 2], "p90": times[int(len(times) * 0.9)], "p99": times[int(len(times) * 0.99)]},
    "recall_at_k": hits / (len(queries) * k),
}
print(json.dumps(result))
