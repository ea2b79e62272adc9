import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
@testable import Pixeltable
@testable import PixeltableServing

/// An OpenAI-compatible `/v1/embeddings` on loopback (the real API is not reachable here): it
/// checks the key, answers the first request with 429, and embeds with `text.embed_hash`.
final class EmbeddingsEndpoint: Sendable {
    /// What the endpoint saw: requests, and inputs per answered request.
    final class Log: Sendable {
        let requests = Mutex<Int>(0)
        let batches = Mutex<[Int]>([])
        /// While set, requests wait before answering (`held` counts them).
        let holding = Mutex<Bool>(false)
        let held = Mutex<Int>(0)
    }

    let port: Int
    private let task: Task<Void, any Error>
    private let log: Log

    private init(port: Int, task: Task<Void, any Error>, log: Log) {
        self.port = port
        self.task = task
        self.log = log
    }

    static func start(key: String, throttleFirst: Bool = true) async throws -> EmbeddingsEndpoint {
        let log = Log()
        let router = Router()
        router.post("/v1/embeddings") { req, _ -> Response in
            let body = try await req.body.collect(upTo: 10_000_000)
            let json = try JSONParser.parse(bytes: Array(body.readableBytesView))
            let n = log.requests.withLock { v in
                v += 1
                return v
            }
            if log.holding.withLock({ $0 }) {
                log.held.withLock { $0 += 1 }
                while log.holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            }
            guard req.headers[.authorization] == "Bearer \(key)" else {
                return Response(
                    status: .unauthorized, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error": {"message": "Incorrect API key provided"}}"#)))
            }
            if throttleFirst && n == 1 {
                return Response(
                    status: .tooManyRequests, headers: [.contentType: "application/json", .retryAfter: "0"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error": {"message": "Rate limit reached"}}"#)))
            }
            let inputs = json["input"]?.arrayValue?.compactMap(\.stringValue) ?? []
            log.batches.withLock { $0.append(inputs.count) }
            let dims = Int(json["dimensions"]?.intValue ?? 32)
            let data: [JSONValue] = inputs.enumerated().reversed().map { i, text in
                ["object": "embedding", "index": .int(Int64(i)), "embedding": .array(EmbeddingFunctions.embedHash(text, dims: dims).map { .double(Double($0)) })]
            }
            let answer: JSONValue = ["object": "list", "data": .array(data), "model": json["model"] ?? .null]
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: JSONWriter.compact.string(answer))))
        }
        let port = Mutex<Int?>(nil)
        var quiet = Logger(label: "test-embeddings")
        quiet.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { ch in port.withLock { $0 = ch.localAddress?.port } }, logger: quiet)
        let task = Task { try await app.runService() }
        for _ in 0..<500 {
            if let p = port.withLock({ $0 }) { return EmbeddingsEndpoint(port: p, task: task, log: log) }
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        throw PixeltableError(.internalError, "embeddings endpoint did not start")
    }

    /// Inputs per answered request.
    var batches: [Int] { log.batches.withLock { $0 } }

    /// Makes requests wait until ``release()``.
    func hold() { log.holding.withLock { $0 = true } }

    func release() { log.holding.withLock { $0 = false } }

    /// Waits until `count` requests have been held.
    func waitUntilHeld(_ count: Int) async throws {
        for _ in 0..<2000 where log.held.withLock({ $0 }) < count {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(log.held.withLock { $0 } >= count, "no request reached the endpoint")
    }

    func stop() { task.cancel() }
}

@Suite struct EmbeddingRouteTests {
    /// Points the home's config file at the endpoint.
    func configure(_ cat: Catalog, port: Int, key: String) throws {
        try """
            [openai]
            base_url = "http://127.0.0.1:\(port)/v1"
            api_key = "\(key)"
            """.write(toFile: cat.home.configFile, atomically: true, encoding: .utf8)
    }

    @Test func openAIEmbeddingsAreBatchedRetriedAndSearchedOverHTTP() async throws {
        try await withService { cat in
            let endpoint = try await EmbeddingsEndpoint.start(key: "sk-test-123")
            defer { endpoint.stop() }
            try configure(cat, port: endpoint.port, key: "sk-test-123")
            let t = try await cat.createTable("docs", columns: [.init("id", .int), .init("body", .string)], primaryKey: ["id"])
            try await t.createEmbeddingIndex(on: "body", name: "oa", embedding: "openai.embeddings(model='text-embedding-3-small', dimensions=32)")
            let words = ["amber", "basalt", "cobalt", "dune", "ember", "fjord", "granite", "heron"]
            let rows: [[String: Value]] = (0..<100).map { i in
                ["id": .int(Int64(i)), "body": .string("\(words[i % 8]) \(words[(i / 8) % 8]) item \(i)")]
            }
            let w = try await t.insert(rows)
            #expect(w.errorCount == 0)
            // 100 rows in batches of 64, the first request throttled once and retried.
            #expect(endpoint.batches == [64, 36])
            let module = try ModuleFile.parse(
                """
                [[query]]
                name = "search"
                table = "docs"
                params = { q = "String" }
                select = ["id", "body", "body.similarity(:q) as score"]
                order_by = ["body.similarity(:q) desc"]
                limit = 3
                """, file: "queries.toml")
            let q = try await module.query(named: "search")!.compile(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addQueryRoute(path: "/search", query: q, method: .get)
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let r = try await http(s.port, "GET", "/search?q=cobalt%20fjord%20item%2042")
            #expect(r.status == 200, "\(r.text)")
            let found = r.json["rows"]?.arrayValue ?? []
            #expect(found.count == 3)
            #expect(found.first?["id"] == 42)
            let scores = found.compactMap { $0["score"]?.doubleValue }
            #expect(scores == scores.sorted(by: >) && scores.count == 3)
            // The query was embedded once, through the same endpoint.
            #expect(endpoint.batches.last == 1)
        }
    }

    @Test func aRejectedKeyIsAPerCellErrorThatDoesNotShowTheKey() async throws {
        try await withService { cat in
            let endpoint = try await EmbeddingsEndpoint.start(key: "sk-right", throttleFirst: false)
            defer { endpoint.stop() }
            try configure(cat, port: endpoint.port, key: "sk-wrong-secret")
            let t = try await cat.createTable("docs", columns: [.init("id", .int), .init("body", .string)], primaryKey: ["id"])
            try await t.createEmbeddingIndex(on: "body", name: "oa", embedding: "openai.embeddings(model='text-embedding-3-small')")
            let w = try await t.insert([["id": 1, "body": "one"], ["id": 2, "body": "two"]])
            #expect(w.errorCount == 2)
            #expect(try await t.count() == 2)
            let errors = try await t.errors()
            #expect(errors.count == 2)
            #expect(errors.allSatisfy { ($0.errorMessage ?? "").contains("HTTP 401") && ($0.errorMessage ?? "").contains("Incorrect API key") && !($0.errorMessage ?? "").contains("sk-wrong-secret") })
        }
    }
    @Test func anUpdateEmbedsBeforeItsWriteTransaction() async throws {
        try await withService { cat in
            let endpoint = try await EmbeddingsEndpoint.start(key: "sk-test", throttleFirst: false)
            defer { endpoint.stop() }
            try configure(cat, port: endpoint.port, key: "sk-test")
            let t = try await cat.createTable("docs", columns: [.init("id", .int), .init("body", .string)], primaryKey: ["id"])
            try await t.createEmbeddingIndex(on: "body", name: "oa", embedding: "openai.embeddings(model='text-embedding-3-small', dimensions=32)")
            let other = try await cat.createTable("other", columns: [.init("id", .int)])
            try await t.insert([["id": 1, "body": "amber basalt"], ["id": 2, "body": "cobalt dune"], ["id": 3, "body": "ember fjord"]])
            #expect(endpoint.batches == [3])
            // Nothing else writes: one request, made before the transaction.
            try await t.batchUpdate([["id": 2, "body": "granite heron"]])
            #expect(endpoint.batches == [3, 1])

            // While the endpoint holds the update's request, the catalog takes other writes, to
            // another table and to this one: the model is not called with the write lock held.
            endpoint.hold()
            let update = Task { try await t.update(["body": "heron granite amber"], where: "id <= 2") }
            try await endpoint.waitUntilHeld(1)
            let wrote = Mutex<Bool>(false)
            let writes = Task {
                try await other.insert([["id": 1]])
                try await t.delete(where: "id == 2")
                wrote.withLock { $0 = true }
            }
            // Were the write lock held, these writes would wait for the endpoint: give them ten
            // seconds, then let the endpoint answer, so that the test fails rather than hangs.
            for _ in 0..<1000 where !wrote.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
            #expect(wrote.withLock { $0 }, "other writes waited for the update's call to the model")
            endpoint.release()
            try await writes.value
            let u = try await update.value
            // The rows read before the transaction were no longer current (row 2 was deleted
            // meanwhile): the update read and embedded again inside it, and changed row 1 only.
            #expect(u.rowCount == 1)
            #expect(endpoint.batches == [3, 1, 2, 1])
            #expect(try await other.count() == 1)
            let rows = try await t.select(["id", "body"], orderBy: ["body.similarity('heron granite amber') desc"], limit: 1).rows
            #expect(rows.first?["id"] == 1)
            #expect(rows.first?["body"] == "heron granite amber")
        }
    }
}
