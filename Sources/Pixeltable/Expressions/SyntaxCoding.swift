import Foundation

/// The stored JSON form of expressions, and their display text.
///
/// Stored trees name columns by id (`{"col": 3}`), so renaming a column keeps every computed
/// column, view filter and query that uses it working.
enum SyntaxCoding {
    static func encode(_ s: Syntax) -> JSONValue {
        switch s.kind {
        case .literal(let v):
            return ["lit": encodeValue(v)]
        case .name(let n): return ["name": .string(n)]
        case .columnID(let id): return ["col": .int(Int64(id))]
        case .param(let p): return ["param": .string(p)]
        case .member(let b, let m): return ["member": .string(m), "of": encode(b)]
        case .index(let b, let i): return ["index": encode(i), "of": encode(b)]
        case .unary(let op, let e): return ["unary": .string(op.rawValue), "arg": encode(e)]
        case .binary(let op, let a, let b): return ["binary": .string(op.rawValue), "left": encode(a), "right": encode(b)]
        case .isNull(let e, let neg): return ["isnull": encode(e), "negated": .bool(neg)]
        case .inList(let e, let l, let neg): return ["in": encode(l), "arg": encode(e), "negated": .bool(neg)]
        case .call(let c, let args, let kwargs):
            return [
                "call": encode(c), "args": .array(args.map(encode)),
                "kwargs": .object(JSONObject(kwargs.map { ($0.name, encode($0.value)) })),
            ]
        case .list(let items): return ["list": .array(items.map(encode))]
        case .dict(let entries): return ["dict": .object(JSONObject(entries.map { ($0.key, encode($0.value)) }))]
        case .alias(let e, let n): return ["alias": .string(n), "arg": encode(e)]
        }
    }

    /// Literal values keep their type through JSON: typed values carry a tag.
    static func encodeValue(_ v: Value) -> JSONValue {
        switch v {
        case .null, .string, .int, .float, .bool: return v.json
        case .json(let j): return ["json": j]
        case .timestamp(let t): return ["timestamp": .int(t.microseconds)]
        case .date(let d): return ["date": .string(d.description)]
        case .uuid(let u): return ["uuid": .string(u.uuidString)]
        case .array(let a): return ["array": a.json, "dtype": .string(a.dtype.rawValue)]
        case .binary(let b): return ["binary": .string(Data(b).base64EncodedString())]
        case .media(let m): return ["media": .string(m)]
        case .image(let i): return ["media": .string(i.path.map { MediaReference.file($0).url } ?? "")]
        }
    }

    static func decodeValue(_ j: JSONValue) -> Value? {
        switch j {
        case .object(let o):
            if let x = o["json"] { return .json(x) }
            if let t = o["timestamp"]?.intValue { return .timestamp(Timestamp(microseconds: t)) }
            if let d = o["date"]?.stringValue { return DateValue.parse(d).map { .date($0) } }
            if let u = o["uuid"]?.stringValue { return UUID(uuidString: u).map { .uuid($0) } }
            if let a = o["array"], let dt = o["dtype"]?.stringValue, let dtype = ArrayDType(rawValue: dt),
                case .success(let arr) = NDArray.from(json: a, dtype: dtype)
            {
                return .array(arr)
            }
            if let b = o["binary"]?.stringValue, let d = Data(base64Encoded: b) { return .binary([UInt8](d)) }
            if let m = o["media"]?.stringValue { return .media(m) }
            return nil
        case .array: return nil
        default: return Value(json: j)
        }
    }

    static func decode(_ j: JSONValue) -> Syntax? {
        guard case .object(let o) = j else { return nil }
        func sub(_ k: String) -> Syntax? { o[k].flatMap(decode) }
        if let lit = o["lit"] { return decodeValue(lit).map { Syntax(.literal($0), at: 0) } }
        if let n = o["name"]?.stringValue { return Syntax(.name(n), at: 0) }
        if let id = o["col"]?.intValue { return Syntax(.columnID(Int(id)), at: 0) }
        if let p = o["param"]?.stringValue { return Syntax(.param(p), at: 0) }
        if let m = o["member"]?.stringValue, let b = sub("of") { return Syntax(.member(b, m), at: 0) }
        if let i = sub("index"), let b = sub("of") { return Syntax(.index(b, i), at: 0) }
        if let op = o["unary"]?.stringValue.flatMap(UnaryOperator.init(rawValue:)), let e = sub("arg") { return Syntax(.unary(op, e), at: 0) }
        if let op = o["binary"]?.stringValue.flatMap(BinaryOperator.init(rawValue:)), let a = sub("left"), let b = sub("right") {
            return Syntax(.binary(op, a, b), at: 0)
        }
        if let e = sub("isnull") { return Syntax(.isNull(e, negated: o["negated"]?.boolValue ?? false), at: 0) }
        if let l = sub("in"), let e = sub("arg") { return Syntax(.inList(e, l, negated: o["negated"]?.boolValue ?? false), at: 0) }
        if let c = sub("call") {
            let args = (o["args"]?.arrayValue ?? []).compactMap(decode)
            let kwargs = (o["kwargs"]?.objectValue?.pairs ?? []).compactMap { p in decode(p.value).map { Syntax.KeywordArgument(name: p.key, value: $0) } }
            return Syntax(.call(c, args, kwargs), at: 0)
        }
        if let items = o["list"]?.arrayValue { return Syntax(.list(items.compactMap(decode)), at: 0) }
        if let d = o["dict"]?.objectValue {
            return Syntax(.dict(d.pairs.compactMap { p in decode(p.value).map { Syntax.DictEntry(key: p.key, value: $0) } }), at: 0)
        }
        if let n = o["alias"]?.stringValue, let e = sub("arg") { return Syntax(.alias(e, n), at: 0) }
        return nil
    }

    // MARK: display

    /// The expression as text in the expression language, naming columns by their current
    /// names (`columnName` maps ids to names).
    static func display(_ s: Syntax, columnName: (Int) -> String) -> String {
        print(s, columnName, parentPrecedence: 0)
    }

    private static func literal(_ v: Value) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d): return PythonRepr.float(d)
        case .string(let s): return PythonRepr.string(s)
        case .json(let j): return JSONWriter(style: .spaced).string(j)
        default: return PythonRepr.string(v.displayString)
        }
    }

    private static func print(_ s: Syntax, _ name: (Int) -> String, parentPrecedence: Int) -> String {
        switch s.kind {
        case .literal(let v): return literal(v)
        case .name(let n): return n
        case .columnID(let id): return name(id)
        case .param(let p): return ":" + p
        case .member(let b, let m): return print(b, name, parentPrecedence: 9) + "." + m
        case .index(let b, let i): return print(b, name, parentPrecedence: 9) + "[" + print(i, name, parentPrecedence: 0) + "]"
        case .unary(.negate, let e): return "-" + print(e, name, parentPrecedence: 8)
        case .unary(.not, let e):
            let t = "not " + print(e, name, parentPrecedence: 3)
            return parentPrecedence > 3 ? "(\(t))" : t
        case .binary(let op, let a, let b):
            let p = op.precedence
            let t = print(a, name, parentPrecedence: p) + " \(op.rawValue) " + print(b, name, parentPrecedence: p + 1)
            return parentPrecedence > p ? "(\(t))" : t
        case .isNull(let e, let neg):
            let t = print(e, name, parentPrecedence: 5) + (neg ? " is not null" : " is null")
            return parentPrecedence > 4 ? "(\(t))" : t
        case .inList(let e, let l, let neg):
            let t = print(e, name, parentPrecedence: 5) + (neg ? " not in " : " in ") + print(l, name, parentPrecedence: 5)
            return parentPrecedence > 4 ? "(\(t))" : t
        case .call(let c, let args, let kwargs):
            let parts = args.map { print($0, name, parentPrecedence: 0) } + kwargs.map { "\($0.name)=" + print($0.value, name, parentPrecedence: 0) }
            return print(c, name, parentPrecedence: 9) + "(" + parts.joined(separator: ", ") + ")"
        case .list(let items): return "[" + items.map { print($0, name, parentPrecedence: 0) }.joined(separator: ", ") + "]"
        case .dict(let entries):
            return "{" + entries.map { PythonRepr.string($0.key) + ": " + print($0.value, name, parentPrecedence: 0) }.joined(separator: ", ") + "}"
        case .alias(let e, let n): return print(e, name, parentPrecedence: 0) + " as " + n
        }
    }

    /// The ids of every column a stored tree names.
    static func columnIDs(_ s: Syntax) -> Set<Int> {
        var out = Set<Int>()
        func walk(_ s: Syntax) {
            switch s.kind {
            case .columnID(let id): out.insert(id)
            case .literal, .name, .param: break
            case .member(let b, _), .unary(_, let b), .isNull(let b, _), .alias(let b, _): walk(b)
            case .index(let a, let b), .binary(_, let a, let b), .inList(let a, let b, _): walk(a); walk(b)
            case .call(let c, let args, let kwargs): walk(c); args.forEach(walk); kwargs.forEach { walk($0.value) }
            case .list(let items): items.forEach(walk)
            case .dict(let entries): entries.forEach { walk($0.value) }
            }
        }
        walk(s)
        return out
    }
}
