import Foundation
import Pixeltable

/// Where a daemon for one home and port keeps its files.
struct DaemonPaths: Sendable {
    let home: HomeDirectory
    let port: Int

    /// `PXT_PORT`, default 22089.
    static func port(environment env: [String: String] = FastIO.environment) throws -> Int {
        guard let raw = env["PXT_PORT"], !raw.isEmpty else { return 22089 }
        guard let p = Int(raw.trimmedASCII), p > 0, p < 65536 else {
            throw CLIError("PXT_PORT must be an integer port; got '\(raw)'")
        }
        return p
    }

    var pidFile: String { home.path + "/pxt-daemon-\(port).pid" }
    var logFile: String { home.logsDirectory + "/pxt-daemon-\(port).log" }
    /// The per-home secret every request carries; readable by its owner only.
    var secretFile: String { home.path + "/pxt-daemon.secret" }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The secret, created (mode 0600) if it does not exist yet.
    func secret() throws -> String {
        if let s = FastIO.text(secretFile), s.count >= 32 {
            return s
        }
        try home.create()
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let s = bytes.map { String(format: "%02x", $0) }.joined()
        // Created with owner-only permissions from the start, then moved into place atomically,
        // so another user never sees the secret and two clients never see half a file.
        let tmp = secretFile + ".\(getpid()).tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CLIError("cannot create \(secretFile): \(String(cString: strerror(errno)))") }
        _ = s.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        if link(tmp, secretFile) != 0 {
            // Another client won the race: use its secret.
            unlink(tmp)
            if let data = FileManager.default.contents(atPath: secretFile), let other = String(data: data, encoding: .utf8) {
                return other.trimmedASCII
            }
            throw CLIError("cannot create \(secretFile)")
        }
        unlink(tmp)
        return s
    }

    /// The pid recorded in the pidfile.
    func recordedPID() -> Int32? {
        guard let s = FastIO.text(pidFile) else { return nil }
        return Int32(s)
    }
}

/// A client-side failure: printed as `pxt: message`, exit 1 (or the given code).
struct CLIError: Error, Sendable {
    var message: String
    var exitCode: Int32

    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }
}
