import CPxtShims

/// What `stat` says of a file: size, modification time and kind.
public struct FileInfo: Sendable, Hashable {
    /// Size in bytes.
    public var size: Int
    /// Seconds of the modification time since the epoch.
    public var modifiedSeconds: Int
    /// Nanoseconds past `modifiedSeconds`.
    public var modifiedNanoseconds: Int
    /// A regular file.
    public var isRegular: Bool
    /// A directory.
    public var isDirectory: Bool

    init(_ c: pxt_file_info) {
        size = Int(c.size)
        modifiedSeconds = Int(c.mtime_sec)
        modifiedNanoseconds = Int(c.mtime_nsec)
        isRegular = c.is_regular != 0
        isDirectory = c.is_directory != 0
    }

    /// The file at `path` (links followed), or `nil` when there is none.
    public static func of(path: String) -> FileInfo? {
        var c = pxt_file_info()
        return pxt_stat(path, &c) == 0 ? FileInfo(c) : nil
    }

    /// The file open as `fd`.
    public static func of(descriptor fd: Int32) -> FileInfo? {
        var c = pxt_file_info()
        return pxt_fstat(fd, &c) == 0 ? FileInfo(c) : nil
    }

    /// The modification time in seconds, with its fraction.
    public var modified: Double { Double(modifiedSeconds) + Double(modifiedNanoseconds) / 1e9 }
}
