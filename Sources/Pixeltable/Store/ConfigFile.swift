import Foundation
import Synchronization

/// Pixeltable's config file: `$PIXELTABLE_CONFIG`, else `<home>/config.toml`, TOML with one
/// table per section (`[openai] api_key = "…"`). A setting in the environment
/// (`OPENAI_API_KEY`, section and key upper-cased) wins over the file.
public enum ConfigFile {
    /// The config file in effect for `home`.
    public static func path(home: HomeDirectory, environment env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        env["PIXELTABLE_CONFIG"].flatMap { $0.isEmpty ? nil : HomeDirectory.absolute($0) } ?? home.configFile
    }

    /// Section → key → value from the file (empty when there is none); an unreadable file is an
    /// error naming it.
    public static func values(_ path: String) throws(PixeltableError) -> [String: [String: TOMLValue]] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PixeltableError(.invalidConfiguration, "Could not read config file: \(path)")
        }
        let root: TOMLTable
        do { root = try TOMLParser.parse(text, file: path) } catch {
            throw PixeltableError(.invalidConfiguration, "Could not read config file: \(path) (\(error.description))")
        }
        var out: [String: [String: TOMLValue]] = [:]
        for (section, node) in root.entries {
            guard case .table(let t) = node.value else { continue }
            for (k, v) in t.entries { out[section, default: [:]][k] = v.value }
        }
        return out
    }

    /// Parsed files by path and modification time: functions read settings per batch.
    private static let parsed = Mutex<[String: (Double, [String: [String: TOMLValue]])]>([:])

    /// A string setting: the environment's `SECTION_KEY`, else the file's `[section] key`.
    public static func setting(_ section: String, _ key: String, home: HomeDirectory, environment env: [String: String]) -> String? {
        if let v = env["\(section)_\(key)".uppercased()], !v.isEmpty { return v }
        let file = path(home: home, environment: env)
        guard let info = FileInfo.of(path: file) else { return nil }
        let values: [String: [String: TOMLValue]]
        if let hit = parsed.withLock({ $0[file] }), hit.0 == info.modified {
            values = hit.1
        } else {
            guard let v = try? Self.values(file) else { return nil }
            parsed.withLock { $0[file] = (info.modified, v) }
            values = v
        }
        if case .string(let s)? = values[section]?[key] { return s }
        return nil
    }
}
