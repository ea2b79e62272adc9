import Foundation
import Pixeltable
import Testing
@testable import PixeltableServing

/// Connections that hold a descriptor without finishing a request are closed (issue #12,
/// defects 4 and 5); connections beyond the limit are refused; served ones are unaffected.
@Suite struct ConnectionLimitTests {
    func server(_ cat: Catalog, _ configure: (inout ServiceRouter.Configuration) -> Void) async throws -> RunningServer {
        let t = try await makeFilms(cat)
        var c = ServiceRouter.Configuration()
        configure(&c)
        let router = try ServiceRouter(catalog: cat, configuration: c)
        try await router.addInsertRoute(t, path: "/films", inputs: ["id", "title", "meta"])
        return try await RunningServer.start(router)
    }

    @Test func slowHeadersStalledBodiesAndIdleConnectionsAreClosed() async throws {
        try await withService { cat in
            let s = try await server(cat) { c in
                c.headerTimeout = .milliseconds(600)
                c.bodyTimeout = .milliseconds(600)
                c.idleTimeout = .seconds(30)
            }
            defer { Task { await s.stop() } }
            let port = s.port
            let results = await offPool { () -> [String: Bool] in
                var out: [String: Bool] = [:]
                // Nothing sent at all.
                if let c = try? RawConnection(port: port) {
                    out["silent"] = c.read(for: 5).closed
                    c.close()
                }
                // A header byte every 200 ms: each read is recent, the header never completes.
                if let c = try? RawConnection(port: port) {
                    var closed = false
                    for b in "POST /films HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8 {
                        if !c.send(String(UnicodeScalar(b))) { closed = true; break }
                        if c.read(for: 0.2).closed { closed = true; break }
                    }
                    out["slow header"] = closed
                    c.close()
                }
                // Headers, then half the body.
                if let c = try? RawConnection(port: port) {
                    c.send("POST /films HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
                    out["stalled body"] = c.read(for: 5).closed
                    c.close()
                }
                // A served connection stays open for its next request within the timeout.
                if let c = try? RawConnection(port: port) {
                    let body = #"{"id": 1, "title": "A"}"#
                    c.send("POST /films HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                    let first = c.readResponse()?.status ?? ""
                    let body2 = #"{"id": 2, "title": "B"}"#
                    Thread.sleep(forTimeInterval: 0.2)
                    c.send("POST /films HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body2.utf8.count)\r\n\r\n\(body2)")
                    let second = c.readResponse()?.status ?? ""
                    out["keep-alive"] = first.contains("200") && second.contains("200")
                    // …and is closed once idle past the header timeout.
                    out["idle after response"] = c.read(for: 5).closed
                    c.close()
                }
                return out
            }
            #expect(results["silent"] == true)
            #expect(results["slow header"] == true)
            #expect(results["stalled body"] == true)
            #expect(results["keep-alive"] == true)
            #expect(results["idle after response"] == true)
            #expect(try await t(cat).count() == 2)
        }
    }

    func t(_ cat: Catalog) async throws -> Table { try await cat.table("films") }

    @Test func connectionsBeyondTheLimitAreClosedAtOnce() async throws {
        try await withService { cat in
            let s = try await server(cat) { c in c.maxConnections = 3 }
            defer { Task { await s.stop() } }
            let port = s.port
            let (refused, servedAfter) = await offPool { () -> (Bool, Bool) in
                let held = (0..<3).compactMap { _ in try? RawConnection(port: port) }
                Thread.sleep(forTimeInterval: 0.3)
                guard let extra = try? RawConnection(port: port) else { return (false, false) }
                let refused = extra.read(for: 3).closed
                extra.close()
                for c in held { c.close() }
                // Places are given back when the server sees the connections close.
                let deadline = Date().addingTimeInterval(10)
                while Date() < deadline {
                    guard let c = try? RawConnection(port: port) else { continue }
                    defer { c.close() }
                    c.send("GET /jobs/x HTTP/1.1\r\nHost: x\r\n\r\n")
                    if c.readResponse()?.status.contains("404") == true { return (refused, true) }
                    Thread.sleep(forTimeInterval: 0.1)
                }
                return (refused, false)
            }
            #expect(refused, "the fourth connection is closed")
            #expect(servedAfter, "a connection is served once others have closed")
        }
    }

    /// Defect 5: a 413 no longer leaves the socket half-closed with the body unread.
    @Test func aTooLargeBodyIsAnsweredAndItsConnectionClosed() async throws {
        try await withService { cat in
            let s = try await server(cat) { c in c.maxBodyBytes = 1 << 20 }
            defer { Task { await s.stop() } }
            let port = s.port
            let (announced, streamed) = await offPool { () -> ((String, Bool), (String, Bool)) in
                func attempt(announce: Bool) -> (String, Bool) {
                    guard let c = try? RawConnection(port: port) else { return ("", false) }
                    defer { c.close() }
                    let framing = announce ? "Content-Length: 67108864" : "Transfer-Encoding: chunked"
                    c.send("POST /films HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(framing)\r\n\r\n")
                    var sent = 0
                    let chunk = [UInt8](repeating: 0x20, count: 256 << 10)
                    // Keep sending as a client that does not read would, until refused.
                    while sent < 8 << 20 {
                        let ok = announce ? c.send(chunk) : c.send(Array("40000\r\n".utf8) + chunk + Array("\r\n".utf8))
                        if !ok { break }
                        sent += chunk.count
                    }
                    let r = c.read(for: 6)
                    return (String(decoding: r.bytes.prefix(200), as: UTF8.self), r.closed)
                }
                return (attempt(announce: true), attempt(announce: false))
            }
            #expect(announced.0.hasPrefix("HTTP/1.1 413"), "\(announced.0)")
            #expect(announced.1, "closed after the 413 (Content-Length)")
            #expect(streamed.0.hasPrefix("HTTP/1.1 413"), "\(streamed.0)")
            #expect(streamed.1, "closed after the 413 (chunked)")
        }
    }

    @Test func nestingDeeperThanTheLimitIs422() async throws {
        try await withService { cat in
            let s = try await server(cat) { c in c.maxNestingDepth = 8 }
            defer { Task { await s.stop() } }
            let deep = #"{"id": 1, "title": "A", "meta": "# + String(repeating: "[", count: 20) + String(repeating: "]", count: 20) + "}"
            let r = try await rawHTTP(s.port, "POST", "/films", headers: ["Content-Type": "application/json"], body: Array(deep.utf8))
            #expect(r.status == 422, "\(r.text)")
            #expect(r.text.contains("nesting deeper than 8"), "\(r.text)")
            let shallow = #"{"id": 1, "title": "A", "meta": [[1, 2], {"a": [3]}]}"#
            #expect(try await rawHTTP(s.port, "POST", "/films", headers: ["Content-Type": "application/json"], body: Array(shallow.utf8)).status == 200)
        }
    }
}
