import CPxtBLAS
import Foundation
import GRDB
import GRDBSQLite

/// Which state of a table an index holds: the table's version and the time that version was
/// written. A revert followed by a new write reuses a version number but not its time, so equal
/// stamps mean equal rows.
struct TableStamp: Hashable, Sendable, Codable {
    var version: Int
    var createdAt: Int64

    /// The stamp of the table's current version as `db` sees it.
    static func current(_ db: Database, tableID: String) throws -> TableStamp? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT t.version, coalesce(v.created_at, 0) FROM pxt_tables t LEFT JOIN pxt_versions v ON v.table_id = t.id AND v.version = t.version WHERE t.id = ?"),
                arguments: [tableID])
        else { return nil }
        return TableStamp(version: row[0], createdAt: row[1])
    }

    /// Whether the table's history, as `db` sees it, passes through this stamp: then the rows
    /// live now are the rows live at the stamp, plus rows inserted since, minus rows retired since.
    func isInHistory(_ db: Database, tableID: String, current: TableStamp) throws -> Bool {
        guard version <= current.version else { return false }
        let t = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT created_at FROM pxt_versions WHERE table_id = ? AND version = ?"), arguments: [tableID, version])
        return t == createdAt || (t == nil && createdAt == 0)
    }
}

/// The vectors of one embedding index, in memory: contiguous Float32 rows for exact search,
/// and, for large tables, an HNSW graph. Kept in step with the table by ``sync(_:to:)``, which
/// reads only what changed since the last call (new row versions by row id, retired ones by
/// the partial index on `_v_max`).
///
/// Searches return row ids, best first; the caller reads those rows and scores them exactly.
final class VectorIndex: @unchecked Sendable {
    let storageID: String
    let vectorColumn: String
    let metric: VectorMetric
    /// Where the graph is saved, without extension (`.hnsw` and `.json` are added).
    let graphPath: String
    private let lock = ReadWriteLock()
    private let settings: @Sendable () -> VectorIndexSettings

    // Guarded by `lock`.
    private var dims = 0
    /// Row-major vectors by slot (unit length for cosine).
    private var data: [Float] = []
    /// Squared lengths by slot (l2 only).
    private var squares: [Float] = []
    private var rowids: [Int64] = []
    private var deleted: [UInt8] = []
    private var slotOf: [Int64: Int32] = [:]
    private var deletedCount = 0
    private var maxRowid: Int64 = 0
    private(set) var stamp: TableStamp?
    private var graph: HNSWGraph?
    /// Rows added and removed while a graph is being built, replayed onto it when it is attached.
    private var pending: (added: [Int64], removed: [Int64])?
    private var graphFailure: String?
    /// Counts reloads: a graph build that started before one is discarded.
    private var generation = 0

    init(storageID: String, vectorColumn: String, metric: VectorMetric, graphPath: String, settings: @escaping @Sendable () -> VectorIndexSettings) {
        self.storageID = storageID
        self.vectorColumn = vectorColumn
        self.metric = metric
        self.graphPath = graphPath
        self.settings = settings
    }

    /// What the index holds, for `pxt idxs --embedding`.
    struct Status: Sendable {
        var rows: Int
        var dimensions: Int
        var graphBuilt: Bool
        var graphBuilding: Bool
        var graphFailure: String?
    }

    var status: Status {
        lock.reading {
            Status(
                rows: rowids.count - deletedCount, dimensions: dims, graphBuilt: graph != nil, graphBuilding: pending != nil,
                graphFailure: graphFailure)
        }
    }

    var liveCount: Int { lock.reading { rowids.count - deletedCount } }

    // MARK: keeping in step

    /// Brings the index to the table state `db` sees (stamp `current`).
    func sync(_ db: Database, to current: TableStamp) throws {
        if lock.reading({ stamp == current }) { return }
        try lock.writing { () throws -> Void in
            if stamp == current { return }
            if let s = stamp, try s.isInHistory(db, tableID: storageID, current: current) {
                try applyChanges(db, since: s)
            } else {
                try reload(db)
            }
            stamp = current
        }
    }

    private var table: String { "tbl_\(storageID)" }

    /// Reads every live vector (the first use in a process, or after a revert).
    private func reload(_ db: Database) throws {
        dims = 0
        data = []
        squares = []
        rowids = []
        deleted = []
        slotOf = [:]
        deletedCount = 0
        graph = nil
        pending = nil
        generation += 1
        maxRowid = try Int64.fetchOne(db, sql: "SELECT max(_rowid) FROM \(table)") ?? 0
        try readVectors(db, "SELECT _rowid, \(vectorColumn) FROM \(table) WHERE _v_max = \(StoreDDL.live) AND \(vectorColumn) IS NOT NULL ORDER BY _rowid", [])
    }

    private func applyChanges(_ db: Database, since s: TableStamp) throws {
        // Retired since `s`: the term `_v_max != live` matches the partial index's, so SQLite
        // reads only retired row versions.
        let retired = try Int64.fetchAll(
            db, sql: "SELECT _rowid FROM \(table) WHERE _v_max != \(StoreDDL.live) AND _v_max > ? AND _rowid <= ?",
            arguments: [s.version, maxRowid])
        for r in retired { remove(r) }
        let firstNew = rowids.count
        let newMax = try Int64.fetchOne(db, sql: "SELECT max(_rowid) FROM \(table)") ?? maxRowid
        if newMax > maxRowid {
            try readVectors(
                db, "SELECT _rowid, \(vectorColumn) FROM \(table) WHERE _rowid > ? AND _v_max = \(StoreDDL.live) AND \(vectorColumn) IS NOT NULL ORDER BY _rowid",
                [maxRowid.databaseValue])
            maxRowid = newMax
        }
        let added = Array(rowids[firstNew...])
        if let g = graph, !added.isEmpty {
            do throws(VectorIndexError) {
                try data.withUnsafeBufferPointer { d throws(VectorIndexError) in try g.add(d.baseAddress! + firstNew * dims, labels: added) }
            } catch {
                graphFailure = error.message
                graph = nil
            }
        }
        if pending != nil {
            pending!.added += added
            pending!.removed += retired
        }
        compactIfSparse()
    }

    /// Appends the vectors a statement returns as (rowid, encoded array).
    private func readVectors(_ db: Database, _ sql: String, _ args: [DatabaseValue]) throws {
        let stmt = try db.makeStatement(sql: sql)
        try stmt.setArguments(StatementArguments(args))
        let s = stmt.sqliteStatement
        defer { sqlite3_reset(s) }
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection))) }
            let rowid = sqlite3_column_int64(s, 0)
            let n = Int(sqlite3_column_bytes(s, 1))
            guard let blob = sqlite3_column_blob(s, 1) else { continue }
            append(rowid, UnsafeRawBufferPointer(start: blob, count: n))
        }
    }

    /// Adds one stored array (``NDArray/encoded``: type 1 = float32, one dimension).
    private func append(_ rowid: Int64, _ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 10, bytes[0] == 1, bytes[1] == 1 else { return }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[2 + i]) << (8 * UInt64(i)) }
        let n = Int(truncatingIfNeeded: length)
        guard n > 0, n <= 65_536, bytes.count >= 10 + 4 * n else { return }
        if dims == 0 { dims = n }
        guard n == dims else { return }
        let start = data.count
        for i in 0..<n { data.append(Float(bitPattern: bytes.loadUnaligned(fromByteOffset: 10 + 4 * i, as: UInt32.self).littleEndian)) }
        var sq: Float = 0
        for i in start..<(start + n) { sq += data[i] * data[i] }
        switch metric {
        case .cosine:
            if sq > 0 {
                let inv = 1 / sq.squareRoot()
                for i in start..<(start + n) { data[i] *= inv }
            }
        case .l2: squares.append(sq)
        case .ip: break
        }
        slotOf[rowid] = Int32(rowids.count)
        rowids.append(rowid)
        deleted.append(0)
    }

    private func remove(_ rowid: Int64) {
        guard let slot = slotOf.removeValue(forKey: rowid) else { return }
        deleted[Int(slot)] = 1
        deletedCount += 1
        graph?.remove(rowid)
    }

    /// Rewrites the arrays without deleted rows once they are most of them (not while a graph is
    /// being built: the build reads rows by slot).
    private func compactIfSparse() {
        guard pending == nil, deletedCount > 1024, deletedCount * 2 > rowids.count else { return }
        var nd: [Float] = []
        var ns: [Float] = []
        var nr: [Int64] = []
        nd.reserveCapacity((rowids.count - deletedCount) * dims)
        slotOf = [:]
        for slot in rowids.indices where deleted[slot] == 0 {
            slotOf[rowids[slot]] = Int32(nr.count)
            nr.append(rowids[slot])
            nd.append(contentsOf: data[(slot * dims)..<((slot + 1) * dims)])
            if metric == .l2 { ns.append(squares[slot]) }
        }
        data = nd
        squares = ns
        rowids = nr
        deleted = [UInt8](repeating: 0, count: nr.count)
        deletedCount = 0
    }

    // MARK: searching

    /// The query vector as the index compares it (unit length for cosine), or `nil` if its
    /// length is not the index's.
    private func prepared(_ q: [Float]) -> [Float]? {
        guard dims > 0, q.count == dims else { return nil }
        return metric == .cosine ? TensorOps.normalized(q) : q
    }

    /// The `k` rows closest to `query`, best first: from the graph when it is built and
    /// `exact` is false, else by comparing every vector (or only those of `among`, the rows a
    /// filter kept). `nil` when the query's length is not the index's.
    func search(_ query: [Float], k: Int, among: [Int64]? = nil, exact: Bool = false) -> [Int64]? {
        lock.reading {
            guard let q = prepared(query) else { return rowids.isEmpty ? [] : nil }
            // A limit beyond the rows there are (a request may ask for 2^63) finds them all;
            // the result buffers are sized by it, so it is capped first.
            let k = min(k, among?.count ?? rowids.count)
            if among == nil, !exact, let g = graph {
                return g.search(q, k: k)
            }
            return exactSearch(q, k: k, among: among)
        }
    }

    private func exactSearch(_ q: [Float], k: Int, among: [Int64]?) -> [Int64] {
        let kk = max(0, k)
        var positions = [Int32](repeating: 0, count: kk)
        var values = [Float](repeating: 0, count: kk)
        if let among {
            let slots = among.compactMap { slotOf[$0] }
            var scores = [Float](repeating: 0, count: slots.count)
            data.withUnsafeBufferPointer { d in
                slots.withUnsafeBufferPointer { s in pxt_dot_rows(d.baseAddress, Int32(dims), s.baseAddress, slots.count, q, &scores) }
            }
            if metric == .l2 { for j in slots.indices { scores[j] = 2 * scores[j] - squares[Int(slots[j])] } }
            let n = Int(pxt_top_k(scores, nil, scores.count, Int32(kk), &positions, &values))
            return positions.prefix(n).map { rowids[Int(slots[Int($0)])] }
        }
        let count = rowids.count
        guard count > 0 else { return [] }
        var scores = [Float](repeating: 0, count: count)
        // One pass over the vectors, split across the cores: the search is bound by memory
        // bandwidth, which one core does not saturate.
        let width = dims
        data.withUnsafeBufferPointer { d in
            scores.withUnsafeMutableBufferPointer { s in
                q.withUnsafeBufferPointer { qp in
                    let m = SharedFloats(UnsafeMutablePointer(mutating: d.baseAddress!)), out = SharedFloats(s.baseAddress!)
                    let query = SharedFloats(UnsafeMutablePointer(mutating: qp.baseAddress!))
                    TensorOps.parallelRows(count, minimumPerChunk: 16384) { r in
                        pxt_dot_range(m.base, r.lowerBound, r.upperBound, Int32(width), query.base, out.base)
                    }
                }
            }
        }
        // Nearest in l2 is largest 2 q.x - |x|^2 (|q|^2 is the same for every row).
        if metric == .l2 { for i in 0..<count { scores[i] = 2 * scores[i] - squares[i] } }
        let n = deleted.withUnsafeBufferPointer { del in
            Int(pxt_top_k(scores, deletedCount > 0 ? del.baseAddress : nil, count, Int32(kk), &positions, &values))
        }
        return positions.prefix(n).map { rowids[Int($0)] }
    }

    // MARK: the graph

    /// A graph build claimed by ``claimGraphBuild()``: the table state it starts from.
    struct GraphBuild: Sendable {
        fileprivate var stamp: TableStamp
        fileprivate var count: Int
        fileprivate var dims: Int
        fileprivate var generation: Int
        fileprivate var parameters: HNSWGraph.Parameters
    }

    /// Claims the building of a graph if one should be built now (the table is large, none is
    /// built or being built); the caller runs ``buildGraph(_:reads:)`` in the background.
    func claimGraphBuild() -> GraphBuild? {
        let s = settings()
        #if arch(x86_64)
            // The hnswlib shim is built for AVX2 (its distance kernels); without it, exact search.
            if pxt_cpu_has_avx2_fma() == 0 { return nil }
        #endif
        if lock.reading({ graph != nil || pending != nil || graphFailure != nil || rowids.count - deletedCount < s.graphMinimumRows }) { return nil }
        return lock.writing {
            guard graph == nil, pending == nil, graphFailure == nil, let stamp, dims > 0, rowids.count - deletedCount >= s.graphMinimumRows else { return nil }
            pending = ([], [])
            return GraphBuild(stamp: stamp, count: rowids.count, dims: dims, generation: generation, parameters: s.graph)
        }
    }

    /// Loads the saved graph if it matches the table's history, else builds one and saves it,
    /// then attaches it. Searches are exact until then.
    func buildGraph(_ start: GraphBuild, reads: any DatabaseReader) {
        let parameters = start.parameters
        do throws(VectorIndexError) {
            var g = try loadSaved(reads, dims: start.dims, efSearch: parameters.efSearch, generation: start.generation)
            if g == nil { g = try build(upTo: start.count, dims: start.dims, parameters: parameters, stamp: start.stamp, generation: start.generation) }
            guard let g else { return }
            try lock.writing { () throws(VectorIndexError) -> Void in
                guard generation == start.generation else { return }
                // Replay what changed meanwhile; then the graph holds exactly the live rows.
                let changes = pending ?? ([], [])
                pending = nil
                let addedSlots = changes.added.compactMap { slotOf[$0] }
                var vectors: [Float] = []
                vectors.reserveCapacity(addedSlots.count * dims)
                for s in addedSlots { vectors.append(contentsOf: data[(Int(s) * dims)..<((Int(s) + 1) * dims)]) }
                if !vectors.isEmpty {
                    try vectors.withUnsafeBufferPointer { v throws(VectorIndexError) in try g.add(v.baseAddress!, labels: addedSlots.map { rowids[Int($0)] }) }
                }
                for r in changes.removed { g.remove(r) }
                graph = g
                compactIfSparse()
            }
        } catch {
            lock.writing {
                guard generation == start.generation else { return }
                pending = nil
                graphFailure = error.message
            }
        }
    }

    /// Builds a graph over slots `0..<count` in chunks, holding the read lock only to copy each
    /// chunk out (slots are stable while `pending` is set: compaction waits).
    private func build(upTo count: Int, dims: Int, parameters: HNSWGraph.Parameters, stamp: TableStamp, generation started: Int) throws(VectorIndexError) -> HNSWGraph {
        let g = try HNSWGraph.make(dimensions: dims, metric: metric, capacity: count, parameters: parameters)
        let chunk = 8192
        var lo = 0
        while lo < count {
            let hi = min(count, lo + chunk)
            let (vectors, labels): ([Float], [Int64]) = try lock.reading { () throws(VectorIndexError) in
                guard generation == started else { throw VectorIndexError("the table was reloaded during the build") }
                var v: [Float] = []
                var l: [Int64] = []
                v.reserveCapacity((hi - lo) * dims)
                for s in lo..<hi where deleted[s] == 0 {
                    v.append(contentsOf: data[(s * dims)..<((s + 1) * dims)])
                    l.append(rowids[s])
                }
                return (v, l)
            }
            if !labels.isEmpty { try vectors.withUnsafeBufferPointer { v throws(VectorIndexError) in try g.add(v.baseAddress!, labels: labels) } }
            lo = hi
        }
        save(g, stamp: stamp)
        return g
    }

    /// What is saved beside a graph: the table state it was built from.
    private struct Saved: Codable {
        var stamp: TableStamp
        var dimensions: Int
        var metric: String
    }

    private func save(_ g: HNSWGraph, stamp: TableStamp) {
        let fm = FileManager.default
        let dir = (graphPath as NSString).deletingLastPathComponent
        let tmp = graphPath + ".tmp-\(UUID().uuidString)"
        do {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try g.save(tmp + ".hnsw")
            let meta = try JSONEncoder().encode(Saved(stamp: stamp, dimensions: g.dimensions, metric: metric.rawValue))
            try meta.write(to: URL(fileURLWithPath: tmp + ".json"))
            // The graph first, then the stamp that vouches for it.
            _ = rename(tmp + ".hnsw", graphPath + ".hnsw")
            _ = rename(tmp + ".json", graphPath + ".json")
        } catch {
            try? fm.removeItem(atPath: tmp + ".hnsw")
            try? fm.removeItem(atPath: tmp + ".json")
        }
    }

    /// The saved graph, reconciled with the live rows, if its stamp is in the table's history
    /// (otherwise rows it holds may have been reverted and their ids reused).
    private func loadSaved(_ reads: any DatabaseReader, dims: Int, efSearch: Int, generation started: Int) throws(VectorIndexError) -> HNSWGraph? {
        guard let meta = FileManager.default.contents(atPath: graphPath + ".json"),
            let saved = try? JSONDecoder().decode(Saved.self, from: meta), saved.dimensions == dims, saved.metric == metric.rawValue
        else { return nil }
        let valid = (try? reads.read { db -> Bool in
            guard let current = try TableStamp.current(db, tableID: storageID) else { return false }
            return try saved.stamp.isInHistory(db, tableID: storageID, current: current)
        }) ?? false
        guard valid, let g = try? HNSWGraph.load(graphPath + ".hnsw", dimensions: dims, metric: metric, efSearch: efSearch) else {
            try? FileManager.default.removeItem(atPath: graphPath + ".hnsw")
            try? FileManager.default.removeItem(atPath: graphPath + ".json")
            return nil
        }
        // The graph's rows against the live ones: drop what is gone, add what is new.
        let held = Set(g.labels)
        let (vectors, labels, gone): ([Float], [Int64], [Int64]) = try lock.reading { () throws(VectorIndexError) in
            guard generation == started else { throw VectorIndexError("the table was reloaded while the graph loaded") }
            var v: [Float] = []
            var l: [Int64] = []
            for (s, r) in rowids.enumerated() where deleted[s] == 0 && !held.contains(r) {
                v.append(contentsOf: data[(s * dims)..<((s + 1) * dims)])
                l.append(r)
            }
            return (v, l, held.filter { slotOf[$0] == nil })
        }
        for r in gone { g.remove(r) }
        if !labels.isEmpty { try vectors.withUnsafeBufferPointer { v throws(VectorIndexError) in try g.add(v.baseAddress!, labels: labels) } }
        return g
    }

    /// Forgets the saved graph (the index was dropped).
    func removeSaved() {
        try? FileManager.default.removeItem(atPath: graphPath + ".hnsw")
        try? FileManager.default.removeItem(atPath: graphPath + ".json")
    }
}
