import Foundation
import Pixeltable
import Synchronization

/// What a running daemon reports about itself, and the requests it is serving.
final class DaemonInfo: Sendable {
    let pid: Int32
    let startedAt: Timestamp
    let identity: DaemonIdentity
    let port: Int
    private let inFlight = Mutex<(next: Int, requests: [Int: (method: String, path: String, started: Double)])>((0, [:]))

    init(identity: DaemonIdentity, port: Int) {
        pid = getpid()
        startedAt = .now
        self.identity = identity
        self.port = port
    }

    /// Records a request in flight until `end` is called with the returned token.
    func begin(_ method: String, _ path: String) -> Int {
        inFlight.withLock { s in
            s.next += 1
            s.requests[s.next] = (method, path, Date().timeIntervalSince1970)
            return s.next
        }
    }

    func end(_ token: Int) {
        _ = inFlight.withLock { $0.requests.removeValue(forKey: token) }
    }

    /// `{ok, service, pxt_version, pid, started_at, <identity>, in_flight, pixeltable_env}`.
    var health: JSONValue {
        var o = JSONObject()
        o["ok"] = true
        o["service"] = "pxt"
        o["pxt_version"] = .string(identity.version)
        o["pid"] = .int(Int64(pid))
        o["started_at"] = .string(startedAt.pythonISOFormat)
        for (k, v) in identity.json where k != "pxt_version" { o[k] = v }
        o["port"] = .int(Int64(port))
        let requests = inFlight.withLock { $0.requests.values.sorted { $0.started < $1.started } }
        o["in_flight"] = .array(requests.map { ["method": .string($0.method), "path": .string($0.path), "started_at": .double($0.started)] })
        return .object(o)
    }
}
