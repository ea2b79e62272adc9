import Foundation

/// The media files of one home: where stored, temporary and cached files go, how references
/// become local files, and which files a table or a table version owns.
///
/// Layout (Pixeltable's, reference §4.6): a file the engine writes for column `c` of table `t`
/// in version `v` is `media/<t>/<u[0:2]>/<u[0:4]>/<t>_<c>_<v>_<u><ext>` with `u` a random hex
/// id, so the files of a table are one directory and those of a version one glob. Uploads and
/// computed images are first written under `tmp/`; `file_cache/` holds remote files.
public final class MediaStore: Sendable {
    /// The home directory.
    public let home: HomeDirectory
    let remote: RemoteMediaCache

    /// The media store of `home`.
    public init(home: HomeDirectory) {
        self.home = home
        remote = RemoteMediaCache(directory: home.fileCacheDirectory)
    }

    // MARK: references

    /// The local file behind a reference, downloading a remote one into the file cache first.
    /// Blocks while downloading; use ``localFile(_:)-async`` from async code.
    func localFile(_ ref: MediaReference) throws(MediaFetchError) -> String {
        switch ref {
        case .file(let p): return p
        case .remote(let url): return try remote.fetchBlocking(url)
        }
    }

    /// The local file behind a reference, downloading a remote one into the file cache first.
    public func localFile(_ ref: MediaReference) async throws(PixeltableError) -> String {
        switch ref {
        case .file(let p): return p
        case .remote(let url):
            do { return try await remote.fetch(url) } catch {
                throw PixeltableError(error.isRetryable ? .providerError : .invalidDataFormat, error.description)
            }
        }
    }

    /// The local file of a stored cell value (its URL or path).
    public func localFile(forCell value: String) throws(PixeltableError) -> String {
        do {
            return try localFile(try MediaReference(parsing: value))
        } catch let e as MediaReferenceError {
            throw PixeltableError(.invalidDataFormat, e.message)
        } catch let e as MediaFetchError {
            throw PixeltableError(e.isRetryable ? .providerError : .invalidDataFormat, e.description)
        } catch {
            throw PixeltableError(.internalError, "\(error)")
        }
    }

    // MARK: places

    /// Whether `path` is inside the home's `tmp/`.
    func isTemporary(_ path: String) -> Bool { path.hasPrefix(home.tmpDirectory + "/") }

    /// Whether `path` is inside the home's `media/`, `tmp/` or `file_cache/`: the files `/media`
    /// serves.
    public func isServable(_ path: String) -> Bool {
        [home.mediaDirectory, home.tmpDirectory, home.fileCacheDirectory].contains { path.hasPrefix($0 + "/") }
    }

    /// A new, unused path under `tmp/` with the given extension (with its dot).
    public func temporaryPath(extension ext: String) -> String {
        home.tmpDirectory + "/" + Self.randomHex() + ext
    }

    /// The directory holding a table's stored media.
    func tableDirectory(_ tableID: String) -> String { home.mediaDirectory + "/" + tableID }

    /// Where the engine stores a file it writes for a column in a version.
    func storedPath(tableID: String, columnID: Int, version: Int, id: String, extension ext: String) -> String {
        let a = id.prefix(2), b = id.prefix(4)
        return "\(home.mediaDirectory)/\(tableID)/\(a)/\(b)/\(tableID)_\(columnID)_\(version)_\(id)\(ext)"
    }

    static func randomHex() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    // MARK: writing

    /// Writes `bytes` to a new file at `path` and, unless `durable` is false, flushes them to disk
    /// (a stored file must survive a power loss once its row is acknowledged; a temporary copy
    /// for a response need not).
    static func writeDurably(_ bytes: [UInt8], to path: String, durable: Bool = true) throws(PixeltableError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PixeltableError(.storeUnavailable, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let ok = bytes.withUnsafeBytes { FileDescriptor.writeAll(fd, $0) }
        guard ok, !durable || fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw PixeltableError(.storeUnavailable, "cannot write \(path): \(reason)")
        }
    }

    /// Writes an in-memory image to `tmp/` for a response or a query result: WebP when it has
    /// alpha, JPEG otherwise, as Pixeltable flushes images. Returns its `file://` URL.
    public func temporaryFile(for image: PixelImage) throws(PixeltableError) -> String {
        let format = image.temporaryFormat
        let bytes: [UInt8]
        do { bytes = try ImageCodec.encode(image, as: format) } catch { throw PixeltableError(.internalError, "cannot encode an image: \(error.message)") }
        let path = temporaryPath(extension: format.fileExtension)
        try Self.writeDurably(bytes, to: path, durable: false)
        return MediaReference.file(path).url
    }

    /// Links `source` to `target` (creating its directories), or copies it where a link is not
    /// possible; an existing target (the same write run again) is kept. Then flushes the
    /// directory entry, so the stored file is durable when the transaction commits.
    static func place(_ source: String, at target: String) throws(PixeltableError) {
        let dir = (target as NSString).deletingLastPathComponent
        if access(dir, F_OK) != 0 {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw PixeltableError(.storeUnavailable, "cannot create \(dir): \(error.localizedDescription)")
            }
        }
        if link(source, target) != 0 {
            switch errno {
            case EEXIST: return
            case EXDEV, EPERM, EMLINK:
                do {
                    try FileManager.default.copyItem(atPath: source, toPath: target)
                } catch {
                    throw PixeltableError(.storeUnavailable, "cannot copy \(source) to \(target): \(error.localizedDescription)")
                }
            default:
                throw PixeltableError(.storeUnavailable, "cannot store \(source) as \(target): \(String(cString: strerror(errno)))")
            }
        }
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    // MARK: removing

    /// Removes every stored file of a table (it was dropped).
    func removeFiles(tableID: String) {
        try? FileManager.default.removeItem(atPath: tableDirectory(tableID))
    }

    /// Removes the stored files a table version wrote (it was reverted). Returns how many.
    @discardableResult
    func removeFiles(tableID: String, version: Int) -> Int {
        let root = tableDirectory(tableID)
        let marker = "_\(version)_"
        let prefix = tableID + "_"
        guard let walker = FileManager.default.enumerator(atPath: root) else { return 0 }
        var removed = 0
        while let rel = walker.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            guard name.hasPrefix(prefix) else { continue }
            // <table>_<column>_<version>_<id><ext>
            let rest = name.dropFirst(prefix.count)
            guard let us = rest.firstIndex(of: "_"), rest[us...].hasPrefix(marker) else { continue }
            if unlink(root + "/" + rel) == 0 { removed += 1 }
        }
        return removed
    }

    /// Removes temporary files older than `age` seconds (left behind by a crash); returns how many.
    @discardableResult
    public func removeStaleTemporaryFiles(olderThan age: TimeInterval = 86_400) -> Int {
        let dir = home.tmpDirectory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return 0 }
        let cutoff = Date().timeIntervalSince1970 - age
        var removed = 0
        for n in names {
            let p = dir + "/" + n
            guard let info = FileInfo.of(path: p), info.isRegular, info.modified < cutoff else { continue }
            if unlink(p) == 0 { removed += 1 }
        }
        return removed
    }
}

extension MediaStore {
    /// A value as results carry it: an in-memory image is written to `tmp/` and becomes its
    /// `file://` URL (what `/media` serves); an unchanged image file is its file's URL.
    public func materialize(_ v: Value) -> Value {
        guard case .image(let img) = v else { return v }
        if let p = img.path { return .media(MediaReference.file(p).url) }
        guard let pixels = try? img.pixels(), let url = try? temporaryFile(for: pixels) else { return .null }
        return .media(url)
    }
}
