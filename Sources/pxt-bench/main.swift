// Benchmarks that run inside one process, and the hello-world server used as the HTTP ceiling.
// Driven by the scripts in bench/; each prints one JSON object with its figures.
import Dispatch
import Foundation
import Hummingbird
import Pixeltable
import PixeltableTestSupport
import Synchronization

/// Runs an async body from the synchronous top level and waits for it.
func runBlocking(_ body: @escaping @Sendable () async throws -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { try await body() } catch {
            FileHandle.standardError.write(Data("pxt-bench: \(error)\n".utf8))
            exit(1)
        }
        done.signal()
    }
    done.wait()
}

func option(_ name: String, _ d: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count { return args[i + 1] }
    return d
}

func emit(_ v: JSONValue) { print(JSONWriter(style: .spaced).string(v)) }

func freshHome(_ base: String, _ name: String) -> HomeDirectory {
    let path = base + "/" + name
    try? FileManager.default.removeItem(atPath: path)
    return HomeDirectory(path: path)
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

/// Single-row durable inserts from many concurrent tasks: group commit against one transaction
/// per row.
func groupCommit() {
    let base = option("home", NSTemporaryDirectory() + "pxt-bench")
    let tasks = Int(option("tasks", "64"))!
    let perTask = Int(option("rows-per-task", "500"))!
    runBlocking {
        var results = JSONObject()
        let only = option("only", "")
        for (label, batch) in [("one_transaction_per_row", 1), ("group_commit", 512)] where only.isEmpty || only == label {
            let catalog = try Catalog.open(home: freshHome(base, label), maxWriteBatch: batch)
            let t = try await catalog.createTable("items", columns: [.init("id", .int), .init("note", .string)], primaryKey: ["id"])
            let start = Date()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for k in 0..<tasks {
                    group.addTask {
                        for i in 0..<perTask {
                            let id = Int64(k * perTask + i)
                            try await t.insert([["id": .int(id), "note": .string("row \(id)")]])
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seconds = Date().timeIntervalSince(start)
            let rows = tasks * perTask
            guard try await t.count() == rows else { throw PixeltableError(.internalError, "lost rows") }
            let stats = catalog.writeStatistics
            results[label] = [
                "rows": .int(Int64(rows)), "seconds": .double(seconds), "rows_per_second": .double(Double(rows) / seconds),
                "transactions": .int(Int64(stats.transactions)), "average_batch": .double(Double(stats.operations) / Double(max(1, stats.transactions))),
            ]
        }
        if let g = results["group_commit"]?["rows_per_second"]?.doubleValue, let b = results["one_transaction_per_row"]?["rows_per_second"]?.doubleValue {
            results["speedup"] = .double(g / b)
        }
        results["tasks"] = .int(Int64(tasks))
        emit(.object(results))
    }
}

/// A named-query point lookup by primary key on a large table, against a full scan.
func lookup() {
    let base = option("home", NSTemporaryDirectory() + "pxt-bench")
    let rows = Int(option("rows", "1000000"))!
    let iterations = Int(option("iterations", "20000"))!
    runBlocking {
        let catalog = try Catalog.open(home: freshHome(base, "lookup"))
        let module = try ModuleFile.parse(
            """
            [[table]]
            path = "items"
            primary_key = ["id"]
            [table.columns]
            id = "Int"
            name = "String"
            category = "Int"
            score = "Float"

            [[query]]
            name = "by_id"
            table = "items"
            retrieval = ["id"]
            limit = 1

            [[query]]
            name = "by_name"
            table = "items"
            params = { name = "String" }
            where = "name == :name"
            """, file: "bench.toml")
        try await module.apply(catalog)
        var body: [UInt8] = []
        body.reserveCapacity(rows * 64)
        for i in 0..<rows {
            body += Array(#"{"id": \#(i), "name": "item \#(i)", "category": \#(i % 100), "score": \#(Double(i % 1000) / 10)}"#.utf8)
            body.append(0x0A)
        }
        let table = try await catalog.table("items")
        let loadStart = Date()
        try await BulkInsert.run(table: table, body: body, format: .jsonl)
        let loadSeconds = Date().timeIntervalSince(loadStart)
        let byID = try await module.query(named: "by_id")!.compile(catalog)
        let scan = try await module.query(named: "by_name")!.compile(catalog)
        // Warm up.
        for i in 0..<1000 { _ = try byID.runNow(["id": .int(Int64(i * 7 % rows))]) }
        var rng = SystemRandomNumberGenerator()
        var lat: [Double] = []
        lat.reserveCapacity(iterations)
        for _ in 0..<iterations {
            let id = Int64.random(in: 0..<Int64(rows), using: &rng)
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = try byID.runNow(["id": .int(id)])
            let t1 = DispatchTime.now().uptimeNanoseconds
            precondition(r.rows.count == 1)
            lat.append(Double(t1 - t0) / 1000)
        }
        lat.sort()
        var asyncLat: [Double] = []
        for _ in 0..<min(iterations, 5000) {
            let id = Int64.random(in: 0..<Int64(rows), using: &rng)
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try await byID.run(["id": .int(id)])
            asyncLat.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
        }
        asyncLat.sort()
        var scanLat: [Double] = []
        for _ in 0..<5 {
            let id = Int.random(in: 0..<rows, using: &rng)
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = try scan.runNow(["name": .string("item \(id)")])
            scanLat.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
            precondition(r.rows.count == 1)
        }
        scanLat.sort()
        emit([
            "rows": .int(Int64(rows)), "load_seconds": .double(loadSeconds), "load_rows_per_second": .double(Double(rows) / loadSeconds),
            "pk_lookup_us": ["p50": .double(percentile(lat, 0.5)), "p99": .double(percentile(lat, 0.99)), "n": .int(Int64(lat.count))],
            "pk_lookup_async_us": ["p50": .double(percentile(asyncLat, 0.5)), "p99": .double(percentile(asyncLat, 0.99))],
            "full_scan_us": ["p50": .double(percentile(scanLat, 0.5)), "n": .int(Int64(scanLat.count))],
        ])
    }
}

/// Rows for `pxt insert` benchmarks, as JSON lines.
func makeJSONL() {
    let rows = Int(option("rows", "1000000"))!
    let out = option("out", "rows.jsonl")
    var text = ""
    text.reserveCapacity(rows * 70)
    for i in 0..<rows {
        text += #"{"id": \#(i), "title": "title number \#(i)", "year": \#(1900 + i % 125), "rating": \#(Double(i % 100) / 10)}"#
        text += "\n"
    }
    try? text.write(toFile: out, atomically: true, encoding: .utf8)
}

/// A photo-like test image (gradients, a hard-edged disc, noise) of any size, as JPEG, PNG or
/// WebP: the benchmark's input, made the same way as the tests' images.
func makeImage() {
    let w = Int(option("width", "4000"))!, h = Int(option("height", "3000"))!
    let format = ImageFormat(name: option("format", "jpeg")) ?? .jpeg
    let out = option("out", "photo.jpg")
    do {
        let image = TestImages.pattern(w, h, detail: Int(option("detail", "4"))!)
        let bytes = try ImageCodec.encode(image, as: format, quality: Int(option("quality", "90"))!)
        guard FileManager.default.createFile(atPath: out, contents: Data(bytes)) else { throw PixeltableError(.storeUnavailable, "cannot write \(out)") }
    } catch {
        FileHandle.standardError.write(Data("pxt-bench: \(error)\n".utf8))
        exit(1)
    }
}

/// The ceiling: Hummingbird answering a constant JSON body, built with the same compiler,
/// flags and Hummingbird version as `pxt`.
func hello() {
    let port = Int(option("port", "8081"))!
    runBlocking {
        let router = Router()
        router.get("/json") { _, _ -> Response in
            var h = HTTPFields()
            h[.contentType] = "application/json"
            return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(string: #"{"message":"Hello, world!"}"#)))
        }
        router.post("/json") { request, _ -> Response in
            var req = request
            _ = try await req.collectBody(upTo: 1 << 20)
            var h = HTTPFields()
            h[.contentType] = "application/json"
            return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(string: #"{"message":"Hello, world!"}"#)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}

Catalog.tuneAllocatorForServers()

switch CommandLine.arguments.dropFirst().first {
case "group-commit": groupCommit()
case "lookup": lookup()
case "make-jsonl": makeJSONL()
case "hello": hello()
case "make-image": makeImage()
case "embed": embedThroughput()
case "sgemm": sgemmPeak()
case "make-vectors": makeVectors()
case "vector-exact": vectorExact()
case "vector-hnsw": vectorHNSW()
default:
    FileHandle.standardError.write(
        Data("usage: pxt-bench group-commit|lookup|make-jsonl|make-image|embed|sgemm|make-vectors|vector-exact|vector-hnsw|hello [--option value]...\n".utf8))
    exit(2)
}
