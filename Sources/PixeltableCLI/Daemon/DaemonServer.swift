import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Pixeltable
import PixeltableServing

/// The long-lived local daemon: one catalog, served over HTTP + JSON on 127.0.0.1 only, to
/// clients that present the home's secret.
enum DaemonServer {
    static let maxBody = 1 << 20
    static let maxInsertBody = 4 << 30

    /// Runs the daemon in the foreground until SIGTERM or SIGINT.
    static func run(home: HomeDirectory, port: Int) async -> Int32 {
        // Detach from the terminal's session and work in the home directory.
        _ = setsid()
        _ = FileManager.default.changeCurrentDirectoryPath(home.path)
        let paths = DaemonPaths(home: home, port: port)
        let secret: String
        let catalog: Catalog
        do {
            secret = try paths.secret()
            catalog = try Catalog.open(home: home)
        } catch {
            FileHandle.standardError.write(Data("pxt daemon: \(error)\n".utf8))
            return 1
        }
        let info = DaemonInfo(identity: DaemonIdentity.current(home: home), port: port)
        let api = CatalogAPI(catalog: catalog, info: info)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            await respond(request, api: api, info: info, secret: secret)
        }
        var logger = Logger(label: "pxt-daemon")
        logger.logLevel = .warning
        // SO_REUSEADDR, as Python's HTTPServer sets it: without it a restarted daemon cannot bind
        // while the old one's closed connections sit in TIME_WAIT (up to a minute). On Linux it
        // still refuses a second listener on the port, so the bind stays the single-instance lock.
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "pxt", reuseAddress: true),
            onServerRunning: { _ in
                try? "\(getpid())\n".write(toFile: paths.pidFile, atomically: true, encoding: .utf8)
                FileHandle.standardError.write(Data("pxt daemon \(PxtVersion.current) (PID \(getpid())) serving \(home.path) on 127.0.0.1:\(port)\n".utf8))
            },
            logger: logger)
        do {
            try await app.runService()
        } catch {
            removePidFile(paths)
            if DaemonClient(paths: paths).probeAny() != nil {
                // Another daemon won the race for the port: that one serves.
                return 0
            }
            FileHandle.standardError.write(Data("pxt daemon: bind to 127.0.0.1:\(port) failed: \(error)\n".utf8))
            return 1
        }
        removePidFile(paths)
        return 0
    }

    /// Removes the pidfile only if it still names this process.
    static func removePidFile(_ paths: DaemonPaths) {
        if paths.recordedPID() == getpid() { unlink(paths.pidFile) }
    }

    static func respond(_ request: Request, api: CatalogAPI, info: DaemonInfo, secret: String) async -> Response {
        let path = request.uri.path
        let query = QueryString.parse(target: request.head.path ?? "")
        let method = request.method.rawValue
        if method == "OPTIONS" { return Response(status: .noContent, headers: securityHeaders()) }
        // Every request must carry the home's secret: other local users cannot drive the daemon.
        let presented = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 } ?? query["token"]?.last
        guard let presented, constantTimeEqual(presented, secret) else {
            return json(401, ["detail": "missing or wrong daemon secret", "service": "pxt", "pid": .int(Int64(info.pid))])
        }
        // A client names the daemon it wants; a different one says so, and the client replaces it.
        // (The health probe sends no identity: it is how a client inspects any daemon.)
        if let wanted = request.headers[HTTPField.Name("X-Pxt-Identity")!], wanted != info.identity.token {
            return json(409, ["detail": "this pxt daemon serves another identity; the client replaces it", "error_code": "IDENTITY_MISMATCH"])
        }
        // A request is in flight from the moment it is accepted: a large `pxt insert` spends
        // much of its time uploading, and `daemon stop` must not cut it short then either.
        let tracked = path != "/api/health" && path != "/api/status"
        let token = tracked ? info.begin(method, path) : nil
        let isBulk = path == "/api/insert"
        var req = request
        let body: [UInt8]
        do {
            let buffer = try await req.collectBody(upTo: isBulk ? maxInsertBody : maxBody)
            body = Array(buffer.readableBytesView)
        } catch {
            if let token { info.end(token) }
            return json(413, ["detail": .string("request body exceeds the \(isBulk ? maxInsertBody : maxBody)-byte limit")])
        }
        let sessionName = HTTPField.Name("X-Pxt-Session")!
        let apiRequest = APIRequest(
            method: method, path: path, query: query, body: body, session: request.headers[sessionName],
            environment: request.headers[HTTPField.Name(EnvironmentAgreement.headerName)!])
        let result = await api.handle(apiRequest)
        switch result {
        case .json(let status, let value):
            if let token { info.end(token) }
            return json(status, value)
        case .bytes(let status, let type, let bytes):
            if let token { info.end(token) }
            var headers = securityHeaders()
            headers[.contentType] = type
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .stream(let events):
            var headers = securityHeaders()
            headers[.contentType] = "application/x-ndjson"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    defer { if let token { info.end(token) } }
                    for await e in events {
                        var line = Array(JSONWriter.compact.string(e).utf8)
                        line.append(0x0A)
                        try await writer.write(ByteBuffer(bytes: line))
                    }
                    try await writer.finish(nil)
                })
        }
    }

    static func securityHeaders() -> HTTPFields {
        var h = HTTPFields()
        h[.cacheControl] = "no-store"
        h[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        h[HTTPField.Name("X-Frame-Options")!] = "DENY"
        h[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return h
    }

    static func json(_ status: Int, _ value: JSONValue) -> Response {
        var headers = securityHeaders()
        headers[.contentType] = "application/json"
        let bytes = Array(JSONWriter.compact.string(value).utf8)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
