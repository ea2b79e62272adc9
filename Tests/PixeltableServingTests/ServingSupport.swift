import Dispatch
import Foundation
import Hummingbird
import Pixeltable
import PixeltableServing
import Synchronization

/// A catalog in a fresh temporary home.
struct TestHome {
    let path = NSTemporaryDirectory() + "pxt-serving-" + UUID().uuidString
    var home: HomeDirectory { HomeDirectory(path: path) }
    func open() throws -> Catalog { try Catalog.open(home: home) }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A response with its JSON body parsed.
struct HTTPResult {
    var status: Int
    var json: JSONValue
    var text: String
    var headers: [String: String]
}

/// Blocking HTTP calls run on a dispatch queue, off Swift's cooperative pool, so that a test
/// waiting for an answer never starves the server it talks to.
func http(_ port: Int, _ method: String, _ path: String, json body: JSONValue? = nil, raw: String? = nil) async throws -> HTTPResult {
    let payload = raw.map { Array($0.utf8) } ?? body.map { Array(JSONWriter.compact.string($0).utf8) } ?? []
    return try await withCheckedThrowingContinuation { cont in
        // A thread of its own: dispatch's global queues run only a few blocked workers at once.
        Thread.detachNewThread {
            do {
                let r = try LoopbackHTTP.request(port: port, method: method, path: path, headers: payload.isEmpty ? [:] : ["Content-Type": "application/json"], body: payload, timeout: 30)
                cont.resume(returning: HTTPResult(status: r.status, json: (try? JSONParser.parse(bytes: r.body)) ?? .null, text: r.text, headers: r.headers))
            } catch {
                cont.resume(throwing: error)
            }
        }
    }
}

/// A running server on an ephemeral loopback port.
final class RunningServer: Sendable {
    let port: Int
    let task: Task<Void, any Error>

    init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    /// Starts `router` (mounted with its built-ins) and waits until it accepts connections.
    static func start(_ router: ServiceRouter) async throws -> RunningServer {
        let bound = Mutex<Int?>(nil)
        let server = ServiceServer(router: router, host: "127.0.0.1", port: 0)
        let task = Task { try await server.run { port in bound.withLock { $0 = port } } }
        for _ in 0..<500 {
            if let p = bound.withLock({ $0 }) { return RunningServer(port: p, task: task) }
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        throw PixeltableError(.internalError, "server did not start")
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// A films table with a computed column, for most tests.
func makeFilms(_ catalog: Catalog, path: String = "films") async throws -> Table {
    let t = try await catalog.createTable(
        path,
        columns: [
            .init("id", .int, comment: "Film id"), .init("title", .string.required), .init("year", .int), .init("meta", .json),
            .computed("title_upper", "title.upper()"), .computed("next_year", "year + 1"),
        ], primaryKey: ["id"])
    return t
}

/// Runs `body` with a fresh catalog; removes the home afterwards.
func withService<T>(_ body: (Catalog) async throws -> T) async throws -> T {
    let home = TestHome()
    defer { home.remove() }
    return try await body(try home.open())
}

/// Polls a job until it is not pending.
func awaitJob(_ port: Int, _ url: String) async throws -> JSONValue {
    let path = String(url[url.range(of: "/jobs/")!.lowerBound...])
    for _ in 0..<500 {
        let r = try await http(port, "GET", path)
        guard r.status == 200 else { return r.json }
        if r.json["status"] != "pending" { return r.json }
        #expect(r.json["result"] == .null && r.json["error"] == .null)
        try await Task.sleep(for: .milliseconds(20))
    }
    return .null
}

import Testing

/// A raw request: the path exactly as given (no normalization), any headers, raw body bytes.
func rawHTTP(_ port: Int, _ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) async throws -> LoopbackHTTP.Response {
    try await withCheckedThrowingContinuation { cont in
        Thread.detachNewThread {
            do {
                cont.resume(returning: try LoopbackHTTP.request(port: port, method: method, path: path, headers: headers, body: body, timeout: 30))
            } catch {
                cont.resume(throwing: error)
            }
        }
    }
}

/// A `multipart/form-data` body: the content type (with its boundary) and the bytes.
func multipart(fields: [(String, String)] = [], files: [(name: String, filename: String, type: String, bytes: [UInt8])] = []) -> (contentType: String, body: [UInt8]) {
    let boundary = "pxt-test-" + UUID().uuidString
    var body: [UInt8] = []
    for (k, v) in fields {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n".utf8)
    }
    for f in files {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(f.name)\"; filename=\"\(f.filename)\"\r\nContent-Type: \(f.type)\r\n\r\n".utf8)
        body += f.bytes
        body += Array("\r\n".utf8)
    }
    body += Array("--\(boundary)--\r\n".utf8)
    return ("multipart/form-data; boundary=\(boundary)", body)
}

/// The path part of an absolute URL (`http://host:port/a/b` → `/a/b`).
func pathOf(_ url: String) -> String {
    guard let r = url.range(of: "://"), let slash = url[r.upperBound...].firstIndex(of: "/") else { return url }
    return String(url[slash...])
}
