import Foundation

/// A cell value: what a column, a parameter or an expression holds.
public enum Value: Sendable, Hashable {
    case null
    case string(String)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case timestamp(Timestamp)
    case date(DateValue)
    case uuid(UUID)
    case json(JSONValue)
    case array(NDArray)
    case binary([UInt8])
    /// A media file, referenced by URL (`file://…`, `http://…`) or local path.
    case media(String)
    /// An image in memory or a not-yet-decoded image file, as image functions take and return
    /// them; written to a file when stored or returned.
    case image(ImageValue)

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        if case .json(.null) = self { return true }
        return false
    }

    /// The string payload of a string or media value.
    public var stringValue: String? {
        switch self {
        case .string(let s), .media(let s): return s
        default: return nil
        }
    }

    /// The integer payload.
    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    /// The numeric payload as a double (Int, Float and Bool).
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// The boolean payload.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The natural type of this value (nullable only for `null`), used when no column type is known.
    public var inferredType: ColumnType {
        switch self {
        case .null: return ColumnType(.json)
        case .string: return ColumnType(.string, nullable: false)
        case .int: return ColumnType(.int, nullable: false)
        case .float: return ColumnType(.float, nullable: false)
        case .bool: return ColumnType(.bool, nullable: false)
        case .timestamp: return ColumnType(.timestamp, nullable: false)
        case .date: return ColumnType(.date, nullable: false)
        case .uuid: return ColumnType(.uuid, nullable: false)
        case .json: return ColumnType(.json, nullable: false)
        case .array(let a): return ColumnType(.array, nullable: false, shape: a.shape.map { $0 }, dtype: a.dtype)
        case .binary: return ColumnType(.binary, nullable: false)
        case .media, .image: return ColumnType(.image, nullable: false)
        }
    }

    /// The value on the JSON wire (reference §1.4): timestamps and dates as ISO strings, UUIDs as
    /// strings, arrays as nested lists, media as URL strings.
    public var json: JSONValue {
        switch self {
        case .null: return .null
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .float(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .timestamp(let t): return .string(t.iso8601)
        case .date(let d): return .string(d.description)
        case .uuid(let u): return .string(u.uuidString.lowercased())
        case .json(let j): return j
        case .array(let a): return a.json
        case .binary(let b): return .string(String(decoding: b, as: UTF8.self))
        case .media(let m): return .string(m)
        case .image(let i): return .string(i.path.map { MediaReference.file($0).url } ?? i.description)
        }
    }

    /// A value read from JSON without a declared type.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .array, .object: self = .json(json)
        }
    }

    /// What this value is, for error messages: `an Int`, `a String`.
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .string: return "a String"
        case .int: return "an Int"
        case .float: return "a Float"
        case .bool: return "a Bool"
        case .timestamp: return "a Timestamp"
        case .date: return "a Date"
        case .uuid: return "a UUID"
        case .json(let j): return "a JSON \(j.kindName)"
        case .array: return "an Array"
        case .binary: return "a Binary"
        case .media: return "a media reference"
        case .image: return "an Image"
        }
    }

    /// Python's `str()` of the value, as `pxt rows` prints cells: `None` is empty, booleans are
    /// `True`/`False`, JSON objects print as Python dicts.
    public var displayString: String {
        switch self {
        case .null: return ""
        case .string(let s), .media(let s): return s
        case .int(let i): return String(i)
        case .float(let d): return PythonRepr.float(d)
        case .bool(let b): return b ? "True" : "False"
        case .timestamp(let t):
            let c = t.components
            var s = String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute, c.second)
            if c.microsecond != 0 { s += String(format: ".%06d", c.microsecond) }
            return s + "+00:00"
        case .date(let d): return d.description
        case .uuid(let u): return u.uuidString.lowercased()
        case .json(let j):
            if case .string(let s) = j { return s }
            return PythonRepr.json(j)
        case .array(let a): return PythonRepr.json(a.json)
        case .binary(let b): return PythonRepr.bytes(b)
        case .image(let i): return i.description
        }
    }
}

extension Value: ExpressibleByNilLiteral, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// Python `repr()` of JSON-like values, for the CLI's text output (an observable Pixeltable quirk).
enum PythonRepr {
    static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return d.description
    }

    static func string(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for ch in s.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(ch) == quote {
                    out += "\\" + String(quote)
                } else if ch.value < 0x20 || ch.value == 0x7F {
                    out += String(format: "\\x%02x", ch.value)
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        out.append(quote)
        return out
    }

    static func bytes(_ b: [UInt8]) -> String {
        var out = "b'"
        for c in b {
            switch c {
            case 0x5C: out += "\\\\"
            case 0x27: out += "\\'"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(c))
            default: out += String(format: "\\x%02x", c)
            }
        }
        return out + "'"
    }

    static func json(_ j: JSONValue) -> String {
        switch j {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return float(d)
        case .string(let s): return string(s)
        case .array(let a): return "[" + a.map(json).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.pairs.map { string($0.key) + ": " + json($0.value) }.joined(separator: ", ") + "}"
        }
    }
}

extension JSONValue {
    /// Python's `str()` of the value as the CLI prints cells: strings as they are, `None` as
    /// nothing, booleans as `True`/`False`, lists and dicts in Python's repr.
    public var pythonDisplay: String {
        switch self {
        case .null: return ""
        case .string(let s): return s
        default: return PythonRepr.json(self)
        }
    }

    /// Python's `repr()` of the value (`'text'`, `None`, `{'k': 1}`).
    public var pythonRepr: String { PythonRepr.json(self) }
}
