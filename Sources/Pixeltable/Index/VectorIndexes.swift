import Foundation
import GRDB
import Synchronization

/// The catalog's embedding indexes in memory, one ``VectorIndex`` per index, loaded on first
/// search and kept in step with their tables; HNSW graphs are built in the background and
/// saved under the home's `indexes/`.
public final class VectorIndexes: Sendable {
    /// Where graphs are saved: `indexes/<table id>/<vector column>.hnsw`.
    public let directory: String
    private let reads: DatabasePool
    private let current: Mutex<VectorIndexSettings>
    private let loaded = Mutex<[Key: VectorIndex]>([:])
    private let builds = Mutex<[Task<Void, Never>]>([])
    /// Searches answered, for tests that check a query went through its index.
    let searchCount = Atomic<Int>(0)

    private struct Key: Hashable {
        var storageID: String
        var vectorColumn: String
        var metric: VectorMetric
    }

    init(directory: String, reads: DatabasePool, settings: VectorIndexSettings = VectorIndexSettings()) {
        self.directory = directory
        self.reads = reads
        current = Mutex(settings)
    }

    /// When graphs are built, and their parameters. Changes apply to graphs built afterwards.
    public var settings: VectorIndexSettings {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    private func index(_ key: Key) -> VectorIndex {
        loaded.withLock { table in
            if let i = table[key] { return i }
            let path = directory + "/" + key.storageID + "/" + key.vectorColumn + (key.metric == .cosine ? "" : "-" + key.metric.rawValue)
            let i = VectorIndex(storageID: key.storageID, vectorColumn: key.vectorColumn, metric: key.metric, graphPath: path) { [weak self] in
                self?.settings ?? VectorIndexSettings()
            }
            table[key] = i
            return i
        }
    }

    private func key(_ snap: TableSnapshot, _ index: ExpressionScope.EmbeddingIndex) -> Key? {
        guard let c = snap.byID[index.vectorColumnID] else { return nil }
        return Key(storageID: snap.storageID, vectorColumn: c.record.sqlName, metric: index.metric)
    }

    /// The `k` rows of `snap`'s table closest to `query` through `index`, best first, as of
    /// `db`'s transaction; only rows in `among` when it is given (exact then). `nil` when the
    /// index cannot answer (a vector length that is not the index's).
    func search(
        _ db: Database, _ snap: TableSnapshot, index: ExpressionScope.EmbeddingIndex, query: [Float], k: Int, among: [Int64]? = nil
    ) throws -> [Int64]? {
        guard let key = key(snap, index), let stamp = try TableStamp.current(db, tableID: snap.storageID) else { return nil }
        let vi = self.index(key)
        try vi.sync(db, to: stamp)
        let result = vi.search(query, k: k, among: among)
        searchCount.add(1, ordering: .relaxed)
        startBuildIfWanted(vi)
        return result
    }

    private func startBuildIfWanted(_ vi: VectorIndex) {
        guard let claim = vi.claimGraphBuild() else { return }
        let reads = self.reads
        let task = Task.detached(priority: .utility) { vi.buildGraph(claim, reads: reads) }
        builds.withLock { $0.append(task) }
    }

    /// Waits for the graphs being built (tests and benchmarks).
    public func waitForGraphs() async {
        while true {
            let running = builds.withLock { tasks in
                let all = tasks
                tasks = []
                return all
            }
            if running.isEmpty { return }
            for t in running { await t.value }
        }
    }

    /// What an index holds: its vectors, their length, and whether its graph is built. Loads
    /// the index if this process has not used it yet.
    func status(_ db: Database, _ snap: TableSnapshot, index: ExpressionScope.EmbeddingIndex) throws -> VectorIndex.Status? {
        guard let key = key(snap, index), let stamp = try TableStamp.current(db, tableID: snap.storageID) else { return nil }
        let vi = self.index(key)
        try vi.sync(db, to: stamp)
        startBuildIfWanted(vi)
        return vi.status
    }

    /// Forgets every index of a dropped table, and its saved graphs.
    func forget(storageID: String) {
        let gone = loaded.withLock { table in
            let keys = table.keys.filter { $0.storageID == storageID }
            return keys.compactMap { table.removeValue(forKey: $0) }
        }
        for vi in gone { vi.removeSaved() }
        try? FileManager.default.removeItem(atPath: directory + "/" + storageID)
    }

    /// Forgets a dropped index and its saved graph.
    func forget(storageID: String, vectorColumn: String) {
        let gone = loaded.withLock { table in
            let keys = table.keys.filter { $0.storageID == storageID && $0.vectorColumn == vectorColumn }
            return keys.compactMap { table.removeValue(forKey: $0) }
        }
        for vi in gone { vi.removeSaved() }
        for m in VectorMetric.allCases {
            let path = directory + "/" + storageID + "/" + vectorColumn + (m == .cosine ? "" : "-" + m.rawValue)
            try? FileManager.default.removeItem(atPath: path + ".hnsw")
            try? FileManager.default.removeItem(atPath: path + ".json")
        }
    }
}
