/// Where a media cell's file is: a local file, or an `http(s)://` URL fetched on first use.
///
/// Cells store the reference as a URL: a local file as its `file://` URL (percent-encoded), a
/// remote file as the URL it was given.
public enum MediaReference: Sendable, Hashable, CustomStringConvertible {
    /// An absolute local path.
    case file(String)
    /// An `http://` or `https://` URL.
    case remote(String)

    /// Parses a media value as users write it: an absolute or relative path (relative to
    /// `baseDirectory`, else the working directory), a `file://` URL, or an `http(s)://` URL.
    ///
    /// - Throws: A message such as `unsupported URL scheme 's3'`.
    public init(parsing text: String, baseDirectory: String? = nil) throws(MediaReferenceError) {
        if text.isEmpty { throw MediaReferenceError("empty path") }
        if text.utf8.contains(0) { throw MediaReferenceError("path contains a NUL character") }
        let lower = text.prefix(8).lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard text.count > (lower.hasPrefix("https") ? 8 : 7) else { throw MediaReferenceError("URL has no host: '\(text)'") }
            self = .remote(text)
            return
        }
        if lower.hasPrefix("file:") {
            var rest = Substring(text.dropFirst(5))
            if rest.hasPrefix("//") {
                rest = rest.dropFirst(2)
                // file://localhost/p and file:///p name the same file; other hosts are not local.
                if let slash = rest.firstIndex(of: "/") {
                    let host = rest[..<slash]
                    guard host.isEmpty || host.lowercased() == "localhost" else {
                        throw MediaReferenceError("file URL names a remote host '\(host)': '\(text)'")
                    }
                    rest = rest[slash...]
                } else {
                    throw MediaReferenceError("file URL has no path: '\(text)'")
                }
            }
            guard rest.hasPrefix("/") else { throw MediaReferenceError("file URL must hold an absolute path: '\(text)'") }
            guard let decoded = PercentCoding.decode(String(rest)) else { throw MediaReferenceError("file URL has a malformed escape: '\(text)'") }
            if decoded.utf8.contains(0) { throw MediaReferenceError("path contains a NUL character") }
            self = .file(HomeDirectory.absolute(decoded))
            return
        }
        if let colon = text.firstIndex(of: ":"), let scheme = Optional(text[..<colon]), scheme.count > 1,
            scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }), text[colon...].hasPrefix("://")
        {
            throw MediaReferenceError("unsupported URL scheme '\(scheme)'; use a local path, a file:// URL or an http(s):// URL")
        }
        if text.hasPrefix("/") {
            self = .file(HomeDirectory.absolute(text))
        } else {
            let base = baseDirectory ?? HomeDirectory.absolute(".")
            self = .file(HomeDirectory.absolute(base + "/" + text))
        }
    }

    /// The form stored in cells and returned to clients.
    public var url: String {
        switch self {
        case .file(let p): return "file://" + PercentCoding.encodePath(p)
        case .remote(let u): return u
        }
    }

    /// The local path, for a local file.
    public var localPath: String? {
        if case .file(let p) = self { return p }
        return nil
    }

    public var description: String { url }
}

/// Why a media value is not a usable reference.
public struct MediaReferenceError: Error, Sendable, CustomStringConvertible {
    /// What was wrong.
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// RFC 3986 percent-encoding of paths, as Python's `Path.as_uri()` writes them.
enum PercentCoding {
    private static let keep: [Bool] = {
        var t = [Bool](repeating: false, count: 256)
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/!$&'()*+,;=:@".utf8 { t[Int(c)] = true }
        return t
    }()
    private static let hex = Array("0123456789ABCDEF".utf8)

    static func encodePath(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if keep[Int(b)] {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes; `nil` for a malformed escape or bytes that are not UTF-8.
    static func decode(_ s: String) -> String? {
        guard s.utf8.contains(UInt8(ascii: "%")) else { return s }
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x37
            case 0x61...0x66: return c - 0x57
            default: return nil
            }
        }
        while let c = it.first {
            it = it.dropFirst()
            if c == UInt8(ascii: "%") {
                guard it.count >= 2, let h = value(it[it.startIndex]), let l = value(it[it.startIndex + 1]) else { return nil }
                out.append(h << 4 | l)
                it = it.dropFirst(2)
            } else {
                out.append(c)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
