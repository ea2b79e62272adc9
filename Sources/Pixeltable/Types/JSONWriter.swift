/// Writes `JSONValue`s as text in the layouts users see from Pixeltable.
///
/// FastAPI responses are compact (`{"a":1}`); Python's `json.dumps` separates with `", "` and
/// `": "`; the CLI's `--json` output is `json.dumps(indent=2)`.
public struct JSONWriter: Sendable {
    /// How whitespace is laid out.
    public enum Style: Sendable {
        /// No whitespace: `{"a":1,"b":[1,2]}`.
        case compact
        /// Python's default separators: `{"a": 1, "b": [1, 2]}`.
        case spaced
        /// One item per line, indented by the given number of spaces.
        case pretty(indent: Int)
    }

    /// The layout.
    public var style: Style
    /// Escape every non-ASCII character as `\uXXXX`, as Python's `json.dumps` does by default.
    public var asciiOnly: Bool

    /// A writer with the given layout.
    public init(style: Style = .compact, asciiOnly: Bool = false) {
        self.style = style
        self.asciiOnly = asciiOnly
    }

    /// Compact output.
    public static let compact = JSONWriter(style: .compact)
    /// Python's `json.dumps(indent=2)`.
    public static let pretty = JSONWriter(style: .pretty(indent: 2))

    /// The text of `value`.
    public func string(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the UTF-8 text of `value` to `out`.
    public func write(_ value: JSONValue, into out: inout [UInt8]) {
        write(value, into: &out, level: 0)
    }

    private func newline(_ out: inout [UInt8], level: Int) {
        guard case .pretty(let indent) = style else { return }
        out.append(0x0A)
        for _ in 0..<(indent * level) { out.append(0x20) }
    }

    // Separators are appended byte by byte: returning them as arrays allocated one per key and
    // per item, which showed in the cost of every HTTP response.
    private func appendItemSeparator(_ out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        if case .spaced = style { out.append(0x20) }
    }

    private func appendKeySeparator(_ out: inout [UInt8]) {
        out.append(UInt8(ascii: ":"))
        if case .compact = style { return }
        out.append(0x20)
    }

    private func write(_ value: JSONValue, into out: inout [UInt8], level: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): Self.writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            if a.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { appendItemSeparator(&out) }
                newline(&out, level: level + 1)
                write(v, into: &out, level: level + 1)
            }
            newline(&out, level: level)
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            if o.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            for (i, p) in o.pairs.enumerated() {
                if i > 0 { appendItemSeparator(&out) }
                newline(&out, level: level + 1)
                writeString(p.key, into: &out)
                appendKeySeparator(&out)
                write(p.value, into: &out, level: level + 1)
            }
            newline(&out, level: level)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends a double in the shortest form that reads back the same; non-finite values
    /// have no JSON form and are written as `null`.
    static func writeDouble(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else { out.append(contentsOf: "null".utf8); return }
        out.append(contentsOf: d.description.utf8)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        if !asciiOnly {
            for c in s.utf8 {
                switch c {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
                case 0..<0x20: Self.appendUnicodeEscape(UInt16(c), into: &out)
                default: out.append(c)
                }
            }
        } else {
            for u in s.utf16 {
                switch u {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
                case 0x20..<0x7F: out.append(UInt8(u))
                default: Self.appendUnicodeEscape(u, into: &out)
                }
            }
        }
        out.append(0x22)
    }

    private static func appendUnicodeEscape(_ u: UInt16, into out: inout [UInt8]) {
        out.append(0x5C)
        out.append(UInt8(ascii: "u"))
        out.append(hexDigits[Int((u >> 12) & 0xF)])
        out.append(hexDigits[Int((u >> 8) & 0xF)])
        out.append(hexDigits[Int((u >> 4) & 0xF)])
        out.append(hexDigits[Int(u & 0xF)])
    }
}

extension JSONValue {
    /// Compact JSON text.
    public var jsonString: String { JSONWriter.compact.string(self) }
}
