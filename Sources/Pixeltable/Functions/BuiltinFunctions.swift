import Foundation

/// The built-in functions, namespaced as Pixeltable's (`string.upper`, `math.abs`, `json.dumps`).
enum BuiltinFunctions {
    static let all: [ExpressionFunction] = stringFunctions + mathFunctions + jsonFunctions + castFunctions
        + timeFunctions + uuidFunctions + EmbeddingFunctions.all + ImageFunctions.all + ModelFunctions.all + VideoFunctions.all + DocumentFunctions.all

    // MARK: helpers

    static func str(_ v: Value) -> String {
        switch v {
        case .string(let s), .media(let s): return s
        case .json(.string(let s)): return s
        default: return v.displayString
        }
    }

    static func int(_ v: Value) throws -> Int64 {
        switch v {
        case .int(let i): return i
        case .float(let d) where d.rounded() == d: return Int64(d)
        case .json(let j): if let i = j.intValue { return i }
        default: break
        }
        throw FunctionError("TypeError", "expected an integer, got \(v.kindDescription)")
    }

    static func double(_ v: Value) throws -> Double {
        if let d = v.doubleValue { return d }
        if case .json(let j) = v, let d = j.doubleValue { return d }
        throw FunctionError("TypeError", "expected a number, got \(v.kindDescription)")
    }

    /// Python's index normalization for slices.
    static func clamp(_ i: Int64?, _ count: Int, default d: Int) -> Int {
        guard let i else { return d }
        var k = Int(i)
        if k < 0 { k += count }
        return max(0, min(count, k))
    }

    static func optInt(_ v: Value) throws -> Int64? { v.isNull ? nil : try int(v) }

    static let stringType = ColumnType(.string, nullable: false)
    static let intType = ColumnType(.int, nullable: false)
    static let floatType = ColumnType(.float, nullable: false)
    static let boolType = ColumnType(.bool, nullable: false)
    static let jsonType = ColumnType(.json, nullable: true)

    /// Result type that is nullable when any argument is.
    static func same(_ t: ColumnType) -> @Sendable ([ColumnType]) -> ColumnType {
        { args in var r = t; r.nullable = args.contains { $0.nullable }; return r }
    }

    // MARK: string

    static let stringFunctions: [ExpressionFunction] = [
        ExpressionFunction("string.upper", [.init("self", .string)], returnType: same(stringType)) { a in .string(str(a[0]).uppercased()) },
        ExpressionFunction("string.lower", [.init("self", .string)], returnType: same(stringType)) { a in .string(str(a[0]).lowercased()) },
        ExpressionFunction("string.capitalize", [.init("self", .string)], returnType: same(stringType)) { a in
            let s = str(a[0])
            return .string(s.prefix(1).uppercased() + s.dropFirst().lowercased())
        },
        ExpressionFunction("string.title", [.init("self", .string)], returnType: same(stringType)) { a in
            var out = ""
            var prevLetter = false
            for ch in str(a[0]) {
                out += prevLetter ? String(ch).lowercased() : String(ch).uppercased()
                prevLetter = ch.isLetter
            }
            return .string(out)
        },
        ExpressionFunction("string.len", [.init("self", .string)], returnType: same(intType)) { a in .int(Int64(str(a[0]).count)) },
        ExpressionFunction("string.contains", [.init("self", .string), .init("substr", .string)], returnType: same(boolType)) { a in
            let s = str(a[1])
            return .bool(s.isEmpty || str(a[0]).contains(s))
        },
        ExpressionFunction("string.startswith", [.init("self", .string), .init("prefix", .string)], returnType: same(boolType)) { a in
            .bool(str(a[0]).hasPrefix(str(a[1])))
        },
        ExpressionFunction("string.endswith", [.init("self", .string), .init("suffix", .string)], returnType: same(boolType)) { a in
            .bool(str(a[0]).hasSuffix(str(a[1])))
        },
        ExpressionFunction(
            "string.replace", [.init("self", .string), .init("old", .string), .init("new", .string), .init("n", .int, default: .int(-1))],
            returnType: same(stringType)
        ) { a in
            let s = str(a[0]), old = str(a[1]), new = str(a[2])
            let n = try int(a[3])
            if old.isEmpty || n == 0 { return .string(s) }
            if n < 0 { return .string(s.replacingOccurrences(of: old, with: new)) }
            var out = ""
            var rest = Substring(s)
            var count: Int64 = 0
            while count < n, let r = rest.range(of: old) {
                out += rest[..<r.lowerBound] + new
                rest = rest[r.upperBound...]
                count += 1
            }
            return .string(out + rest)
        },
        ExpressionFunction("string.strip", [.init("self", .string), .init("chars", .string, default: .null)], returnType: same(stringType), propagatesNull: false) { a in
            if a[0].isNull { return .null }
            return .string(strip(str(a[0]), chars: a[1].isNull ? nil : str(a[1]), leading: true, trailing: true))
        },
        ExpressionFunction("string.lstrip", [.init("self", .string), .init("chars", .string, default: .null)], returnType: same(stringType), propagatesNull: false) { a in
            if a[0].isNull { return .null }
            return .string(strip(str(a[0]), chars: a[1].isNull ? nil : str(a[1]), leading: true, trailing: false))
        },
        ExpressionFunction("string.rstrip", [.init("self", .string), .init("chars", .string, default: .null)], returnType: same(stringType), propagatesNull: false) { a in
            if a[0].isNull { return .null }
            return .string(strip(str(a[0]), chars: a[1].isNull ? nil : str(a[1]), leading: false, trailing: true))
        },
        ExpressionFunction(
            "string.slice", [.init("self", .string), .init("start", .int, default: .null), .init("stop", .int, default: .null)],
            returnType: { args in var t = stringType; t.nullable = args[0].nullable; return t }, propagatesNull: false
        ) { a in
            if a[0].isNull { return .null }
            let chars = Array(str(a[0]))
            let lo = clamp(try optInt(a[1]), chars.count, default: 0)
            let hi = clamp(try optInt(a[2]), chars.count, default: chars.count)
            return .string(lo < hi ? String(chars[lo..<hi]) : "")
        },
        ExpressionFunction(
            "string.split", [.init("self", .string), .init("sep", .string, default: .null), .init("maxsplit", .int, default: .int(-1))],
            returnType: { args in var t = ColumnType(.json, nullable: false); t.nullable = args[0].nullable; return t }, propagatesNull: false
        ) { a in
            if a[0].isNull { return .null }
            let parts = pythonSplit(str(a[0]), sep: a[1].isNull ? nil : str(a[1]), maxsplit: Int(try int(a[2])))
            guard parts != nil else { throw FunctionError("ValueError", "empty separator") }
            return .json(.array(parts!.map { .string($0) }))
        },
        ExpressionFunction("string.join", [.init("self", .string), .init("elements", .json)], returnType: same(stringType)) { a in
            guard case .json(.array(let items)) = a[1] else {
                throw FunctionError("TypeError", "join() expects a list of strings, got \(a[1].kindDescription)")
            }
            var parts: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item else {
                    throw FunctionError("TypeError", "sequence item \(i): expected str instance, \(pythonTypeName(item)) found")
                }
                parts.append(s)
            }
            return .string(parts.joined(separator: str(a[0])))
        },
        ExpressionFunction("string.format", [.init("self", .string), .init("args", .any)], returnType: same(stringType), variadic: true, propagatesNull: false) { a in
            if a[0].isNull { return .null }
            return .string(try format(str(a[0]), Array(a.dropFirst())))
        },
        ExpressionFunction("string.find", [.init("self", .string), .init("substr", .string)], returnType: same(intType)) { a in
            let s = str(a[0]), sub = str(a[1])
            guard let r = s.range(of: sub) else { return .int(-1) }
            return .int(Int64(s.distance(from: s.startIndex, to: r.lowerBound)))
        },
        ExpressionFunction("string.count", [.init("self", .string), .init("substr", .string)], returnType: same(intType)) { a in
            let s = str(a[0]), sub = str(a[1])
            if sub.isEmpty { return .int(Int64(s.count + 1)) }
            return .int(Int64(s.components(separatedBy: sub).count - 1))
        },
        ExpressionFunction("string.isdigit", [.init("self", .string)], returnType: same(boolType)) { a in
            let s = str(a[0])
            return .bool(!s.isEmpty && s.allSatisfy { $0.isNumber })
        },
        ExpressionFunction("string.isalpha", [.init("self", .string)], returnType: same(boolType)) { a in
            let s = str(a[0])
            return .bool(!s.isEmpty && s.allSatisfy { $0.isLetter })
        },
        ExpressionFunction("string.zfill", [.init("self", .string), .init("width", .int)], returnType: same(stringType)) { a in
            var s = str(a[0])
            let w = Int(try int(a[1]))
            var sign = ""
            if let f = s.first, f == "-" || f == "+" { sign = String(f); s.removeFirst() }
            let pad = max(0, w - s.count - sign.count)
            return .string(sign + String(repeating: "0", count: pad) + s)
        },
    ]

    static func pythonTypeName(_ j: JSONValue) -> String {
        switch j {
        case .null: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object: return "dict"
        }
    }

    static func strip(_ s: String, chars: String?, leading: Bool, trailing: Bool) -> String {
        let set: (Character) -> Bool = chars.map { c in { c.contains($0) } } ?? { $0.isWhitespace }
        var sub = Substring(s)
        if leading { while let f = sub.first, set(f) { sub.removeFirst() } }
        if trailing { while let l = sub.last, set(l) { sub.removeLast() } }
        return String(sub)
    }

    /// Python's `str.split`; `nil` for an empty separator (a ValueError in Python).
    static func pythonSplit(_ s: String, sep: String?, maxsplit: Int) -> [String]? {
        if let sep {
            if sep.isEmpty { return nil }
            var out: [String] = []
            var rest = Substring(s)
            while maxsplit < 0 || out.count < maxsplit, let r = rest.range(of: sep) {
                out.append(String(rest[..<r.lowerBound]))
                rest = rest[r.upperBound...]
            }
            out.append(String(rest))
            return out
        }
        var out: [String] = []
        var rest = Substring(s)
        while let f = rest.first, f.isWhitespace { rest.removeFirst() }
        while !rest.isEmpty {
            if maxsplit >= 0 && out.count >= maxsplit {
                var tail = rest
                while let l = tail.last, l.isWhitespace { tail.removeLast() }
                out.append(String(tail))
                break
            }
            let end = rest.firstIndex { $0.isWhitespace } ?? rest.endIndex
            out.append(String(rest[..<end]))
            rest = rest[end...]
            while let f = rest.first, f.isWhitespace { rest.removeFirst() }
        }
        return out
    }

    /// A subset of Python's `str.format`: `{}`, `{0}`, `{{`, `}}` and `{name}` (from a trailing
    /// JSON object argument).
    static func format(_ template: String, _ args: [Value]) throws -> String {
        var out = ""
        var auto = 0
        var chars = Array(template)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "{" {
                if chars.first == "{" { out.append("{"); chars = chars.dropFirst(); continue }
                guard let close = chars.firstIndex(of: "}") else { throw FunctionError("ValueError", "Single '{' encountered in format string") }
                let field = String(chars[chars.startIndex..<close])
                chars = chars[(close + 1)...]
                let value: Value
                if field.isEmpty {
                    guard auto < args.count else { throw FunctionError("IndexError", "Replacement index \(auto) out of range for positional args tuple") }
                    value = args[auto]
                    auto += 1
                } else if let n = Int(field) {
                    guard n < args.count else { throw FunctionError("IndexError", "Replacement index \(n) out of range for positional args tuple") }
                    value = args[n]
                } else if case .json(.object(let o))? = args.last, let v = o[field] {
                    value = Value(json: v)
                } else {
                    throw FunctionError("KeyError", "'\(field)'")
                }
                out += value.isNull ? "None" : value.displayString
            } else if c == "}" {
                if chars.first == "}" { chars = chars.dropFirst() }
                out.append("}")
            } else {
                out.append(c)
            }
        }
        return out
    }

    // MARK: math

    static func numeric(_ args: [ColumnType]) -> ColumnType {
        let nullable = args.contains { $0.nullable }
        return ColumnType(args.allSatisfy { $0.kind == .int } ? .int : .float, nullable: nullable)
    }

    static let mathFunctions: [ExpressionFunction] = [
        ExpressionFunction("math.abs", [.init("self", .number)], returnType: { numeric([$0[0]]) }) { a in
            if case .int(let i) = a[0] { return .int(abs(i)) }
            return .float(abs(try double(a[0])))
        },
        ExpressionFunction("math.round", [.init("self", .number), .init("digits", .int, default: .null)],
            returnType: { args in
                var t = args.count > 1 && args[1].kind == .int && false ? args[0] : ColumnType(.float)
                t.nullable = args[0].nullable
                return args[0].kind == .int ? ColumnType(.int, nullable: args[0].nullable) : t
            }, propagatesNull: false
        ) { a in
            if a[0].isNull { return .null }
            if case .int(let i) = a[0] { return .int(i) }
            let d = try double(a[0])
            guard !a[1].isNull else { return .float(d.rounded(.toNearestOrEven)) }
            let p = pow(10.0, Double(try int(a[1])))
            return .float((d * p).rounded(.toNearestOrEven) / p)
        },
        ExpressionFunction("math.floor", [.init("self", .number)], returnType: { numeric([$0[0]]) }) { a in
            if case .int = a[0] { return a[0] }
            return .float(try double(a[0]).rounded(.down))
        },
        ExpressionFunction("math.ceil", [.init("self", .number)], returnType: { numeric([$0[0]]) }) { a in
            if case .int = a[0] { return a[0] }
            return .float(try double(a[0]).rounded(.up))
        },
        ExpressionFunction("math.sqrt", [.init("self", .number)], returnType: same(floatType)) { a in
            let d = try double(a[0])
            guard d >= 0 else { throw FunctionError("ValueError", "math domain error") }
            return .float(d.squareRoot())
        },
        ExpressionFunction("math.pow", [.init("self", .number), .init("exponent", .number)], returnType: same(floatType)) { a in
            let base = try double(a[0])
            let r = pow(base, try double(a[1]))
            guard r.isFinite || !base.isFinite else { throw FunctionError("OverflowError", "math range error") }
            return .float(r)
        },
        ExpressionFunction("math.min", [.init("self", .number), .init("other", .number)], returnType: numeric, variadic: true) { a in
            try extreme(a, pickLess: true)
        },
        ExpressionFunction("math.max", [.init("self", .number), .init("other", .number)], returnType: numeric, variadic: true) { a in
            try extreme(a, pickLess: false)
        },
        ExpressionFunction("math.log", [.init("self", .number)], returnType: same(floatType)) { a in
            let d = try double(a[0])
            guard d > 0 else { throw FunctionError("ValueError", "math domain error") }
            return .float(Foundation.log(d))
        },
    ]

    static func extreme(_ a: [Value], pickLess: Bool) throws -> Value {
        var best = a[0]
        var bestValue = try double(best)
        for v in a.dropFirst() {
            let d = try double(v)
            if pickLess ? d < bestValue : d > bestValue {
                best = v
                bestValue = d
            }
        }
        if a.contains(where: { if case .float = $0 { return true }; return false }) { return .float(try double(best)) }
        return best
    }

    // MARK: json

    static let jsonFunctions: [ExpressionFunction] = [
        ExpressionFunction("json.dumps", [.init("self", .any)], returnType: { _ in ColumnType(.string, nullable: false) }, propagatesNull: false) { a in
            .string(JSONWriter(style: .spaced).string(a[0].json))
        },
        ExpressionFunction("json.loads", [.init("self", .string)], returnType: { _ in jsonType }) { a in
            do throws(JSONParser.Failure) {
                return .json(try JSONParser.parse(str(a[0])))
            } catch {
                throw FunctionError("JSONDecodeError", error.description)
            }
        },
        ExpressionFunction(
            "json.get", [.init("self", .json), .init("key", .any), .init("default", .any, default: .null)],
            returnType: { _ in jsonType }, propagatesNull: false
        ) { a in
            guard case .json(let j) = a[0] else { return a[2] }
            let path: [JSONValue]
            switch a[1] {
            case .string(let s): path = s.split(separator: ".").map { Int($0).map { .int(Int64($0)) } ?? .string(String($0)) }
            case .int(let i): path = [.int(i)]
            case .json(.array(let items)): path = items
            default: path = [a[1].json]
            }
            var cur = j
            for p in path {
                switch (cur, p) {
                case (.object(let o), .string(let k)):
                    guard let v = o[k] else { return a[2] }
                    cur = v
                case (.array(let items), .int(let i)):
                    let k = i < 0 ? Int(i) + items.count : Int(i)
                    guard k >= 0 && k < items.count else { return a[2] }
                    cur = items[k]
                default: return a[2]
                }
            }
            return .json(cur)
        },
        ExpressionFunction("json.len", [.init("self", .json)], returnType: { _ in ColumnType(.int) }) { a in
            switch a[0].json {
            case .array(let x): return .int(Int64(x.count))
            case .object(let o): return .int(Int64(o.count))
            case .string(let s): return .int(Int64(s.count))
            default: throw FunctionError("TypeError", "object of type '\(pythonTypeName(a[0].json))' has no len()")
            }
        },
    ]

    // MARK: casts

    static func cast(_ name: String, _ target: ColumnType) -> ExpressionFunction {
        ExpressionFunction("cast.\(name)", [.init("self", .any)], returnType: { args in
            var t = target
            t.nullable = args[0].nullable
            return t
        }) { a in
            try castValue(a[0], to: target)
        }
    }

    static func castValue(_ v: Value, to target: ColumnType) throws -> Value {
        switch (target.kind, v) {
        case (.string, _): return .string(v.json.stringValue ?? JSONWriter(style: .spaced).string(v.json))
        case (.int, .float(let d)):
            guard d.isFinite else { throw FunctionError("ValueError", "cannot convert float \(d) to integer") }
            return .int(Int64(d.rounded(.towardZero)))
        case (.int, .bool(let b)): return .int(b ? 1 : 0)
        case (.float, .bool(let b)): return .float(b ? 1 : 0)
        case (.bool, .int(let i)): return .bool(i != 0)
        case (.bool, .float(let d)): return .bool(d != 0)
        case (.bool, .string(let s)): return .bool(!s.isEmpty)
        default:
            switch target.coerce(v, lax: true) {
            case .success(let r): return r
            case .failure(let f): throw FunctionError("ValueError", "cannot convert to \(target.baseDescription): \(f.message)")
            }
        }
    }

    static let castFunctions: [ExpressionFunction] = [
        cast("int", ColumnType(.int, nullable: false)), cast("float", ColumnType(.float, nullable: false)),
        cast("string", ColumnType(.string, nullable: false)), cast("bool", ColumnType(.bool, nullable: false)),
        cast("json", ColumnType(.json, nullable: false)), cast("timestamp", ColumnType(.timestamp, nullable: false)),
        cast("date", ColumnType(.date, nullable: false)), cast("uuid", ColumnType(.uuid, nullable: false)),
    ]

    // MARK: timestamp and date

    static func ts(_ v: Value) throws -> Timestamp {
        switch v {
        case .timestamp(let t): return t
        case .date(let d): return Timestamp(microseconds: Int64(d.daysSinceEpoch) * 86_400_000_000)
        default: throw FunctionError("TypeError", "expected a Timestamp, got \(v.kindDescription)")
        }
    }

    static func part(_ ns: String, _ name: String, _ get: @escaping @Sendable (Timestamp) -> Int) -> ExpressionFunction {
        ExpressionFunction("\(ns).\(name)", [.init("self", ns == "date" ? .date : .timestamp)], returnType: same(intType)) { a in
            .int(Int64(get(try ts(a[0]))))
        }
    }

    static let timeFunctions: [ExpressionFunction] = {
        var fs: [ExpressionFunction] = []
        for ns in ["timestamp", "date"] {
            fs.append(part(ns, "year") { $0.components.year })
            fs.append(part(ns, "month") { $0.components.month })
            fs.append(part(ns, "day") { $0.components.day })
            fs.append(part(ns, "weekday") { $0.dateValue.weekday })
            fs.append(part(ns, "isoweekday") { $0.dateValue.weekday + 1 })
            fs.append(part(ns, "toordinal") { $0.dateValue.daysSinceEpoch + 719_163 })
        }
        fs.append(part("timestamp", "hour") { $0.components.hour })
        fs.append(part("timestamp", "minute") { $0.components.minute })
        fs.append(part("timestamp", "second") { $0.components.second })
        fs.append(part("timestamp", "microsecond") { $0.components.microsecond })
        fs.append(ExpressionFunction("timestamp.date", [.init("self", .timestamp)], returnType: same(ColumnType(.date, nullable: false))) { a in
            .date(try ts(a[0]).dateValue)
        })
        fs.append(ExpressionFunction("timestamp.isoformat", [.init("self", .timestamp)], returnType: same(stringType)) { a in
            .string(try ts(a[0]).pythonISOFormat)
        })
        fs.append(ExpressionFunction("date.isoformat", [.init("self", .date)], returnType: same(stringType)) { a in
            .string(try ts(a[0]).dateValue.description)
        })
        fs.append(ExpressionFunction("timestamp.strftime", [.init("self", .timestamp), .init("format", .string)], returnType: same(stringType)) { a in
            .string(strftime(try ts(a[0]), str(a[1])))
        })
        fs.append(ExpressionFunction("date.strftime", [.init("self", .date), .init("format", .string)], returnType: same(stringType)) { a in
            .string(strftime(try ts(a[0]), str(a[1])))
        })
        fs.append(ExpressionFunction("timestamp.now", [], returns: ColumnType(.timestamp, nullable: false), deterministic: false) { _ in
            .timestamp(.now)
        })
        return fs
    }()

    static func strftime(_ t: Timestamp, _ f: String) -> String {
        let c = t.components
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        var out = ""
        var it = f.makeIterator()
        while let ch = it.next() {
            guard ch == "%", let d = it.next() else { out.append(ch); continue }
            switch d {
            case "Y": out += String(format: "%04d", c.year)
            case "y": out += String(format: "%02d", c.year % 100)
            case "m": out += String(format: "%02d", c.month)
            case "d": out += String(format: "%02d", c.day)
            case "H": out += String(format: "%02d", c.hour)
            case "M": out += String(format: "%02d", c.minute)
            case "S": out += String(format: "%02d", c.second)
            case "f": out += String(format: "%06d", c.microsecond)
            case "B": out += months[c.month - 1]
            case "b": out += String(months[c.month - 1].prefix(3))
            case "A": out += days[t.dateValue.weekday]
            case "a": out += String(days[t.dateValue.weekday].prefix(3))
            case "j": out += String(format: "%03d", t.dateValue.daysSinceEpoch - DateValue.days(year: c.year, month: 1, day: 1) + 1)
            case "%": out += "%"
            default: out += "%" + String(d)
            }
        }
        return out
    }

    // MARK: uuid

    static let uuidFunctions: [ExpressionFunction] = [
        ExpressionFunction("uuid.uuid4", [], returns: ColumnType(.uuid, nullable: false), deterministic: false) { _ in .uuid(UUID()) },
        ExpressionFunction("uuid.hex", [.init("self", .uuid)], returnType: same(stringType)) { a in
            guard case .uuid(let u) = a[0] else { throw FunctionError("TypeError", "expected a UUID") }
            return .string(u.uuidString.lowercased().replacingOccurrences(of: "-", with: ""))
        },
    ]
}
