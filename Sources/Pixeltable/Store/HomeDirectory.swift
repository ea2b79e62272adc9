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

    /// Creates the home and its subdirectories if needed, readable by their owner only: every
    /// table is in them.
    ///
    /// A home that other users can read (made by an earlier version, or by hand) is tightened to
    /// 0700, and the catalog database and its `-wal` and `-shm` files to 0600, with a warning on
    /// standard error for each file (they hold the data; the directory only names it). A new
    /// database file is created 0600 before SQLite opens it; SQLite gives the `-wal` and `-shm`
    /// files the database's mode.
    public func create() throws(PixeltableError) {
        let fm = FileManager.default
        for dir in [path, mediaDirectory, tmpDirectory, fileCacheDirectory, logsDirectory] {
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw PixeltableError(.storageNotFound, "cannot create directory \(dir): \(error.localizedDescription)")
            }
        }
        Self.restrict(path, to: 0o700, warn: false)
        let fd = Glibc.open(databasePath, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 { _ = Glibc.close(fd) }
        for file in [databasePath, databasePath + "-wal", databasePath + "-shm"] { Self.restrict(file, to: 0o600) }
    }

    /// Removes the group and other bits of `path` (which must be the owner's), saying so when
    /// `warn`.
    static func restrict(_ path: String, to mode: mode_t, warn: Bool = true) {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & 0o077 != 0, st.st_uid == geteuid() else { return }
        if chmod(path, mode) == 0, warn {
            let line = "pxt: warning: \(path) was readable by other users (mode \(String(st.st_mode & 0o777, radix: 8))); changed to \(String(mode, radix: 8))\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
