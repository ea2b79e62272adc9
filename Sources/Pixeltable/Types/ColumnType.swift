import Foundation

/// The type of a column, a query parameter or an expression.
///
/// Columns are nullable unless declared `Required[T]`; primary-key columns are never null.
/// ``description`` gives Pixeltable's display form (`Int`, `String | None`, `Array[(3,), float32]`).
public struct ColumnType: Sendable, Hashable, CustomStringConvertible, Codable {
    /// The kind of values a column holds.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case string = "String"
        case int = "Int"
        case float = "Float"
        case bool = "Bool"
        case timestamp = "Timestamp"
        case date = "Date"
        case uuid = "UUID"
        case json = "Json"
        case array = "Array"
        case binary = "Binary"
        case image = "Image"
        case video = "Video"
        case audio = "Audio"
        case document = "Document"

        /// Whether values of this kind are media files referenced by URL.
        public var isMedia: Bool {
            switch self {
            case .image, .video, .audio, .document: return true
            default: return false
            }
        }
    }

    /// The kind of values.
    public var kind: Kind
    /// Whether `null` is allowed.
    public var nullable: Bool
    /// For arrays: the shape, `nil` entries being dimensions of any size; `nil` for any shape.
    public var shape: [Int?]?
    /// For arrays: the element type.
    public var dtype: ArrayDType?

    /// A type of the given kind.
    public init(_ kind: Kind, nullable: Bool = true, shape: [Int?]? = nil, dtype: ArrayDType? = nil) {
        self.kind = kind
        self.nullable = nullable
        self.shape = shape
        self.dtype = kind == .array ? (dtype ?? .float32) : nil
        if kind != .array { self.shape = nil }
    }

    public static let string = ColumnType(.string)
    public static let int = ColumnType(.int)
    public static let float = ColumnType(.float)
    public static let bool = ColumnType(.bool)
    public static let timestamp = ColumnType(.timestamp)
    public static let date = ColumnType(.date)
    public static let uuid = ColumnType(.uuid)
    public static let json = ColumnType(.json)
    public static let binary = ColumnType(.binary)
    public static let image = ColumnType(.image)
    public static let video = ColumnType(.video)
    public static let audio = ColumnType(.audio)
    public static let document = ColumnType(.document)

    /// An array type.
    public static func array(_ shape: [Int?]?, _ dtype: ArrayDType, nullable: Bool = true) -> ColumnType {
        ColumnType(.array, nullable: nullable, shape: shape, dtype: dtype)
    }

    /// The same type without `null`.
    public var required: ColumnType { var t = self; t.nullable = false; return t }
    /// The same type with `null`.
    public var optional: ColumnType { var t = self; t.nullable = true; return t }

    /// Whether values are media files.
    public var isMedia: Bool { kind.isMedia }
    /// Whether values are numbers (Int or Float).
    public var isNumeric: Bool { kind == .int || kind == .float }

    /// The type without its nullability: `Int`, `Array[(3,), float32]`.
    public var baseDescription: String {
        guard kind == .array else { return kind.rawValue }
        let d = (dtype ?? .float32).rawValue
        guard let shape else { return "Array[\(d)]" }
        let dims = shape.map { $0.map(String.init) ?? "None" }
        let tuple = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        return "Array[\(tuple), \(d)]"
    }

    /// Pixeltable's display string: `Int`, `String | None`.
    public var description: String { nullable ? baseDescription + " | None" : baseDescription }

    /// Whether a value of type `other` can be stored in a column of this type without conversion.
    public func accepts(_ other: ColumnType) -> Bool {
        if other.nullable && !nullable { return false }
        if kind == .json { return true }
        if kind == other.kind {
            if kind == .array { return dtype == other.dtype && (shape == nil || shape == other.shape) }
            return true
        }
        // Bool < Int < Float, as in Pixeltable's supertype rules.
        if kind == .float && (other.kind == .int || other.kind == .bool) { return true }
        if kind == .int && other.kind == .bool { return false }
        return false
    }

    /// The smallest type that holds values of both types, if any.
    public static func supertype(_ a: ColumnType, _ b: ColumnType) -> ColumnType? {
        let nullable = a.nullable || b.nullable
        if a.kind == b.kind && a.shape == b.shape && a.dtype == b.dtype { var t = a; t.nullable = nullable; return t }
        if a.isNumeric && b.isNumeric { return ColumnType(.float, nullable: nullable) }
        if a.kind == .json || b.kind == .json { return ColumnType(.json, nullable: nullable) }
        return nil
    }

    // MARK: parsing

    /// Parses a type as written in module files and the Swift API: `Int`, `Required[String]`,
    /// `String | None`, `Array[(3,), float32]`, `Optional[Json]`.
    public static func parse(_ text: String) throws(PixeltableError) -> ColumnType {
        var s = text.trimmingSpaces
        var forceNullable: Bool? = nil
        if s.hasSuffix("| None") {
            s = String(s.dropLast(6)).trimmingSpaces
            forceNullable = true
        }
        if let inner = s.unwrapped(prefix: "Required[") {
            var t = try parse(inner)
            t.nullable = false
            return t
        }
        if let inner = s.unwrapped(prefix: "Optional[") {
            var t = try parse(inner)
            t.nullable = true
            return t
        }
        var t: ColumnType
        if let inner = s.unwrapped(prefix: "Array[") {
            t = try parseArray(inner, original: text)
        } else if s == "Array" {
            t = ColumnType(.array, shape: nil, dtype: .float32)
        } else if let kind = Kind.allCases.first(where: { $0.rawValue.lowercased() == s.lowercased() }) {
            t = ColumnType(kind)
        } else if let alias = aliases[s.lowercased()] {
            t = ColumnType(alias)
        } else {
            throw PixeltableError(.invalidType, "unknown type '\(text)'; expected one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")), Required[T] or Array[(shape), dtype]")
        }
        if let forceNullable { t.nullable = forceNullable }
        return t
    }

    private static let aliases: [String: Kind] = [
        "str": .string, "int": .int, "float": .float, "bool": .bool, "datetime": .timestamp, "bytes": .binary,
        "dict": .json, "list": .json, "boolean": .bool, "integer": .int, "text": .string,
    ]

    private static func parseArray(_ inner: String, original: String) throws(PixeltableError) -> ColumnType {
        let body = inner.trimmingSpaces
        var shape: [Int?]? = nil
        var dtypeText = body
        if body.hasPrefix("(") {
            guard let close = body.firstIndex(of: ")") else {
                throw PixeltableError(.invalidType, "invalid array type '\(original)': missing ')' after the shape")
            }
            let dims = body[body.index(after: body.startIndex)..<close]
                .split(separator: ",", omittingEmptySubsequences: true)
                .map { String($0).trimmingSpaces }
            var parsed: [Int?] = []
            for d in dims {
                if d == "None" || d == "null" || d == "?" { parsed.append(nil); continue }
                guard let n = Int(d), n >= 0 else {
                    throw PixeltableError(.invalidType, "invalid array type '\(original)': dimension '\(d)' is not a size")
                }
                parsed.append(n)
            }
            shape = parsed
            var rest = String(body[body.index(after: close)...]).trimmingSpaces
            guard rest.hasPrefix(",") else {
                throw PixeltableError(.invalidType, "invalid array type '\(original)': expected ', dtype' after the shape")
            }
            rest.removeFirst()
            dtypeText = rest.trimmingSpaces
        }
        guard let dtype = ArrayDType(parsing: dtypeText) else {
            throw PixeltableError(.invalidType, "invalid array type '\(original)': unknown element type '\(dtypeText)'")
        }
        return ColumnType(.array, shape: shape, dtype: dtype)
    }
}

/// The element type of an array column.
public enum ArrayDType: String, Sendable, Hashable, Codable, CaseIterable {
    case float32, float64, int64, bool, string = "str"

    /// Parses numpy-style names and Pixeltable's scalar type names.
    public init?(parsing text: String) {
        switch text.lowercased().replacingOccurrences(of: "pxt.", with: "") {
        case "float32", "float", "np.float32": self = .float32
        case "float64", "double", "np.float64": self = .float64
        case "int64", "int", "int32", "np.int64": self = .int64
        case "bool", "np.bool_": self = .bool
        case "str", "string", "np.str_": self = .string
        default: return nil
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }

    /// For `Prefix[inner]`, the inner text.
    func unwrapped(prefix: String) -> String? {
        guard hasPrefix(prefix), hasSuffix("]") else { return nil }
        return String(dropFirst(prefix.count).dropLast())
    }
}
