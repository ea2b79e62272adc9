import CPxtHNSW

/// An HNSW graph (hnswlib, through the `CPxtHNSW` shim) over vectors labelled by row id.
///
/// Not synchronized: ``VectorIndex`` searches under its read lock and changes the graph under
/// its write lock (hnswlib's searches may run together, not alongside inserts).
final class HNSWGraph: @unchecked Sendable {
    private let handle: OpaquePointer
    /// The vector length.
    let dimensions: Int

    /// Graph parameters: `m` links per node (16, hnswlib's default), `efConstruction` candidates
    /// while inserting, `efSearch` while searching.
    struct Parameters: Sendable, Hashable {
        var m = 16
        var efConstruction = 100
        var efSearch = 200
    }

    private init(handle: OpaquePointer, dimensions: Int) {
        self.handle = handle
        self.dimensions = dimensions
    }

    deinit { pxt_hnsw_free(handle) }

    /// The shim's NUL-terminated message.
    private static func message(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// hnswlib's space for a metric: inner product for `ip` and for `cosine` (whose vectors the
    /// index stores at unit length), squared Euclidean distance for `l2`.
    private static func space(_ metric: VectorMetric) -> Int32 {
        metric == .l2 ? Int32(PXT_HNSW_L2) : Int32(PXT_HNSW_IP)
    }

    /// A new empty graph.
    static func make(dimensions: Int, metric: VectorMetric, capacity: Int, parameters: Parameters) throws(VectorIndexError) -> HNSWGraph {
        var err = [CChar](repeating: 0, count: 256)
        guard
            let h = pxt_hnsw_new(
                Int32(dimensions), space(metric), max(16, capacity), Int32(parameters.m), Int32(parameters.efConstruction), 100, &err, err.count)
        else { throw VectorIndexError("cannot create an HNSW graph: \(Self.message(err))") }
        pxt_hnsw_set_ef(h, parameters.efSearch)
        return HNSWGraph(handle: h, dimensions: dimensions)
    }

    /// The graph saved at `path`.
    static func load(_ path: String, dimensions: Int, metric: VectorMetric, efSearch: Int) throws(VectorIndexError) -> HNSWGraph {
        var err = [CChar](repeating: 0, count: 256)
        guard let h = pxt_hnsw_load(path, Int32(dimensions), space(metric), &err, err.count) else {
            throw VectorIndexError("\(path): \(Self.message(err))")
        }
        pxt_hnsw_set_ef(h, efSearch)
        return HNSWGraph(handle: h, dimensions: dimensions)
    }

    /// Writes the graph to `path`.
    func save(_ path: String) throws(VectorIndexError) {
        var err = [CChar](repeating: 0, count: 256)
        guard pxt_hnsw_save(handle, path, &err, err.count) == 0 else { throw VectorIndexError("\(path): \(Self.message(err))") }
    }

    /// Adds `labels.count` vectors, row-major in `vectors`, on every core.
    func add(_ vectors: UnsafePointer<Float>, labels: [Int64]) throws(VectorIndexError) {
        guard !labels.isEmpty else { return }
        var err = [CChar](repeating: 0, count: 256)
        let ids = labels.map { UInt64(bitPattern: $0) }
        let rc = ids.withUnsafeBufferPointer { l in
            pxt_hnsw_add(handle, vectors, l.baseAddress, labels.count, Int32(TensorOps.cores), &err, err.count)
        }
        guard rc == 0 else { throw VectorIndexError("cannot add to the HNSW graph: \(Self.message(err))") }
    }

    /// Excludes a row from results (a no-op for rows the graph does not hold).
    func remove(_ label: Int64) {
        _ = pxt_hnsw_mark_deleted(handle, UInt64(bitPattern: label))
    }

    /// The `k` nearest rows to `query` (nearest first).
    func search(_ query: [Float], k: Int) -> [Int64] {
        guard k > 0 else { return [] }
        var labels = [UInt64](repeating: 0, count: k)
        var distances = [Float](repeating: 0, count: k)
        let n = query.withUnsafeBufferPointer { q in pxt_hnsw_search(handle, q.baseAddress, k, &labels, &distances) }
        return labels.prefix(n).map { Int64(bitPattern: $0) }
    }

    /// The rows held and not removed.
    var labels: [Int64] {
        let n = liveCount
        var out = [UInt64](repeating: 0, count: n)
        let got = pxt_hnsw_labels(handle, &out, n)
        return out.prefix(min(n, got)).map { Int64(bitPattern: $0) }
    }

    /// Rows held and not removed.
    var liveCount: Int { pxt_hnsw_live_count(handle) }
}
