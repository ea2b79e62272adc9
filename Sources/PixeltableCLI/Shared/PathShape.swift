/// The shape rules of paths typed at the command line, checked by the client before anything is
/// sent (exit 2) and again by the daemon (422), with Pixeltable's messages.
enum PathShape {
    /// The problem with `path`'s shape, or `nil` when it is fine.
    static func problem(_ path: String) -> String? {
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "pxt paths must not contain control characters; got \(pythonRepr(path))"
        }
        if path == "/" || path.isEmpty { return nil }
        if path.hasSuffix("/") { return "pxt paths must not end with '/'; got '\(path)'" }
        if path.contains("//") { return "pxt paths must not contain empty components ('//'); got '\(path)'" }
        for comp in path.split(separator: "/") where comp != "." && comp != ".." && comp.contains(".") {
            return "pxt paths use '/' as the separator; got '\(path)'"
        }
        return nil
    }

    /// Resolves `path` against the working directory `cwd` (slash form, `""` for the root):
    /// a leading `/` is absolute; `.` and `..` are resolved, clamping at the root.
    static func resolve(_ path: String, cwd: String?) -> String {
        var parts: [String] = []
        if !path.hasPrefix("/"), let cwd, !cwd.isEmpty {
            parts = cwd.split(separator: "/").map(String.init)
        }
        for comp in path.split(separator: "/") {
            switch comp {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(String(comp))
            }
        }
        return parts.joined(separator: "/")
    }

    /// How paths are printed: local paths with a leading `/`.
    static func display(_ path: String) -> String {
        path.hasPrefix("/") ? path : "/" + path
    }

    static func pythonRepr(_ s: String) -> String {
        var out = "'"
        for u in s.unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "'": out += "\\'"
            case "\\": out += "\\\\"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    out += "\\x" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "'"
    }
}
