import Foundation

/// The Pixeltable home directory and the files in it (DESIGN.md §4).
public struct HomeDirectory: Sendable, Hashable {
    /// The absolute path of the home.
    public let path: String

    /// The home at `path`, or `$PIXELTABLE_HOME`, or `~/.pixeltable`.
    public init(path: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let raw = path ?? environment["PIXELTABLE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "~/.pixeltable"
        self.path = Self.absolute(raw, environment: environment)
    }

    /// Expands `~` and makes `p` absolute against the working directory, without following links.
    public static func absolute(_ p: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        var s = p
        if s == "~" || s.hasPrefix("~/") {
            let home = environment["HOME"] ?? NSHomeDirectory()
            s = home + s.dropFirst()
        }
        if !s.hasPrefix("/") { s = FileManager.default.currentDirectoryPath + "/" + s }
        // Resolve `.` and `..` by hand: cheaper than URL, and links are left alone.
        var parts: [Substring] = []
        for comp in s.split(separator: "/", omittingEmptySubsequences: true) {
            if comp == "." { continue }
            if comp == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(comp)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The SQLite database holding the catalog and the data.
    public var databasePath: String { path + "/pixeltable.db" }
    /// Stored media files.
    public var mediaDirectory: String { path + "/media" }
    /// Temporary files (uploads in flight).
    public var tmpDirectory: String { path + "/tmp" }
    /// Cached remote files.
    public var fileCacheDirectory: String { path + "/file_cache" }
    /// Logs.
    public var logsDirectory: String { path + "/logs" }
    /// The user configuration file.
    public var configFile: String { path + "/config.toml" }

    /// Creates the home and its subdirectories if needed.
    public func create() throws(PixeltableError) {
        let fm = FileManager.default
        for dir in [path, mediaDirectory, tmpDirectory, fileCacheDirectory, logsDirectory] {
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw PixeltableError(.storageNotFound, "cannot create directory \(dir): \(error.localizedDescription)")
            }
        }
    }
}
