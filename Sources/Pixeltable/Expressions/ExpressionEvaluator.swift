import Foundation
import Synchronization

/// The values one row offers to expressions, indexed by column id.
public struct RowContext: Sendable {
    /// Column values by column id; ids beyond the end read as null.
    public var values: [Value]
    /// Per-cell computed-column errors by column id (type and message); empty for most rows,
    /// so a row costs one allocation.
    var cellErrors: [Int: (type: String, message: String?)] = [:]
    /// Query parameter values by name.
    public var parameters: [String: Value]

    /// A context with room for column ids below `width`.
    public init(width: Int, parameters: [String: Value] = [:]) {
        values = Array(repeating: .null, count: width)
        self.parameters = parameters
    }

    /// The value of column `id`.
    @inline(__always) public func value(_ id: Int) -> Value { id < values.count ? values[id] : .null }

    /// The error type stored in the cell of column `id`, if it failed.
    public func errorType(_ id: Int) -> String? { cellErrors[id]?.type }

    /// The error message stored in the cell of column `id`, if it failed.
    public func errorMessage(_ id: Int) -> String? { cellErrors[id]?.message }

    /// Records (or, with a nil type, clears) the error of the cell of column `id`.
    mutating func setError(_ id: Int, type: String?, message: String?) {
        if let type { cellErrors[id] = (type, message) } else { cellErrors[id] = nil }
    }
}

/// Evaluates typed expressions with Python's semantics and SQL's three-valued logic for null.
struct ExpressionEvaluator: Sendable {
    /// Query-embedding cache: a query's `similarity(:q)` embeds `:q` once, not once per row.
    var queryEmbeddings: QueryEmbeddingCache? = nil
    /// Where media references are resolved to files (remote ones fetched into the file cache).
    var media: MediaStore? = nil

    /// What functions see of the catalog.
    var context: FunctionContext { FunctionContext(media: media) }

    func evaluate(_ e: TypedExpr, _ row: RowContext) throws(FunctionError) -> Value {
        switch e.node {
        case .literal(let v): return v
        case .column(let id): return row.value(id)
        case .property(let id, let p):
            switch p {
            case .errortype: return row.errorType(id).map { .string($0) } ?? .null
            case .errormsg: return row.errorMessage(id).map { .string($0) } ?? .null
            case .fileurl:
                guard case .media(let m) = row.value(id) else { return .null }
                return .string(m.contains("://") ? m : URL(fileURLWithPath: m).absoluteString)
            case .localpath:
                guard case .media(let m) = row.value(id) else { return .null }
                if m.hasPrefix("file://") { return .string(URL(string: m)?.path ?? String(m.dropFirst(7))) }
                return m.contains("://") ? .null : .string(m)
            }
        case .param(let p): return row.parameters[p] ?? .null
        case .member(let base, let key):
            let b = try evaluate(base, row)
            guard case .json(.object(let o)) = b else { return .null }
            return o[key].map { .json($0) } ?? .null
        case .index(let base, let idx):
            return Self.index(try evaluate(base, row), try evaluate(idx, row))
        case .unary(let op, let x):
            let v = try evaluate(x, row)
            if v.isNull { return .null }
            switch op {
            case .not:
                guard let b = Self.truth(v) else { throw FunctionError("TypeError", "'not' needs a bool, got \(v.kindDescription)") }
                return .bool(!b)
            case .negate:
                switch Self.scalar(v) {
                case .int(let i): return .int(-i)
                case .float(let d): return .float(-d)
                default: throw FunctionError("TypeError", "bad operand type for unary -: '\(Self.pyType(v))'")
                }
            }
        case .binary(let op, let l, let r):
            if op == .and || op == .or { return try logical(op, l, r, row) }
            let a = try evaluate(l, row)
            let b = try evaluate(r, row)
            if op.isComparison { return Self.compare(op, a, b) }
            if a.isNull || b.isNull { return .null }
            return try Self.arithmetic(op, a, b)
        case .isNull(let x, let negated):
            let v = try evaluate(x, row)
            return .bool(v.isNull != negated)
        case .inList(let x, let list, let negated):
            let v = try evaluate(x, row)
            if v.isNull { return .null }
            let items: [Value]
            switch try evaluate(list, row) {
            case .json(.array(let a)): items = a.map { Value(json: $0) }
            case .null: return .null
            case let other: throw FunctionError("TypeError", "'in' needs a list, got \(other.kindDescription)")
            }
            let found = items.contains { Self.compareValues(v, $0) == 0 }
            return .bool(found != negated)
        case .call(let f, let args):
            guard let values = try arguments(f, args, row) else { return .null }
            return try f.call(context, values)
        case .cast(let x, let t):
            let v = try evaluate(x, row)
            if v.isNull { return .null }
            do { return try BuiltinFunctions.castValue(v, to: t) } catch let e as FunctionError { throw e } catch { throw FunctionError("ValueError", "\(error)") }
        case .list(let items):
            var out: [JSONValue] = []
            for i in items { out.append(try evaluate(i, row).json) }
            return .json(.array(out))
        case .dict(let entries):
            var o = JSONObject()
            for (k, v) in entries { o[k] = try evaluate(v, row).json }
            return .json(.object(o))
        case .similarity(_, let index, let query):
            let q = try evaluate(query, row)
            if q.isNull { return .null }
            let qv = try (queryEmbeddings ?? QueryEmbeddingCache()).embedding(for: q, index: index, context: context)
            guard case .array(let a) = row.value(index.vectorColumnID), let rv = a.floats, rv.count == qv.count else { return .null }
            return .float(Double(index.metric.score(rv, qv)))
        }
    }

    /// A call's arguments, evaluated and converted to the declared types; `nil` when a null
    /// argument makes the call null.
    func arguments(_ f: ExpressionFunction, _ args: [TypedExpr], _ row: RowContext) throws(FunctionError) -> [Value]? {
        var values: [Value] = []
        values.reserveCapacity(args.count)
        for (i, a) in args.enumerated() {
            var v = try evaluate(a, row)
            if v.isNull {
                if f.propagatesNull { return nil }
            } else if i < f.parameters.count, f.parameters[i].type == .kind(.image) {
                v = try image(v, f, i)
            } else if i < f.parameters.count, let target = f.parameters[i].type.conversionTarget, target.kind != v.inferredType.kind {
                switch target.coerce(v) {
                case .success(let c): v = c
                case .failure(let err):
                    throw FunctionError("TypeError", "\(f.name)() argument '\(f.parameters[i].name)': \(err.message)")
                }
            }
            values.append(v)
        }
        return values
    }

    /// An image argument: a stored reference becomes the image in its file (a remote file is
    /// fetched into the file cache first); the pixels are decoded only when a function needs them.
    private func image(_ v: Value, _ f: ExpressionFunction, _ i: Int) throws(FunctionError) -> Value {
        switch v {
        case .image: return v
        case .media(let s), .string(let s), .json(.string(let s)):
            let ref: MediaReference
            do { ref = try MediaReference(parsing: s) } catch { throw FunctionError("ValueError", "\(f.name)(): \(error.message)") }
            switch ref {
            case .file(let p): return .image(ImageValue(path: p))
            case .remote(let url):
                guard let media else { throw FunctionError("OSError", "cannot fetch \(url): no media store") }
                do { return .image(ImageValue(path: try media.localFile(ref))) } catch { throw FunctionError("OSError", error.description) }
            }
        default:
            throw FunctionError("TypeError", "\(f.name)() argument '\(f.parameters[i].name)': expected an Image, got \(v.kindDescription)")
        }
    }

    /// Evaluates a filter: true only for `true` (null and false both drop the row).
    func matches(_ e: TypedExpr, _ row: RowContext) throws(FunctionError) -> Bool {
        if case .bool(true) = try evaluate(e, row) { return true }
        if case .json(.bool(true)) = try evaluate(e, row) { return true }
        return false
    }

    private func logical(_ op: BinaryOperator, _ l: TypedExpr, _ r: TypedExpr, _ row: RowContext) throws(FunctionError) -> Value {
        let a = Self.truth(try evaluate(l, row))
        if op == .and && a == false { return .bool(false) }
        if op == .or && a == true { return .bool(true) }
        let b = Self.truth(try evaluate(r, row))
        if op == .and {
            if b == false { return .bool(false) }
            if a == nil || b == nil { return .null }
            return .bool(true)
        }
        if b == true { return .bool(true) }
        if a == nil || b == nil { return .null }
        return .bool(false)
    }

    // MARK: value semantics

    static func truth(_ v: Value) -> Bool? {
        switch v {
        case .bool(let b): return b
        case .json(.bool(let b)): return b
        default: return nil
        }
    }

    /// JSON scalars behave as the plain values they hold.
    static func scalar(_ v: Value) -> Value {
        if case .json(let j) = v {
            switch j {
            case .array, .object: return v
            default: return Value(json: j)
            }
        }
        return v
    }

    static func pyType(_ v: Value) -> String {
        switch scalar(v) {
        case .null: return "NoneType"
        case .string: return "str"
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .json(let j): return BuiltinFunctions.pythonTypeName(j)
        case .timestamp: return "datetime"
        case .date: return "date"
        case .uuid: return "UUID"
        case .array: return "ndarray"
        case .binary: return "bytes"
        case .media: return "str"
        case .image: return "Image"
        }
    }

    /// Orders two values: negative, zero or positive; `nil` when they cannot be compared.
    static func compareValues(_ x: Value, _ y: Value) -> Int? {
        let a = scalar(x), b = scalar(y)
        switch (a, b) {
        case (.int(let i), .int(let j)): return i < j ? -1 : (i == j ? 0 : 1)
        case (.string(let s), .string(let t)), (.media(let s), .media(let t)), (.string(let s), .media(let t)), (.media(let s), .string(let t)):
            if s == t { return 0 }
            return s.utf8.lexicographicallyPrecedes(t.utf8) ? -1 : 1
        case (.timestamp(let s), .timestamp(let t)): return s < t ? -1 : (s == t ? 0 : 1)
        case (.date(let s), .date(let t)): return s < t ? -1 : (s == t ? 0 : 1)
        case (.timestamp(let s), .date(let d)):
            let t = Timestamp(microseconds: Int64(d.daysSinceEpoch) * 86_400_000_000)
            return s < t ? -1 : (s == t ? 0 : 1)
        case (.date, .timestamp): return compareValues(y, x).map { -$0 }
        case (.uuid(let s), .uuid(let t)): return s == t ? 0 : (s.uuidString < t.uuidString ? -1 : 1)
        case (.bool(let s), .bool(let t)): return s == t ? 0 : (!s ? -1 : 1)
        case (.json(let s), .json(let t)): return s == t ? 0 : nil
        case (.array(let s), .array(let t)): return s == t ? 0 : nil
        case (.binary(let s), .binary(let t)):
            if s == t { return 0 }
            return s.lexicographicallyPrecedes(t) ? -1 : 1
        default:
            if let d = number(a), let e = number(b) {
                return d < e ? -1 : (d == e ? 0 : 1)
            }
            return nil
        }
    }

    static func compare(_ op: BinaryOperator, _ a: Value, _ b: Value) -> Value {
        if a.isNull || b.isNull { return .null }
        guard let c = compareValues(a, b) else {
            // Values of different kinds are never equal, as in Python.
            switch op {
            case .equal: return .bool(false)
            case .notEqual: return .bool(true)
            default: return .null
            }
        }
        switch op {
        case .equal: return .bool(c == 0)
        case .notEqual: return .bool(c != 0)
        case .less: return .bool(c < 0)
        case .lessOrEqual: return .bool(c <= 0)
        case .greater: return .bool(c > 0)
        case .greaterOrEqual: return .bool(c >= 0)
        default: return .null
        }
    }

    static func arithmetic(_ op: BinaryOperator, _ x: Value, _ y: Value) throws(FunctionError) -> Value {
        let a = scalar(x), b = scalar(y)
        func unsupported() -> FunctionError {
            FunctionError("TypeError", "unsupported operand type(s) for \(op.rawValue): '\(pyType(a))' and '\(pyType(b))'")
        }
        if op == .add {
            if case .string(let s) = a, case .string(let t) = b { return .string(s + t) }
            if case .json(.array(let s)) = a, case .json(.array(let t)) = b { return .json(.array(s + t)) }
        }
        if case .int(let i) = a, case .int(let j) = b {
            switch op {
            case .add:
                let (r, o) = i.addingReportingOverflow(j)
                if o { throw FunctionError("OverflowError", "integer overflow") }
                return .int(r)
            case .subtract:
                let (r, o) = i.subtractingReportingOverflow(j)
                if o { throw FunctionError("OverflowError", "integer overflow") }
                return .int(r)
            case .multiply:
                let (r, o) = i.multipliedReportingOverflow(by: j)
                if o { throw FunctionError("OverflowError", "integer overflow") }
                return .int(r)
            case .divide:
                if j == 0 { throw FunctionError("ZeroDivisionError", "division by zero") }
                return .float(Double(i) / Double(j))
            case .floorDivide:
                if j == 0 { throw FunctionError("ZeroDivisionError", "integer division or modulo by zero") }
                var q = i / j
                if (i % j != 0) && ((i < 0) != (j < 0)) { q -= 1 }
                return .int(q)
            case .modulo:
                if j == 0 { throw FunctionError("ZeroDivisionError", "integer division or modulo by zero") }
                var r = i % j
                if r != 0 && ((r < 0) != (j < 0)) { r += j }
                return .int(r)
            default: throw unsupported()
            }
        }
        guard let d = number(a), let e = number(b) else { throw unsupported() }
        switch op {
        case .add: return .float(d + e)
        case .subtract: return .float(d - e)
        case .multiply: return .float(d * e)
        case .divide:
            if e == 0 { throw FunctionError("ZeroDivisionError", "float division by zero") }
            return .float(d / e)
        case .floorDivide:
            if e == 0 { throw FunctionError("ZeroDivisionError", "float floor division by zero") }
            return .float((d / e).rounded(.down))
        case .modulo:
            if e == 0 { throw FunctionError("ZeroDivisionError", "float modulo") }
            var r = fmod(d, e)
            if r != 0 && ((r < 0) != (e < 0)) { r += e }
            return .float(r)
        default: throw unsupported()
        }
    }

    /// The numeric payload of an Int or Float (booleans are not numbers here).
    static func number(_ v: Value) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .float(let d): return d
        default: return nil
        }
    }

    static func index(_ base: Value, _ idx: Value) -> Value {
        let i = scalar(idx)
        switch (base, i) {
        case (.json(.array(let a)), .int(let k)):
            let n = k < 0 ? Int(k) + a.count : Int(k)
            return n >= 0 && n < a.count ? .json(a[n]) : .null
        case (.json(.object(let o)), .string(let k)):
            return o[k].map { .json($0) } ?? .null
        case (.string(let s), .int(let k)):
            let chars = Array(s)
            let n = k < 0 ? Int(k) + chars.count : Int(k)
            return n >= 0 && n < chars.count ? .string(String(chars[n])) : .null
        case (.array(let a), .int(let k)):
            guard case .array(let items) = a.json else { return .null }
            let n = k < 0 ? Int(k) + items.count : Int(k)
            return n >= 0 && n < items.count ? .json(items[n]) : .null
        default: return .null
        }
    }
}

/// Remembers the embedding of a query value, so a similarity search embeds it once.
final class QueryEmbeddingCache: Sendable {
    private let cache = Mutex<[[Value]: [Float]]>([:])

    func embedding(for q: Value, index: ExpressionScope.EmbeddingIndex, context: FunctionContext) throws(FunctionError) -> [Float] {
        let key = [Value.string(index.name), q]
        if let hit = cache.withLock({ $0[key] }) { return hit }
        var q = q
        if let target = index.embed.parameters.first?.type.conversionTarget, target.kind != q.inferredType.kind, case .success(let c) = target.coerce(q) { q = c }
        let v = try index.embed.call(context, [q] + index.arguments)
        guard case .array(let a) = v, let f = a.floats else { throw FunctionError("TypeError", "embedding function did not return an array") }
        cache.withLock { if $0.count < 64 { $0[key] = f } }
        return f
    }
}
