import Foundation

/// Why a media value given for a column cannot be stored.
struct MediaInputError: Error, Sendable {
    var code: PixeltableError.Code
    var message: String
}

extension MediaStore {
    /// Checks a value written to a media column and returns the form stored: a local file must
    /// exist (and, for an Image column, be a complete image in a format pxt decodes), a remote
    /// file is fetched into the file cache and checked the same way. Local files are referenced
    /// where they are, as their `file://` URL; nothing is copied.
    ///
    /// - Parameter baseDirectory: What relative paths are relative to (the caller's working
    ///   directory); the process's by default.
    func checkInput(_ value: Value, type: ColumnType, baseDirectory: String?) throws(MediaInputError) -> Value {
        let text: String
        switch value {
        case .null: return value
        case .image(let i):
            // An image handed over in memory (the Swift API) is stored as a file by the write.
            guard type.kind == .image else { throw MediaInputError(code: .typeMismatch, message: "an Image value cannot be stored in a \(type.kind.rawValue) column") }
            _ = i
            return value
        case .media(let s), .string(let s): text = s
        default: return value
        }
        let ref: MediaReference
        do { ref = try MediaReference(parsing: text, baseDirectory: baseDirectory) } catch {
            throw MediaInputError(code: .invalidDataFormat, message: "\(error.message): \(PythonRepr.string(text))")
        }
        let local: String
        switch ref {
        case .file(let p):
            guard let info = FileInfo.of(path: p) else { throw MediaInputError(code: .invalidDataFormat, message: "file not found: '\(p)'") }
            guard info.isRegular else { throw MediaInputError(code: .invalidDataFormat, message: "not a regular file: '\(p)'") }
            local = p
        case .remote(let url):
            do { local = try remote.fetchBlocking(url) } catch {
                throw MediaInputError(code: error.isRetryable ? .providerError : .invalidDataFormat, message: error.description)
            }
        }
        if type.kind == .image {
            let shown = ref.localPath ?? ref.url
            do {
                let h = try ImageCodec.probe(file: local)
                guard h.isComplete else { throw MediaInputError(code: .invalidDataFormat, message: "image file is truncated: '\(shown)'") }
            } catch let e as MediaInputError {
                throw e
            } catch let e as ImageCodecError {
                let what = e.kind == .unidentified ? "not a valid image: cannot identify image file" : "not a valid image: \(e.message)"
                throw MediaInputError(code: .invalidDataFormat, message: "\(what): '\(shown)'")
            } catch {
                throw MediaInputError(code: .invalidDataFormat, message: "\(error)")
            }
        }
        return .media(ref.url)
    }

    /// Downloads, concurrently, the remote files that rows name in media columns, so that
    /// checking them afterwards finds them cached. Failures are left for the check to report.
    func prefetch(_ rows: [[String: Value]], columns: [ColumnInfo]) async {
        var urls: Set<String> = []
        for row in rows {
            for c in columns {
                guard let v = row[c.name], let s = v.stringValue ?? (v.json.stringValue) else { continue }
                let lower = s.prefix(8).lowercased()
                if lower.hasPrefix("http://") || lower.hasPrefix("https://") { urls.insert(s) }
            }
        }
        if urls.isEmpty { return }
        let cache = remote
        await withTaskGroup(of: Void.self) { group in
            for u in urls { group.addTask { _ = try? await cache.fetch(u) } }
        }
    }
}
