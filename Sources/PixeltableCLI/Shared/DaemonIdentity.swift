import Foundation
import Pixeltable

/// What makes a daemon the right one for a client: same build, same binary, same home, same
/// config file, same `PIXELTABLE_*` environment. A client finding a daemon with another
/// identity replaces it.
struct DaemonIdentity: Sendable, Equatable {
    var version: String
    var binaryPath: String
    var home: String
    var configFile: String
    /// `PIXELTABLE_*` variables, secrets redacted to `sha256:<16 hex>`.
    var environment: [String: String]

    /// The identity of this process for `home`.
    static func current(home: HomeDirectory, environment env: [String: String] = FastIO.environment) -> DaemonIdentity {
        var vars: [String: String] = [:]
        for (k, v) in env where k.hasPrefix("PIXELTABLE_") && !v.isEmpty {
            vars[k] = isSensitive(k) ? "sha256:" + String(SHA256.hex(Array(v.utf8)).prefix(16)) : v
        }
        // The spawner always passes the resolved home, so a client relying on the default
        // home must count it too.
        vars["PIXELTABLE_HOME"] = home.path
        let config = env["PIXELTABLE_CONFIG"].flatMap { $0.isEmpty ? nil : HomeDirectory.absolute($0) } ?? home.configFile
        return DaemonIdentity(version: PxtVersion.current, binaryPath: executablePath(), home: home.path, configFile: config, environment: vars)
    }

    static func isSensitive(_ name: String) -> Bool {
        let n = name.uppercased()
        return ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CONNECT_STR"].contains { n.contains($0) }
    }

    /// The path of the running `pxt` binary.
    static func executablePath() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        if n > 0 { return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return CommandLine.arguments.first.map { HomeDirectory.absolute($0) } ?? "pxt"
    }

    var json: JSONObject {
        var o = JSONObject()
        o["pxt_version"] = .string(version)
        o["pxt_install_dir"] = .string((binaryPath as NSString).deletingLastPathComponent)
        o["binary_path"] = .string(binaryPath)
        o["pixeltable_home"] = .string(home)
        o["pixeltable_config_file"] = .string(configFile)
        o["pixeltable_env"] = .object(JSONObject(environment.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
        return o
    }

    init(version: String, binaryPath: String, home: String, configFile: String, environment: [String: String]) {
        self.version = version
        self.binaryPath = binaryPath
        self.home = home
        self.configFile = configFile
        self.environment = environment
    }

    /// Reads an identity from a health report; `nil` when keys are missing.
    init?(health: JSONValue) {
        guard let v = health["pxt_version"]?.stringValue, let b = health["binary_path"]?.stringValue, let h = health["pixeltable_home"]?.stringValue,
            let c = health["pixeltable_config_file"]?.stringValue, case .object(let env)? = health["pixeltable_env"]
        else { return nil }
        var e: [String: String] = [:]
        for (k, x) in env { e[k] = x.stringValue ?? "" }
        self.init(version: v, binaryPath: b, home: h, configFile: c, environment: e)
    }

    /// A short fingerprint of the identity, sent with every request so that the daemon can say
    /// at once when it is not the one the client wants (no separate health check).
    var token: String {
        var text = [version, binaryPath, home, configFile].joined(separator: "\n")
        for (k, v) in environment.sorted(by: { $0.key < $1.key }) { text += "\n\(k)=\(v)" }
        return String(SHA256.hex(Array(text.utf8)).prefix(24))
    }

    /// The keys that differ from `other`, for messages.
    func differences(_ other: DaemonIdentity) -> [String] {
        var out: [String] = []
        if version != other.version { out.append("pxt_version") }
        if binaryPath != other.binaryPath { out.append("binary_path") }
        if home != other.home { out.append("pixeltable_home") }
        if configFile != other.configFile { out.append("pixeltable_config_file") }
        if environment != other.environment { out.append("pixeltable_env") }
        return out
    }
}
