// The embedding benchmarks (bench/embeddings.sh): model throughput against the machine's sgemm
// peak, exact search against a memory-bandwidth pass, and HNSW search at a million rows.
import CPxtBLAS
import Dispatch
import Foundation
import Pixeltable
import PixeltableTestSupport

/// Sentences per second of all-MiniLM-L6-v2 over a JSON list of sentences, and the FLOP rate
/// that is (the encoder's multiply-adds counted per token and layer).
func embedThroughput() {
    let dir = option("model", "")
    let file = option("sentences", "sentences.json")
    do {
        guard let data = FileManager.default.contents(atPath: file), case .array(let items) = try JSONParser.parse(bytes: [UInt8](data)) else {
            throw PixeltableError(.invalidArgument, "\(file): not a JSON list")
        }
        let texts = items.compactMap(\.stringValue)
        let model = try SentenceEmbedder.shared(dir)
        _ = model.embed(Array(texts.prefix(64)))  // first touch of the weights
        let tokens = texts.map { model.tokenize($0).count }
        let start = Date()
        let vectors = model.embed(texts)
        let seconds = Date().timeIntervalSince(start)
        // Per layer and token: QKV 6h^2, attention output 2h^2, feed-forward 16h^2 (4h wide),
        // and 4nh for the scores and the weighted values.
        let h = Double(model.dimensions), layers = 6.0
        var flops = 0.0
        for n in tokens { flops += layers * (24 * h * h * Double(n) + 4 * Double(n) * Double(n) * h) }
        emit([
            "sentences": .int(Int64(texts.count)), "tokens": .int(Int64(tokens.reduce(0, +))), "seconds": .double(seconds),
            "sentences_per_second": .double(Double(texts.count) / seconds), "gflops": .double(flops / seconds / 1e9),
            "dimensions": .int(Int64(vectors.first?.count ?? 0)),
        ])
    } catch {
        FileHandle.standardError.write(Data("pxt-bench: \(error)\n".utf8))
        exit(1)
    }
}

/// The machine's single-precision peak as OpenBLAS reaches it: the best of a few large sgemms.
func sgemmPeak() {
    let n = Int(option("n", "2048"))!
    let runs = Int(option("runs", "7"))!
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    var best = Double.infinity
    for _ in 0..<runs {
        let t = Date()
        pxt_sgemm_nn(Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
        best = min(best, Date().timeIntervalSince(t))
    }
    emit(["n": .int(Int64(n)), "seconds": .double(best), "gflops": .double(2 * Double(n) * Double(n) * Double(n) / best / 1e9), "threads": .int(Int64(pxt_blas_threads()))])
}

/// A synthetic embedding: one of 1,000 cluster centres plus noise, at unit length, from the id
/// alone (so the benchmark's table, its queries and the Python run all see the same vectors).
func benchVector(_ id: Int64, dims: Int) -> [Float] {
    var centre = SplitMix(UInt64(bitPattern: id % 1000) &* 7919 &+ 1)
    var noise = SplitMix(UInt64(bitPattern: id) &+ 1_000_003)
    var v = [Float](repeating: 0, count: dims)
    var norm: Float = 0
    for i in 0..<dims {
        v[i] = centre.uniform() + 0.6 * noise.uniform()
        norm += v[i] * v[i]
    }
    let inv = 1 / norm.squareRoot()
    for i in 0..<dims { v[i] *= inv }
    return v
}

/// The query ids: outside the table's ids, from the same clusters.
func queryID(_ i: Int) -> Int64 { 1_000_000_000 + Int64(i) }

/// Writes the table's vectors (ids 0..<n) and the queries' as raw little-endian float32 files,
/// for the Python hnswlib run and the exact ground truth.
func makeVectors() {
    let n = Int(option("n", "1000000"))!, dims = Int(option("dims", "384"))!, queries = Int(option("queries", "1000"))!
    func write(_ path: String, _ ids: [Int64]) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let h = FileHandle(forWritingAtPath: path)!
        var buffer: [Float] = []
        for (k, id) in ids.enumerated() {
            buffer += benchVector(id, dims: dims)
            if buffer.count >= 1 << 20 || k == ids.count - 1 {
                buffer.withUnsafeBytes { h.write(Data($0)) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        h.closeFile()
    }
    write(option("vectors-out", "vectors.f32"), (0..<n).map(Int64.init))
    write(option("queries-out", "queries.f32"), (0..<queries).map(queryID))
}

/// A catalog whose functions include `bench.vector(id)`.
func vectorCatalog(_ home: HomeDirectory, dims: Int) throws -> Catalog {
    let functions = FunctionRegistry()
    try functions.register(
        ExpressionFunction("bench.vector", [.init("id", .int)], returns: .array([dims], .float32, nullable: false)) { a in
            guard case .int(let id) = a[0] else { throw FunctionError("TypeError", "bench.vector() takes an int") }
            return .array(NDArray(benchVector(id, dims: dims)))
        })
    return try Catalog.open(home: home, functions: functions)
}

/// A table of `n` rows with an embedding index over `bench.vector(id)`, and the compiled
/// search `order by id.similarity(:q) desc limit :k`.
func vectorTable(_ catalog: Catalog, n: Int) async throws -> (Table, CompiledQuery, Double) {
    let t = try await catalog.createTable("vectors", columns: [.init("id", .int)], primaryKey: ["id"])
    try await t.createEmbeddingIndex(on: "id", name: "vec", embedding: "bench.vector()")
    let start = Date()
    var lo = 0
    while lo < n {
        let hi = min(n, lo + 5000)
        _ = try await t.insert((lo..<hi).map { ["id": .int(Int64($0))] })
        lo = hi
    }
    let load = Date().timeIntervalSince(start)
    let module = try ModuleFile.parse(
        """
        [[query]]
        name = "nearest"
        table = "vectors"
        params = { q = "Int", k = "Int" }
        select = ["id"]
        order_by = ["id.similarity(:q) desc"]
        limit = ":k"
        """, file: "bench.toml")
    return (t, try await module.query(named: "nearest")!.compile(catalog), load)
}

func nearest(_ q: CompiledQuery, _ id: Int64, k: Int) throws -> [Int64] {
    try q.runNow(["q": .int(id), "k": .int(Int64(k))]).rows.compactMap { if case .int(let i)? = $0["id"] { return i } else { return nil } }
}

/// One pass over `bytes` floats summing them, on every core: what reading the index's vectors
/// once costs.
func bandwidthPass(_ buffer: UnsafeBufferPointer<Float>, threads: Int) -> Double {
    let count = buffer.count
    let per = (count + threads - 1) / threads
    let base = UInt(bitPattern: buffer.baseAddress!)
    let t = Date()
    DispatchQueue.concurrentPerform(iterations: threads) { k in
        let lo = k * per, hi = min(count, lo + per)
        let p = UnsafePointer<Float>(bitPattern: base)!
        if lo < hi { blackHole(pxt_sum(p + lo, hi - lo)) }
    }
    return Date().timeIntervalSince(t)
}

@inline(never) func blackHole(_ x: Float) { if x == .infinity { print("") } }

/// Exact top-10 cosine over n vectors through a named query, next to one bandwidth pass over
/// the same number of bytes.
func vectorExact() {
    let n = Int(option("n", "100000"))!, dims = Int(option("dims", "384"))!, runs = Int(option("queries", "200"))!
    let base = option("home", NSTemporaryDirectory() + "pxt-bench")
    runBlocking {
        let catalog = try vectorCatalog(freshHome(base, "exact"), dims: dims)
        catalog.vectorIndexes.settings.graphMinimumRows = Int.max
        let (_, q, load) = try await vectorTable(catalog, n: n)
        let t0 = Date()
        _ = try nearest(q, queryID(0), k: 10)
        let firstQuery = Date().timeIntervalSince(t0)
        var times: [Double] = []
        for i in 0..<runs {
            let t = Date()
            let ids = try nearest(q, queryID(i), k: 10)
            times.append(Date().timeIntervalSince(t) * 1000)
            if ids.count != 10 { throw PixeltableError(.internalError, "search returned \(ids.count) rows") }
        }
        // The baseline: the same bytes, contiguous, summed in one pass on all cores (and on one).
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: n * dims)
        defer { buffer.deallocate() }
        for i in 0..<buffer.count { buffer[i] = Float(i % 7) }
        var all: [Double] = [], one: [Double] = []
        for _ in 0..<runs {
            all.append(bandwidthPass(UnsafeBufferPointer(buffer), threads: TensorOpsCores.count) * 1000)
            one.append(bandwidthPass(UnsafeBufferPointer(buffer), threads: 1) * 1000)
        }
        times.sort()
        all.sort()
        one.sort()
        let bytes = Double(n * dims * 4)
        emit([
            "rows": .int(Int64(n)), "dims": .int(Int64(dims)), "load_seconds": .double(load), "first_query_ms": .double(firstQuery * 1000),
            "search_ms": ["p50": .double(percentile(times, 0.5)), "p90": .double(percentile(times, 0.9)), "p99": .double(percentile(times, 0.99))],
            "bandwidth_pass_ms": ["p50": .double(percentile(all, 0.5)), "gb_per_second": .double(bytes / (percentile(all, 0.5) / 1000) / 1e9)],
            "bandwidth_pass_one_core_ms": ["p50": .double(percentile(one, 0.5)), "gb_per_second": .double(bytes / (percentile(one, 0.5) / 1000) / 1e9)],
            "ratio": .double(percentile(times, 0.5) / percentile(all, 0.5)),
        ])
    }
}

enum TensorOpsCores {
    static let count = max(1, ProcessInfo.processInfo.activeProcessorCount)
}

/// HNSW at n rows: the graph's build time, top-10 p50 through a named query, and recall@10
/// against the exact neighbours in `--truth` (int64, k per query, from bench/hnsw_python.py).
func vectorHNSW() {
    let n = Int(option("n", "1000000"))!, dims = Int(option("dims", "384"))!, runs = Int(option("queries", "1000"))!
    let base = option("home", NSTemporaryDirectory() + "pxt-bench")
    let truthFile = option("truth", "truth.i64")
    let ef = Int(option("ef", "200"))!
    runBlocking {
        guard let truthData = FileManager.default.contents(atPath: truthFile) else { throw PixeltableError(.invalidArgument, "cannot read \(truthFile)") }
        let truth: [Int64] = truthData.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        let k = truth.count / runs
        let catalog = try vectorCatalog(freshHome(base, "hnsw"), dims: dims)
        catalog.vectorIndexes.settings.graphEfSearch = ef
        let (t, q, load) = try await vectorTable(catalog, n: n)
        // The first search reads the vectors into memory and starts the graph's build.
        let t0 = Date()
        _ = try nearest(q, queryID(0), k: k)
        let firstQuery = Date().timeIntervalSince(t0)
        let t1 = Date()
        await catalog.vectorIndexes.waitForGraphs()
        let build = Date().timeIntervalSince(t1)
        let status = try await t.embeddingIndexStatus()
        guard status.first?.graph == "built" else { throw PixeltableError(.internalError, "graph not built: \(status)") }
        var times: [Double] = []
        var hits = 0
        for i in 0..<runs {
            let t = Date()
            let ids = try nearest(q, queryID(i), k: k)
            times.append(Date().timeIntervalSince(t) * 1000)
            hits += Set(ids).intersection(truth[(i * k)..<((i + 1) * k)]).count
        }
        times.sort()
        let graphFiles = try FileManager.default.subpathsOfDirectory(atPath: catalog.vectorIndexes.directory).filter { $0.hasSuffix(".hnsw") }
        emit([
            "rows": .int(Int64(n)), "dims": .int(Int64(dims)), "k": .int(Int64(k)), "ef": .int(Int64(ef)), "m": .int(Int64(catalog.vectorIndexes.settings.graphM)),
            "ef_construction": .int(Int64(catalog.vectorIndexes.settings.graphEfConstruction)), "load_seconds": .double(load),
            "first_query_seconds": .double(firstQuery), "build_seconds": .double(build),
            "search_ms": ["p50": .double(percentile(times, 0.5)), "p90": .double(percentile(times, 0.9)), "p99": .double(percentile(times, 0.99))],
            "recall_at_k": .double(Double(hits) / Double(runs * k)), "graph_saved": .bool(!graphFiles.isEmpty),
        ])
    }
}
