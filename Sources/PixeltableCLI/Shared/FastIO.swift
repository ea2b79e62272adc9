import Foundation

/// Plain POSIX reads and environment access for the client's start-up path: each `pxt` command
/// is a new process, and Foundation's higher-level APIs cost more to warm up than the command
/// itself takes.
enum FastIO {
    /// The whole file, or `nil` if it cannot be read.
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
            if n > 0 {
                out += chunk[0..<n]
            } else if n == 0 {
                return out
            } else if errno != EINTR {
                return nil
            }
        }
    }

    /// The file as text with surrounding whitespace removed.
    static func text(_ path: String) -> String? {
        read(path).map { String(decoding: $0, as: UTF8.self).trimmedASCII }
    }

    /// The process environment, read from `environ` directly.
    static var environment: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }
}

extension StringProtocol {
    /// The text without leading and trailing ASCII spaces, tabs and line breaks.
    var trimmedASCII: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
