import Foundation
import Pixeltable
import Synchronization

/// Whether the daemon still serves with the settings its callers expect.
///
/// A daemon keeps the environment it was started with. `PIXELTABLE_*` variables are part of its
/// identity, so a client with other values replaces it; settings such as `OPENAI_API_KEY` are not,
/// and a caller whose value differs from the daemon's (or that sets one the daemon lacks) gets a
/// 409 `STALE_CONFIG` naming them, instead of silently being served with other credentials. The
/// same holds when the config file is edited under a running daemon. Values travel and are
/// compared only as hashes, so no secret is ever echoed.
final class EnvironmentAgreement: Sendable {
    /// Request header carrying the caller's fingerprint: `NAME=hash` pairs joined by `,`.
    static let headerName = "X-Pxt-Env"

    /// Routes that answer whatever the environment: inspection that reads no credentials, and
    /// the commands a user runs to find out what is wrong.
    static let exemptPaths: Set<String> = [
        "/api/health", "/api/status", "/api/config", "/api/dirs", "/api/cwd", "/api/tables/history",
        "/api/tables/describe", "/api/columns", "/api/indexes", "/api/dashboard/tree",
    ]

    /// The daemon's own fingerprint, frozen at start.
    let fingerprint: [String: String]
    /// The config file in effect.
    let configFile: String

    private struct FileState {
        /// `(mtime, size)` when last read; `nil` when the file did not exist.
        var stamp: [Double]?
        /// Setting name → value hash as first read.
        var initial: [String: String]
        /// What the last read found: names whose value changed, or the reason it failed.
        var verdict: Result<[String], APIError>
    }

    private let file: Mutex<FileState>

    init(configFile: String, environment env: [String: String]) {
        self.configFile = configFile
        fingerprint = Self.fingerprint(of: env)
        let stamp = Self.stamp(configFile)
        // A file unreadable from the start is reported from the first request on.
        var initial: [String: String] = [:]
        var verdict: Result<[String], APIError> = .success([])
        do { initial = try Self.fileHashes(configFile) } catch { verdict = .failure(Self.unreadable(configFile)) }
        file = Mutex(FileState(stamp: stamp, initial: initial, verdict: verdict))
    }

    // MARK: fingerprints

    /// Whether `name` takes part in the comparison: `PIXELTABLE_VAR_*`, `PIXELTABLE_SECRET_*`,
    /// and every setting that can come from the environment.
    static func considered(_ name: String) -> Bool {
        name.hasPrefix("PIXELTABLE_VAR_") || name.hasPrefix("PIXELTABLE_SECRET_") || envSettable.contains(name)
    }

    private static let envSettable: Set<String> = Set(ConfigSettings.settings.filter { !$0.fileOnly }.map(\.envName))

    /// A value's hash, as compared and reported (never the value itself).
    static func hash(_ value: String) -> String { String(SHA256.hex(Array(value.utf8)).prefix(16)) }

    /// Name → hash of every considered, non-empty variable of `env`.
    static func fingerprint(of env: [String: String]) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in env where !v.isEmpty && considered(k) { out[k] = hash(v) }
        return out
    }

    /// The header value a client sends.
    static func header(_ fingerprint: [String: String]) -> String {
        fingerprint.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// Reads a header written by ``header(_:)``.
    static func parse(header: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in header.split(separator: ",") {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            out[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        return out
    }

    /// Names the caller sets that `daemon` lacks, and names bound to different values. A value
    /// the daemon has and the caller lacks is not a disagreement.
    static func disagreement(caller: [String: String], daemon: [String: String]) -> (missing: [String], different: [String]) {
        var missing: [String] = []
        var different: [String] = []
        for (name, h) in caller {
            guard let mine = daemon[name] else {
                missing.append(name)
                continue
            }
            if mine != h { different.append(name) }
        }
        return (missing.sorted(), different.sorted())
    }

    // MARK: the check

    /// Refuses a request whose caller disagrees with the daemon, or any request once the config
    /// file changed under the daemon; an unreadable config file refuses every request but health.
    func check(path: String, callerHeader: String?) throws(APIError) {
        if path == "/api/health" { return }
        let changed = try configFileChanges()
        if Self.exemptPaths.contains(path) { return }
        if !changed.isEmpty {
            throw APIError(
                409, "\(configFile) now has different values for: \(changed.joined(separator: ", ")).\nRun `pxt daemon restart` to serve with them.",
                code: "STALE_CONFIG")
        }
        guard let callerHeader else { return }
        let (missing, different) = Self.disagreement(caller: Self.parse(header: callerHeader), daemon: fingerprint)
        if missing.isEmpty && different.isEmpty { return }
        var parts: [String] = []
        if !missing.isEmpty { parts.append("set in your environment but not in this daemon's: \(missing.joined(separator: ", "))") }
        if !different.isEmpty { parts.append("bound to a different value here: \(different.joined(separator: ", "))") }
        throw APIError(409, parts.joined(separator: "; ") + ".\nRun `pxt daemon restart` to serve with your environment.", code: "STALE_CONFIG")
    }

    /// Names whose value in the config file differs from when the daemon started; re-reads the
    /// file only when its modification time or size changed.
    private func configFileChanges() throws(APIError) -> [String] {
        let now = Self.stamp(configFile)
        let verdict = file.withLock { s -> Result<[String], APIError> in
            if s.stamp == now { return s.verdict }
            s.stamp = now
            do {
                let current = try Self.fileHashes(configFile)
                let names = Set(current.keys).union(s.initial.keys).filter { current[$0] != s.initial[$0] }
                s.verdict = .success(names.sorted())
            } catch {
                s.verdict = .failure(Self.unreadable(configFile))
            }
            return s.verdict
        }
        return try verdict.get()
    }

    private static func unreadable(_ path: String) -> APIError {
        APIError(422, "Could not read config file: \(path)", code: "INVALID_CONFIGURATION")
    }

    private static func stamp(_ path: String) -> [Double]? {
        guard let a = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        let modified = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let size = (a[.size] as? UInt64).map(Double.init) ?? (a[.size] as? Int).map(Double.init) ?? -1
        return [modified, size]
    }

    /// Setting name → value hash for the settings in the config file. Settings are named as in
    /// the environment: `[openai] api_key` is `OPENAI_API_KEY`, and the database's `vars` and
    /// `secrets` are `PIXELTABLE_VAR_<KEY>` and `PIXELTABLE_SECRET_<KEY>`. Other tables (such
    /// as `[[service]]`) are not settings the daemon resolved, and editing them refuses nothing.
    private static func fileHashes(_ path: String) throws(PixeltableError) -> [String: String] {
        var out: [String: String] = [:]
        func visit(_ keys: [String], _ value: TOMLValue) {
            if case .table(let inner) = value {
                for (key, node) in inner.entries { visit(keys + [key], node.value) }
                return
            }
            let name = settingName(keys)
            if isSetting(name) { out[name] = hash(JSONWriter.compact.string(value.json)) }
        }
        for (section, values) in try ConfigFile.values(path) {
            for (key, value) in values { visit([section, key], value) }
        }
        return out
    }

    private static func settingName(_ keys: [String]) -> String {
        if keys.count == 4 && keys[0] == "pixeltable" && keys[1] == "database" {
            if keys[2] == "secrets" { return "PIXELTABLE_SECRET_" + keys[3].uppercased() }
            if keys[2] == "vars" { return "PIXELTABLE_VAR_" + keys[3].uppercased() }
        }
        return keys.joined(separator: "_").uppercased()
    }

    private static let settingNames: Set<String> = Set(ConfigSettings.settings.map(\.envName))

    private static func isSetting(_ name: String) -> Bool {
        name.hasPrefix("PIXELTABLE_VAR_") || name.hasPrefix("PIXELTABLE_SECRET_") || settingNames.contains(name)
    }
}
