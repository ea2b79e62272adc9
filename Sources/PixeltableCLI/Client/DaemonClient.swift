import Foundation
import Pixeltable
import PixeltableServing

/// The `pxt` client's side of the daemon: finding (or starting) the right daemon and sending it
/// requests.
struct DaemonClient {
    let paths: DaemonPaths
    var environment: [String: String]

    init(paths: DaemonPaths, environment: [String: String] = FastIO.environment) {
        self.paths = paths
        self.environment = environment
    }

    /// What answered on the port.
    enum Probe {
        /// Our kind of daemon, with its health report.
        case daemon(JSONValue)
        /// A pxt daemon for another home (it rejected our secret).
        case foreignDaemon(pid: Int32?)
        /// Something else answers on the port.
        case other(String)
    }

    /// Who answers on the port, if anyone (a 0.3 s health check).
    func probeAny() -> Probe? {
        let secret = (try? paths.secret()) ?? ""
        do {
            let r = try LoopbackHTTP.request(port: paths.port, method: "GET", path: "/api/health", headers: ["Authorization": "Bearer \(secret)"], timeout: 0.3)
            let body = try? JSONParser.parse(bytes: r.body)
            if r.status == 200, let body, body["service"] == "pxt", body["ok"] == true, body["pid"]?.intValue != nil {
                return .daemon(body)
            }
            if r.status == 401, let body, body["service"] == "pxt" {
                return .foreignDaemon(pid: body["pid"]?.intValue.map { Int32($0) })
            }
            return .other("HTTP \(r.status)")
        } catch .refused {
            return nil
        } catch {
            return .other("\(error)")
        }
    }

    /// Makes sure the right daemon runs, starting or replacing it as needed; returns its health.
    @discardableResult
    func ensureRunning() throws -> JSONValue {
        let mine = DaemonIdentity.current(home: paths.home, environment: environment)
        switch probeAny() {
        case .daemon(let health):
            if let theirs = DaemonIdentity(health: health), theirs == mine { return health }
            guard let pid = health["pid"]?.intValue.map({ Int32($0) }) else {
                throw CLIError("daemon on port \(paths.port) reported an invalid pid (\(health["pid"].map { $0.jsonString } ?? "none")); not restarting it")
            }
            try replace(pid: pid, because: "it serves a different identity")
        case .foreignDaemon(let pid):
            guard let pid, ProcessTools.isPxtDaemon(pid) else {
                throw CLIError("port \(paths.port) is used by a pxt daemon of another home or user that cannot be replaced; set PXT_PORT to another port")
            }
            try replace(pid: pid, because: "it serves another home")
        case .other(let what):
            throw CLIError("port \(paths.port) is in use by something that is not a pxt daemon (\(what)); set PXT_PORT to another port")
        case nil:
            // A daemon may be starting: its pidfile names a live pxt daemon.
            if let pid = paths.recordedPID(), ProcessTools.isAlive(pid), ProcessTools.isPxtDaemon(pid) {
                if let h = waitForHealth(timeout: 10) { return try verify(h, mine) }
                ProcessTools.killAndWait(pid)
            }
            try spawn()
        }
        guard let h = waitForHealth(timeout: 45) else {
            var msg = "pxt daemon did not come up within 45.0s"
            let tail = logTail()
            if !tail.isEmpty { msg += "\n--- daemon log tail ---\n" + tail }
            throw CLIError(msg)
        }
        return try verify(h, mine)
    }

    private func verify(_ health: JSONValue, _ mine: DaemonIdentity) throws -> JSONValue {
        guard let theirs = DaemonIdentity(health: health) else { throw CLIError("pxt daemon restart did not produce a matching responder on port \(paths.port): bad health report") }
        if theirs != mine {
            throw CLIError("pxt daemon restart did not produce a matching responder on port \(paths.port): new daemon still differs in: \(theirs.differences(mine).joined(separator: ", "))")
        }
        return health
    }

    private func replace(pid: Int32, because reason: String) throws {
        guard ProcessTools.isPxtDaemon(pid) else {
            throw CLIError("the process on port \(paths.port) (PID \(pid)) is not a pxt daemon; not killing it")
        }
        ProcessTools.killAndWait(pid)
        try spawn()
        _ = reason
    }

    func waitForHealth(timeout: Double) -> JSONValue? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if case .daemon(let h) = probeAny() { return h }
            usleep(10_000)
        }
        return nil
    }

    func logTail() -> String {
        guard let data = FileManager.default.contents(atPath: paths.logFile), let s = String(data: data, encoding: .utf8) else { return "" }
        return s.split(separator: "\n", omittingEmptySubsequences: true).suffix(10).joined(separator: "\n")
    }

    /// Starts `pxt daemon run` detached: its own session, stdin from /dev/null, output to the log.
    func spawn() throws {
        try paths.home.create()
        let binary = DaemonIdentity.executablePath()
        var env = environment
        env["PXT_PORT"] = String(paths.port)
        env["PIXELTABLE_HOME"] = paths.home.path
        do {
            try ProcessTools.spawnDetached(binary, arguments: ["daemon", "run"], environment: env, logFile: paths.logFile, directory: paths.home.path)
        } catch {
            throw CLIError("pxt daemon log unavailable (\(paths.logFile)): \(error)")
        }
    }

    // MARK: requests

    /// The caller's terminal session: the parent process and its start time.
    static let session: String = {
        let ppid = getppid()
        return "\(ppid):\(ProcessTools.startTime(ppid) ?? 0)"
    }()

    func headers() throws -> [String: String] {
        [
            "Authorization": "Bearer \(try paths.secret())", "X-Pxt-Session": Self.session, "Content-Type": "application/json",
            "X-Pxt-Identity": DaemonIdentity.current(home: paths.home, environment: environment).token,
            EnvironmentAgreement.headerName: EnvironmentAgreement.header(EnvironmentAgreement.fingerprint(of: environment)),
        ]
    }

    /// Whether an answer means "not the right daemon, or none": start or replace it and retry.
    static func needsDaemon(_ status: Int, _ body: [UInt8]) -> Bool {
        if status == 401 { return true }
        if status == 409, let j = try? JSONParser.parse(bytes: body), j["error_code"] == "IDENTITY_MISMATCH" { return true }
        return false
    }

    /// Sends a request to the daemon and returns the JSON answer; an error status becomes
    /// `pxt: <status> <detail>`.
    ///
    /// When the pidfile names a live daemon the request goes straight to the port and the daemon
    /// checks the client's identity with it (no separate health check). Otherwise, or when the
    /// wrong daemon answers, the daemon is started or replaced (``ensureRunning()``) first.
    func call(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil) throws -> JSONValue {
        let target = path + Self.queryString(query)
        let payload = body.map { Array(JSONWriter.compact.string($0).utf8) } ?? []
        let h = try headers()
        func send() throws -> LoopbackHTTP.Response {
            do throws(LoopbackHTTP.Failure) {
                return try LoopbackHTTP.request(port: paths.port, method: method, path: target, headers: h, body: payload)
            } catch {
                if case .malformed = error { throw CLIError("bad response from daemon at \(paths.baseURL): \(error)") }
                throw CLIError("cannot reach daemon at \(paths.baseURL): \(error)")
            }
        }
        var r: LoopbackHTTP.Response? = nil
        // Straight to the port only when our daemon is known to hold it (its pidfile names a
        // live `pxt daemon run`); anything else is checked first, with a timeout, so that a
        // program that accepts connections and never answers cannot hang the client.
        if let pid = paths.recordedPID(), ProcessTools.isAlive(pid), ProcessTools.isPxtDaemon(pid) {
            r = try? LoopbackHTTP.request(port: paths.port, method: method, path: target, headers: h, body: payload)
        }
        if r == nil || Self.needsDaemon(r!.status, r!.body) {
            try ensureRunning()
            r = try send()
        }
        return try Self.decode(r!.status, r!.body, url: paths.baseURL)
    }

    static func decode(_ status: Int, _ body: [UInt8], url: String) throws -> JSONValue {
        let parsed = try? JSONParser.parse(bytes: body)
        if status >= 400 {
            let detail = parsed?["detail"]?.stringValue ?? HTTPStatus.reason(status)
            throw CLIError("\(status) \(detail)")
        }
        guard let parsed else { throw CLIError("bad response from daemon at \(url): not JSON") }
        return parsed
    }

    /// Sends a request whose answer is a stream of JSON lines, handing each to `onEvent`.
    func stream(_ path: String, query: [(String, String)], body: [UInt8], onEvent: (JSONValue) -> Void) throws {
        // Bulk requests carry a large body: make sure of the daemon before sending it.
        try ensureRunning()
        var pending: [UInt8] = []
        var errorBody: [UInt8] = []
        var failed = false
        let head: (status: Int, headers: [String: String])
        do {
            var h = try headers()
            h["Content-Type"] = "application/octet-stream"
            head = try LoopbackHTTP.exchange(port: paths.port, method: "POST", path: path + Self.queryString(query), headers: h, body: body, timeout: nil) { data in
                if failed { errorBody += data; return }
                pending += data
                while let nl = pending.firstIndex(of: 0x0A) {
                    let line = Array(pending[..<nl])
                    pending.removeFirst(nl + 1)
                    if let v = try? JSONParser.parse(bytes: line) { onEvent(v) }
                }
            }
        } catch {
            throw CLIError("cannot reach daemon at \(paths.baseURL): \(error)")
        }
        if head.status >= 400 {
            _ = try Self.decode(head.status, pending + errorBody, url: paths.baseURL)
        }
        failed = true
    }

    static func queryString(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }
}

/// Reason phrases for the statuses the daemon and servers answer.
enum HTTPStatus {
    static func reason(_ code: Int) -> String {
        switch code {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 413: return "Content Too Large"
        case 422: return "Unprocessable Content"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Error"
        }
    }
}
