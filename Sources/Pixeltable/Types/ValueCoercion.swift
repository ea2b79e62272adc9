import Foundation

extension ColumnType {
    /// Converts `value` to this type, or says why it cannot.
    ///
    /// - Parameters:
    ///   - value: The value to convert.
    ///   - lax: Also accept strings for numbers and booleans, as pydantic's lax mode does for
    ///     JSON bodies, form fields and query strings.
    /// - Returns: The converted value, or a message such as `expected Int, got a String ('x')`.
    public func coerce(_ value: Value, lax: Bool = false) -> Result<Value, CoercionFailure> {
        if value.isNull {
            return nullable ? .success(.null) : .failure(CoercionFailure(isNull: true, message: "a value is required (got null)"))
        }
        if case .json(let j) = value, kind != .json {
            // JSON scalars arriving from a request body or a JSON cell.
            switch j {
            case .array, .object:
                if kind == .array { return coerceArray(j) }
                return mismatch(value)
            default: return coerce(Value(json: j), lax: lax)
            }
        }
        switch kind {
        case .string:
            if case .string = value { return .success(value) }
        case .int:
            switch value {
            case .int: return .success(value)
            case .float(let d) where d.rounded() == d && abs(d) < 9.2e18: return .success(.int(Int64(d)))
            case .string(let s) where lax:
                if let i = Int64(Self.trimmingBlanks(s)) { return .success(.int(i)) }
            default: break
            }
        case .float:
            switch value {
            case .float: return .success(value)
            case .int(let i): return .success(.float(Double(i)))
            case .string(let s) where lax:
                if let d = Double(Self.trimmingBlanks(s)) { return .success(.float(d)) }
            default: break
            }
        case .bool:
            switch value {
            case .bool: return .success(value)
            case .int(let i) where lax && (i == 0 || i == 1): return .success(.bool(i == 1))
            case .string(let s) where lax:
                switch s.lowercased() {
                case "true", "1", "yes", "on", "t", "y": return .success(.bool(true))
                case "false", "0", "no", "off", "f", "n": return .success(.bool(false))
                default: break
                }
            default: break
            }
        case .timestamp:
            switch value {
            case .timestamp: return .success(value)
            case .date(let d): return .success(.timestamp(Timestamp(microseconds: Int64(d.daysSinceEpoch) * 86_400_000_000)))
            case .string(let s):
                if let t = Timestamp.parse(s) { return .success(.timestamp(t)) }
                return .failure(CoercionFailure(message: "expected \(baseDescription), got a String that is not an ISO-8601 date-time (\(PythonRepr.string(s)))"))
            case .int(let i) where lax: return .success(.timestamp(Timestamp(microseconds: i * 1_000_000)))
            case .float(let d) where lax: return .success(.timestamp(Timestamp(microseconds: Int64(d * 1_000_000))))
            default: break
            }
        case .date:
            switch value {
            case .date: return .success(value)
            case .string(let s):
                if let d = DateValue.parse(s) { return .success(.date(d)) }
                return .failure(CoercionFailure(message: "expected Date, got a String that is not a YYYY-MM-DD date (\(PythonRepr.string(s)))"))
            default: break
            }
        case .uuid:
            switch value {
            case .uuid: return .success(value)
            case .string(let s):
                if let u = UUID(uuidString: s) { return .success(.uuid(u)) }
                if s.count == 32, let u = UUID(uuidString: Self.dashed(s)) { return .success(.uuid(u)) }
                return .failure(CoercionFailure(message: "expected UUID, got a String that is not a UUID (\(PythonRepr.string(s)))"))
            default: break
            }
        case .json:
            return .success(.json(value.json))
        case .array:
            switch value {
            case .array(let a):
                return coerceArray(a.json)
            default: break
            }
        case .binary:
            switch value {
            case .binary: return .success(value)
            case .string(let s): return .success(.binary(Array(s.utf8)))
            default: break
            }
        case .image, .video, .audio, .document:
            switch value {
            case .image where kind == .image: return .success(value)
            case .media(let s), .string(let s):
                if s.isEmpty { return .failure(CoercionFailure(message: "expected a \(kind.rawValue) path or URL, got an empty String")) }
                return .success(.media(s))
            default: break
            }
        }
        return mismatch(value)
    }

    private func coerceArray(_ j: JSONValue) -> Result<Value, CoercionFailure> {
        switch NDArray.from(json: j, dtype: dtype ?? .float32) {
        case .failure(let e):
            return .failure(CoercionFailure(message: "expected \(baseDescription): \(e.message)"))
        case .success(let a):
            if let shape {
                let ok = shape.count == a.shape.count && zip(shape, a.shape).allSatisfy { $0 == nil || $0 == $1 }
                if !ok {
                    let got = "(" + a.shape.map(String.init).joined(separator: ", ") + (a.shape.count == 1 ? ",)" : ")")
                    return .failure(CoercionFailure(message: "expected \(baseDescription), got an array of shape \(got)"))
                }
            }
            return .success(.array(a))
        }
    }

    private func mismatch(_ value: Value) -> Result<Value, CoercionFailure> {
        var shown = value.displayString
        if case .string(let s) = value { shown = PythonRepr.string(s) }
        if shown.count > 60 { shown = String(shown.prefix(57)) + "..." }
        let suffix = shown.isEmpty ? "" : " (\(shown))"
        return .failure(CoercionFailure(message: "expected \(baseDescription), got \(value.kindDescription)\(suffix)"))
    }

    private static func dashed(_ h: String) -> String {
        let c = Array(h)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }
}

/// Why a value does not fit a type.
public struct CoercionFailure: Error, Sendable {
    /// Whether the failure is a null in a required place.
    public var isNull: Bool = false
    /// What was wrong, e.g. `expected Int, got a String ('x')`.
    public var message: String
}

extension ColumnType {
    /// `s` without leading and trailing spaces and tabs. Query parameters reach `coerce` on every
    /// request; Foundation's `trimmingCharacters` costs a bridged copy each time, while the
    /// common case here has nothing to trim and returns a view of `s`.
    static func trimmingBlanks(_ s: String) -> Substring {
        let u = s.utf8
        var start = u.startIndex
        var end = u.endIndex
        while start < end, u[start] == 0x20 || u[start] == 0x09 { start = u.index(after: start) }
        while end > start {
            let before = u.index(before: end)
            guard u[before] == 0x20 || u[before] == 0x09 else { break }
            end = before
        }
        return s[start..<end]
    }
}
