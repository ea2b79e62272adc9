import Foundation
import PixeltableTestSupport
import Synchronization
import Testing
@testable import Pixeltable

/// Embedding indexes answering `order by similarity(...) limit k`: the same rows as comparing
/// every row, kept in step with writes and reverts, and HNSW graphs with high recall.
@Suite struct EmbeddingIndexTests {
    static let words = [
        "apple", "river", "engine", "violet", "thunder", "pencil", "harbor", "garden", "silver", "rocket", "candle", "meadow", "piano",
        "glacier", "lantern", "orbit", "pepper", "canyon", "marble", "falcon", "velvet", "desert", "anchor", "comet",
    ]

    /// `n` distinct texts of 3 to 7 words from a fixed generator, with a category.
    static func rows(_ n: Int, seed: UInt64 = 7) -> [[String: Value]] {
        var g = SplitMix(seed)
        return (0..<n).map { i in
            let k = 3 + Int(g.next() % 5)
            let text = (0..<k).map { _ in words[Int(g.next() % UInt64(words.count))] }.joined(separator: " ") + " \(i)"
            return ["id": .int(Int64(i)), "body": .string(text), "cat": .string(["a", "b", "c"][i % 3])]
        }
    }

    static func makeTable(_ catalog: Catalog, metric: String = "cosine", dims: Int = 64, rows n: Int = 300) async throws -> Table {
        let t = try await catalog.createTable(
            "docs", columns: [.init("id", .int), .init("body", .string), .init("cat", .string)], primaryKey: ["id"])
        try await t.createEmbeddingIndex(on: "body", name: "body_idx", embedding: "text.embed_hash(dims=\(dims))", metric: metric)
        if n > 0 { _ = try await t.insert(rows(n)) }
        return t
    }

    /// The ids of the query's top rows: through the index (with a limit), or by scoring every
    /// row (no limit, so no index) and cutting.
    static func top(_ t: Table, _ q: String, k: Int, filter: String? = nil, useIndex: Bool) async throws -> [Int64] {
        var query = t.query().select(["id", "body.similarity('\(q)') as s"]).orderBy(["body.similarity('\(q)') desc"])
        if let filter { query = query.where(filter) }
        if useIndex { query = query.limit(k) }
        let r = try await query.collect()
        return r.rows.prefix(k).compactMap { if case .int(let i)? = $0["id"] { return i } else { return nil } }
    }

    @Test(arguments: ["cosine", "ip", "l2"])
    func indexSearchFindsWhatComparingEveryRowFinds(_ metric: String) async throws {
        try await withCatalog { catalog, _ in
            let t = try await Self.makeTable(catalog, metric: metric)
            let searches = catalog.vectorIndexes.searchCount.load(ordering: .relaxed)
            for q in ["river engine", "violet thunder pencil", "comet", "desert anchor velvet glacier"] {
                #expect(try await Self.top(t, q, k: 10, useIndex: true) == Self.top(t, q, k: 10, useIndex: false), "\(metric) \(q)")
                // With a filter the answer is the top of the matching rows, not an approximation.
                let filtered = try await Self.top(t, q, k: 5, filter: "cat == 'b'", useIndex: true)
                #expect(filtered == (try await Self.top(t, q, k: 5, filter: "cat == 'b'", useIndex: false)))
                #expect(filtered.allSatisfy { $0 % 3 == 1 })
            }
            // Each limited query went through the index; the others compared every row.
            #expect(catalog.vectorIndexes.searchCount.load(ordering: .relaxed) == searches + 8)
            let st = try await t.embeddingIndexStatus()
            #expect(st.count == 1 && st[0].rows == 300 && st[0].dimensions == 64 && st[0].metric == metric && st[0].graph == "exact")
        }
    }

    /// A limit far beyond the rows (a request's `k` of 2^63 - 1) returns every row instead of
    /// sizing buffers by it (found by schemathesis: the server died allocating them).
    @Test func aHugeLimitReturnsEveryRow() async throws {
        try await withCatalog { catalog, _ in
            let t = try await Self.makeTable(catalog)
            let all = try await Self.top(t, "comet", k: Int.max, useIndex: true)
            #expect(all.count == 300)
            #expect(try await Self.top(t, "comet", k: Int.max, filter: "cat == 'b'", useIndex: true).count == 100)
        }
    }

    @Test func theIndexFollowsUpdatesDeletesAndReverts() async throws {
        try await withCatalog { catalog, _ in
            let t = try await Self.makeTable(catalog)
            let q = "zebra quartz"
            let before = try await Self.top(t, q, k: 3, useIndex: true)
            #expect(!before.contains(42))
            _ = try await t.update(["body": .string("zebra quartz")], where: "id == 42")
            #expect(try await Self.top(t, q, k: 3, useIndex: true).first == 42)
            _ = try await t.insert(["id": .int(1000), "body": .string("quartz zebra quartz"), "cat": .string("a")])
            #expect(Set(try await Self.top(t, q, k: 2, useIndex: true)) == [42, 1000])
            _ = try await t.delete(where: "id == 42")
            let afterDelete = try await Self.top(t, q, k: 3, useIndex: true)
            #expect(afterDelete.first == 1000 && !afterDelete.contains(42))
            _ = try await t.revert()  // the delete
            #expect(Set(try await Self.top(t, q, k: 2, useIndex: true)) == [42, 1000])
            _ = try await t.revert()  // the insert
            _ = try await t.revert()  // the update
            #expect(try await Self.top(t, q, k: 3, useIndex: true) == before)
            // A new write after the reverts reuses version numbers; the index still agrees.
            _ = try await t.insert(["id": .int(2000), "body": .string("zebra quartz"), "cat": .string("c")])
            #expect(try await Self.top(t, q, k: 3, useIndex: true) == Self.top(t, q, k: 3, useIndex: false))
            #expect(try await Self.top(t, q, k: 1, useIndex: true) == [2000])
            #expect(try await t.embeddingIndexStatus()[0].rows == 301)
        }
    }

    @Test func aLargeTableGetsAGraphWithHighRecallSavedAndLoadedAgain() async throws {
        let home = TempHome()
        defer { home.remove() }
        var graphFile = ""
        var recallQueries: [String] = []
        do {
            let catalog = try home.open()
            catalog.vectorIndexes.settings.graphMinimumRows = 1500
            let t = try await Self.makeTable(catalog, dims: 48, rows: 4000)
            // The first search loads the vectors, answers exactly and starts the build.
            _ = try await Self.top(t, "river", k: 10, useIndex: true)
            await catalog.vectorIndexes.waitForGraphs()
            #expect(try await t.embeddingIndexStatus()[0].graph == "built")
            var g = SplitMix(99)
            recallQueries = (0..<30).map { _ in (0..<3).map { _ in Self.words[Int(g.next() % UInt64(Self.words.count))] }.joined(separator: " ") }
            var hits = 0
            for q in recallQueries {
                let approx = try await Self.top(t, q, k: 10, useIndex: true)
                let exact = try await Self.top(t, q, k: 10, useIndex: false)
                hits += Set(approx).intersection(exact).count
            }
            let recall = Double(hits) / Double(10 * recallQueries.count)
            #expect(recall >= 0.9, "recall@10 \(recall)")
            // Writes after the build reach the graph.
            _ = try await t.insert(["id": .int(9000), "body": .string("xylophone yacht"), "cat": .string("a")])
            #expect(try await Self.top(t, "xylophone yacht", k: 1, useIndex: true) == [9000])
            _ = try await t.delete(where: "id == 9000")
            #expect(!(try await Self.top(t, "xylophone yacht", k: 5, useIndex: true)).contains(9000))
            let id = try await catalog.table("docs").snapshot().storageID
            let dir = catalog.vectorIndexes.directory + "/" + id
            graphFile = dir + "/" + (try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasSuffix(".hnsw") } ?? "")
            #expect(FileManager.default.fileExists(atPath: graphFile))
        }
        // Another process: the saved graph is loaded (not rebuilt) and reconciled with the rows.
        let saved = try FileManager.default.attributesOfItem(atPath: graphFile)[.modificationDate] as? Date
        let catalog = try home.open()
        catalog.vectorIndexes.settings.graphMinimumRows = 1500
        let t = try await catalog.table("docs")
        _ = try await t.insert(["id": .int(9001), "body": .string("xylophone walrus"), "cat": .string("b")])
        _ = try await Self.top(t, "river", k: 10, useIndex: true)
        await catalog.vectorIndexes.waitForGraphs()
        #expect(try await t.embeddingIndexStatus()[0].graph == "built")
        #expect(try FileManager.default.attributesOfItem(atPath: graphFile)[.modificationDate] as? Date == saved)
        #expect(try await Self.top(t, "xylophone walrus", k: 1, useIndex: true) == [9001])
        #expect(!(try await Self.top(t, "xylophone yacht", k: 10, useIndex: true)).contains(9000))
        // Dropping the index removes its graph.
        try await t.dropIndex("body_idx")
        #expect(!FileManager.default.fileExists(atPath: graphFile))
    }

    @Test func anIndexAddedToATableWithRowsEmbedsThemWithProgress() async throws {
        try await withCatalog { catalog, _ in
            let t = try await catalog.createTable(
                "docs", columns: [.init("id", .int), .init("body", .string), .init("cat", .string)], primaryKey: ["id"])
            _ = try await t.insert(Self.rows(1200))
            let seen = Mutex<[(Int, Int)]>([])
            try await t.createEmbeddingIndex(on: "body", name: "body_idx", embedding: "text.embed_hash(dims=32)") { done, total in
                seen.withLock { $0.append((done, total)) }
            }
            let reports = seen.withLock { $0 }
            #expect(reports.first.map { $0 == (0, 1200) } == true && reports.last.map { $0 == (1200, 1200) } == true && reports.count > 3)
            #expect(try await t.embeddingIndexStatus()[0].rows == 1200)
            #expect(try await t.errors().isEmpty)
            #expect(try await Self.top(t, "garden piano", k: 10, useIndex: true) == Self.top(t, "garden piano", k: 10, useIndex: false))
        }
    }

    @Test func similarityNeedsAValueAndAnIndex() async throws {
        try await withCatalog { catalog, _ in
            let t = try await Self.makeTable(catalog, rows: 10)
            await #expect(throws: PixeltableError.self) { _ = try await t.query().orderBy(["cat.similarity('x') desc"]).limit(3).collect() }
            await #expect(throws: PixeltableError.self) { _ = try await t.query().orderBy(["body.similarity(cat) desc"]).limit(3).collect() }
            #expect(try await t.query().orderBy(["body.similarity('apple') desc"]).limit(0).collect().count == 0)
        }
    }
}
