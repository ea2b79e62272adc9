/// A strict JSON parser over UTF-8 bytes that reports where it failed.
///
/// Written by hand because request bodies and stored JSON cells are on the hot path, and because
/// `JSONValue` must keep integers apart from doubles and booleans.
public struct JSONParser {
    /// A parse failure with its byte offset, line and column.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What was wrong.
        public var message: String
        /// The byte offset of the failure.
        public var offset: Int
        /// The 1-based line of the failure.
        public var line: Int
        /// The 1-based column of the failure.
        public var column: Int
        /// The object keys from the document's root to the value that failed, outermost first
        /// (`["meta", "tags"]`); empty when the failure is not inside an object's value.
        public var path: [String] = []
        /// Whether a string held bytes that are not UTF-8 (they are refused, not replaced).
        public var invalidUTF8 = false

        public var description: String { "\(message) at line \(line), column \(column)" }
    }

    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0
    private let maxDepth: Int

    private init(_ bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses one JSON document from `text`.
    public static func parse(_ text: String) throws(Failure) -> JSONValue {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses one JSON document from UTF-8 `bytes`.
    ///
    /// - Parameter maxDepth: The deepest nesting of arrays and objects accepted (the parser
    ///   recurses once per level, so this bounds its stack).
    public static func parse(bytes: [UInt8], maxDepth: Int = 512) throws(Failure) -> JSONValue {
        var p = JSONParser(bytes, maxDepth: maxDepth)
        p.skipSpace()
        let v = try p.value()
        p.skipSpace()
        if p.pos != p.bytes.count { throw p.fail("unexpected trailing characters") }
        return v
    }

    private mutating func invalidUTF8(at start: Int) -> Failure {
        pos = start - 1
        var f = fail("invalid UTF-8 in string")
        f.invalidUTF8 = true
        return f
    }

    private func fail(_ message: String) -> Failure {
        var line = 1
        var col = 1
        var i = 0
        while i < pos && i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") { line += 1; col = 1 } else { col += 1 }
            i += 1
        }
        return Failure(message: message, offset: pos, line: line, column: col)
    }

    private mutating func skipSpace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private mutating func value() throws(Failure) -> JSONValue {
        guard pos < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[pos])))'")
        }
    }

    private mutating func literal(_ word: String) throws(Failure) {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count else { throw fail("invalid literal") }
        for i in 0..<w.count where bytes[pos + i] != w[i] { throw fail("invalid literal") }
        pos += w.count
    }

    private mutating func object() throws(Failure) -> JSONValue {
        depth += 1
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
        defer { depth -= 1 }
        pos += 1
        var pairs: [(String, JSONValue)] = []
        skipSpace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(JSONObject()) }
        while true {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let k = try string()
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            pos += 1
            skipSpace()
            let v: JSONValue
            do { v = try value() } catch {
                var e = error
                e.path.insert(k, at: 0)
                throw e
            }
            pairs.append((k, v))
            skipSpace()
            guard pos < bytes.count else { throw fail("unexpected end of input") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; break }
            throw fail("expected ',' or '}'")
        }
        return .object(JSONObject(pairs))
    }

    private mutating func array() throws(Failure) -> JSONValue {
        depth += 1
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
        defer { depth -= 1 }
        pos += 1
        var items: [JSONValue] = []
        skipSpace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array([]) }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            guard pos < bytes.count else { throw fail("unexpected end of input") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; break }
            throw fail("expected ',' or ']'")
        }
        return .array(items)
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail("invalid unicode escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("invalid unicode escape")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    private mutating func string() throws(Failure) -> String {
        pos += 1
        let start = pos
        // Fast path: no escapes.
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                // Validated, not repaired: a byte that is not UTF-8 is an error, not U+FFFD.
                guard let s = String(validating: bytes[start..<pos], as: UTF8.self) else { throw invalidUTF8(at: start) }
                pos += 1
                return s
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            pos += 1
        }
        var out = Array(bytes[start..<pos])
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                guard let s = String(validating: out, as: UTF8.self) else { throw invalidUTF8(at: start) }
                pos += 1
                return s
            }
            if c < 0x20 { throw fail("control character in string") }
            if c == UInt8(ascii: "\\") {
                pos += 1
                guard pos < bytes.count else { break }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        guard pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u")
                        else { throw fail("unpaired surrogate in string") }
                        pos += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw fail("unpaired surrogate in string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw fail("unpaired surrogate in string")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid unicode escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw fail("invalid escape in string")
                }
                continue
            }
            out.append(c)
            pos += 1
        }
        throw fail("unterminated string")
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = pos
        var isDouble = false
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") else {
            throw fail("invalid number")
        }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
        } else {
            while pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            isDouble = true
            pos += 1
            let s = pos
            while pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") { pos += 1 }
            if s == pos { throw fail("invalid number") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            isDouble = true
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            let s = pos
            while pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") { pos += 1 }
            if s == pos { throw fail("invalid number") }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if !isDouble, let i = Int64(text) { return .int(i) }
        guard let d = Double(text) else { throw fail("invalid number") }
        return .double(d)
    }
}
