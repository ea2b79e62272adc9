/// A JSON value that keeps integers, doubles and booleans apart and keeps object keys in order.
///
/// Foundation's `JSONSerialization` on Linux cannot tell `1` from `true`, and Python's `json`
/// keeps insertion order, which users see in every response; this type does both.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// An object value built from ordered key/value pairs.
    public static func object(_ pairs: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(pairs))
    }

    /// The value for `key` when this is an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The element at `index` when this is an array.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, index >= 0, index < a.count { return a[index] }
        return nil
    }

    /// The string payload, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer payload, if this is an integer (or a double with an integral value).
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    /// The numeric payload as a double, if this is a number.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The boolean payload, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The object, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The name of this value's JSON kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// A JSON object whose keys keep the order in which they were added.
public struct JSONObject: Sendable, Hashable, Sequence {
    /// The key/value pairs in order.
    public private(set) var pairs: [(key: String, value: JSONValue)]

    /// An empty object.
    public init() { pairs = [] }

    /// An object from ordered pairs; a repeated key keeps its first position and last value.
    ///
    /// Keys are checked for repeats through a hash table, so an object of many keys (a parsed
    /// request body, a tokenizer's vocabulary) is built in linear time, not quadratic.
    public init(_ pairs: [(String, JSONValue)]) {
        var out: [(key: String, value: JSONValue)] = []
        out.reserveCapacity(pairs.count)
        if pairs.count <= 8 {
            for (k, v) in pairs {
                if let i = out.firstIndex(where: { $0.key == k }) { out[i].value = v } else { out.append((k, v)) }
            }
        } else {
            var position: [String: Int] = [:]
            position.reserveCapacity(pairs.count)
            for (k, v) in pairs {
                if let i = position[k] {
                    out[i].value = v
                } else {
                    position[k] = out.count
                    out.append((k, v))
                }
            }
        }
        self.pairs = out
    }

    /// The keys in order.
    public var keys: [String] { pairs.map(\.key) }

    /// The number of keys.
    public var count: Int { pairs.count }

    /// Whether the object has no keys.
    public var isEmpty: Bool { pairs.isEmpty }

    /// The value for `key`; assigning `nil` removes it.
    public subscript(key: String) -> JSONValue? {
        get {
            for p in pairs where p.key == key { return p.value }
            return nil
        }
        set {
            if let i = pairs.firstIndex(where: { $0.key == key }) {
                if let newValue { pairs[i].value = newValue } else { pairs.remove(at: i) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    /// Iterates the pairs in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        pairs.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.pairs.count == rhs.pairs.count else { return false }
        // Key order does not change what an object means.
        if lhs.pairs.count <= 8 {
            for p in lhs.pairs where rhs[p.key] != p.value { return false }
            return true
        }
        var other: [String: JSONValue] = [:]
        other.reserveCapacity(rhs.pairs.count)
        for p in rhs.pairs { other[p.key] = p.value }
        for p in lhs.pairs where other[p.key] != p.value { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(pairs.count)
        for p in pairs.sorted(by: { $0.key < $1.key }) {
            hasher.combine(p.key)
            hasher.combine(p.value)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            // Codable dictionaries lose key order; only used for the rare Codable path.
            let d = try c.decode([String: JSONValue].self)
            self = .object(JSONObject(d.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o):
            var kc = encoder.container(keyedBy: AnyCodingKey.self)
            for (k, v) in o.pairs { try kc.encode(v, forKey: AnyCodingKey(k)) }
        }
    }
}

/// A coding key made from any string.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}
