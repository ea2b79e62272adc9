import GRDB

/// Translates the part of an expression SQLite evaluates exactly as the engine does into SQL,
/// so that filters use indexes and skip rows without materializing them.
///
/// Anything whose SQLite semantics differ from Python's (Unicode case mapping, integer
/// division, JSON paths, functions) is left to the engine's evaluator.
struct SQLCompiler {
    let snapshot: TableSnapshot

    /// A bound value of a fragment: a constant, or a query parameter resolved when it runs.
    enum Argument {
        case value(DatabaseValue)
        case parameter(String)

        func resolve(_ parameters: [String: Value]) -> DatabaseValue {
            switch self {
            case .value(let v): return v
            case .parameter(let p): return StoredValue.encode(parameters[p] ?? .null)
            }
        }
    }

    struct Fragment {
        var sql: String
        var arguments: [Argument]

        /// The arguments with parameters replaced by their values.
        func values(_ parameters: [String: Value]) -> [DatabaseValue] { arguments.map { $0.resolve(parameters) } }
    }

    func compile(_ e: TypedExpr) -> Fragment? {
        switch e.node {
        case .literal(let v):
            switch v {
            case .json, .array, .binary: return nil
            default: return Fragment(sql: "?", arguments: [.value(StoredValue.encode(v))])
            }
        case .column(let id):
            guard let c = snapshot.byID[id] else { return nil }
            if c.record.stored { return Fragment(sql: c.record.sqlName, arguments: []) }
            // An unstored computed column is its expression.
            guard let expr = c.expr else { return nil }
            return compile(expr)
        case .property(let id, let p):
            guard let c = snapshot.byID[id], c.record.hasErrorCells else { return nil }
            switch p {
            case .errortype: return Fragment(sql: c.record.errorTypeSQLName, arguments: [])
            case .errormsg: return Fragment(sql: c.record.errorMessageSQLName, arguments: [])
            default: return nil
            }
        case .param(let name):
            // Parameters are converted to their declared type before a query runs, so a
            // non-JSON parameter always binds as a plain value.
            guard e.type.kind != .json else { return nil }
            return Fragment(sql: "?", arguments: [.parameter(name)])
        case .binary(let op, let a, let b):
            if op == .and || op == .or {
                guard let x = compile(a), let y = compile(b) else { return nil }
                return Fragment(sql: "(\(x.sql) \(op == .and ? "AND" : "OR") \(y.sql))", arguments: x.arguments + y.arguments)
            }
            if op.isComparison {
                guard sqlComparable(a.type, b.type), let x = compile(a), let y = compile(b) else { return nil }
                let sqlOp: String
                switch op {
                case .equal: sqlOp = "="
                case .notEqual: sqlOp = "<>"
                default: sqlOp = op.rawValue
                }
                return Fragment(sql: "(\(x.sql) \(sqlOp) \(y.sql))", arguments: x.arguments + y.arguments)
            }
            switch op {
            case .add where a.type.kind == .string && b.type.kind == .string:
                guard let x = compile(a), let y = compile(b) else { return nil }
                return Fragment(sql: "(\(x.sql) || \(y.sql))", arguments: x.arguments + y.arguments)
            case .add, .subtract, .multiply:
                guard a.type.isNumeric, b.type.isNumeric, let x = compile(a), let y = compile(b) else { return nil }
                return Fragment(sql: "(\(x.sql) \(op.rawValue) \(y.sql))", arguments: x.arguments + y.arguments)
            default:
                return nil
            }
        case .unary(let op, let a):
            guard let x = compile(a) else { return nil }
            switch op {
            case .not:
                guard a.type.kind == .bool else { return nil }
                return Fragment(sql: "(NOT \(x.sql))", arguments: x.arguments)
            case .negate:
                guard a.type.isNumeric else { return nil }
                return Fragment(sql: "(-\(x.sql))", arguments: x.arguments)
            }
        case .isNull(let a, let negated):
            // JSON nulls are stored as SQL NULL, so IS NULL agrees with the evaluator.
            guard let x = compile(a) else { return nil }
            return Fragment(sql: "(\(x.sql) IS \(negated ? "NOT " : "")NULL)", arguments: x.arguments)
        case .inList(let a, let list, let negated):
            guard a.type.kind != .json, case .list(let items) = list.node, !items.isEmpty, let x = compile(a) else { return nil }
            var args = x.arguments
            for item in items {
                // NOT IN with a null behaves differently in SQL and Python.
                guard case .literal(let v) = item.node, !v.isNull, sqlComparable(a.type, item.type) else { return nil }
                args.append(.value(StoredValue.encode(v)))
            }
            let marks = Array(repeating: "?", count: items.count).joined(separator: ", ")
            return Fragment(sql: "(\(x.sql) \(negated ? "NOT IN" : "IN") (\(marks)))", arguments: args)
        case .call(let f, let args) where f.name == "string.len" && args.count == 1:
            guard let x = compile(args[0]) else { return nil }
            return Fragment(sql: "length(\(x.sql))", arguments: x.arguments)
        default:
            return nil
        }
    }

    /// Whether SQLite compares values of these types the way the engine does.
    func sqlComparable(_ a: ColumnType, _ b: ColumnType) -> Bool {
        if a.kind == .json || b.kind == .json { return false }
        if a.isNumeric && b.isNumeric { return true }
        if a.kind == b.kind {
            switch a.kind {
            case .string, .bool, .timestamp, .date, .uuid, .image, .video, .audio, .document: return true
            default: return false
            }
        }
        return (a.isMedia && b.kind == .string) || (b.isMedia && a.kind == .string)
    }

    /// An ORDER BY term; nulls sort last ascending and first descending, as in PostgreSQL.
    func orderTerm(_ e: TypedExpr, ascending: Bool) -> Fragment? {
        guard e.type.kind != .json, e.type.kind != .array, let x = compile(e) else { return nil }
        return Fragment(sql: "\(x.sql) \(ascending ? "ASC NULLS LAST" : "DESC NULLS FIRST")", arguments: x.arguments)
    }
}
