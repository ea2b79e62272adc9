import Foundation
import Pixeltable

/// How media files and the URLs clients see map onto each other: `/media/{path}` serves the
/// files under the home's `media/`, `tmp/` and `file_cache/` (the path is relative to the home,
/// so a stored file is `/media/media/<table>/…`, as in Pixeltable), and media values in responses
/// become absolute URLs to it.
struct MediaLinks: Sendable {
    /// The media files of the catalog the routes serve.
    let store: MediaStore
    /// `http://host:port[/prefix]`, from the request the response answers.
    let base: String
    /// Signs the URLs of an authenticated service (`?exp=…&sig=…`), so they load without headers.
    var signer: MediaURLSigner? = nil

    var home: HomeDirectory { store.home }

    /// The real path of a `/media/` request's file, or `nil` (404) for anything outside the
    /// three directories: `%2e%2e`, `%2f` and NUL are decoded first, then `..` and symbolic
    /// links are resolved, so no spelling reaches the database or the rest of the disk.
    static func resolve(rawPath: Substring, home: HomeDirectory) -> String? {
        guard let decoded = percentDecoded(rawPath), !decoded.utf8.contains(0), !decoded.isEmpty else { return nil }
        guard let real = realPath(home.path + "/" + decoded) else { return nil }
        for dir in [home.mediaDirectory, home.tmpDirectory, home.fileCacheDirectory] {
            guard let root = realPath(dir) else { continue }
            if real.hasPrefix(root + "/") { return real }
        }
        return nil
    }

    /// Whether an opened file's real path is still inside the servable directories.
    static func isServable(_ real: String, home: HomeDirectory) -> Bool {
        [home.mediaDirectory, home.tmpDirectory, home.fileCacheDirectory].contains { dir in
            guard let root = realPath(dir) else { return false }
            return real.hasPrefix(root + "/")
        }
    }

    static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    /// `%XX` decoding of a URL path; `nil` for a malformed escape or non-UTF-8 bytes.
    static func percentDecoded(_ s: Substring) -> String? {
        var out: [UInt8] = []
        var it = s.utf8.makeIterator()
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x37
            case 0x61...0x66: return c - 0x57
            default: return nil
            }
        }
        while let c = it.next() {
            if c == UInt8(ascii: "%") {
                guard let a = it.next(), let b = it.next(), let h = hex(a), let l = hex(b) else { return nil }
                out.append(h << 4 | l)
            } else {
                out.append(c)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// The URL a response gives for a media value: a file under the home's servable directories
    /// becomes `base/media/<path from the home>`; anything else (a file the user referenced, a
    /// remote URL) is returned as stored.
    func url(for value: String) -> String {
        guard let ref = try? MediaReference(parsing: value), let path = ref.localPath else { return value }
        for dir in [home.mediaDirectory, home.tmpDirectory, home.fileCacheDirectory] where path.hasPrefix(dir + "/") {
            let encoded = Self.encodePath(String(path.dropFirst(home.path.count + 1)))
            guard let signer else { return base + "/media/" + encoded }
            return base + "/media/" + encoded + "?" + signer.query(forEncodedPath: encoded)
        }
        return value
    }

    /// A value as a response carries it: media as URL strings.
    func value(_ v: Value) -> Value {
        switch v {
        case .media(let s): return .string(url(for: s))
        default: return v
        }
    }

    /// A row with media as URL strings.
    func row(_ r: ResultRow) -> ResultRow {
        ResultRow(columns: r.columns, values: r.values.map(value))
    }

    private static let unreserved: Set<UInt8> = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/".utf8)

    static func encodePath(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if unreserved.contains(b) { out.unicodeScalars.append(Unicode.Scalar(b)) } else { out += String(format: "%%%02X", b) }
        }
        return out
    }
}
