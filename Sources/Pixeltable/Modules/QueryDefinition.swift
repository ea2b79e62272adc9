import Synchronization
/// A named query from a module file's `[[query]]` (the counterpart of `@pxt.query` and
/// `pxt.retrieval_udf`).
public struct QueryDefinition: Sendable, Hashable {
    /// A typed parameter, referenced in expressions as `:name`.
    public struct Parameter: Sendable, Hashable {
        public var name: String
        public var type: ColumnType
        /// The value used when the argument is omitted; `nil` makes it required.
        public var defaultValue: Value?
    }

    /// The row limit: none, a number, or a parameter.
    public enum Limit: Sendable, Hashable {
        case none
        case value(Int)
        case parameter(String)
    }

    public var name: String
    public var table: CatalogPath
    /// Declared parameters, in order (for retrieval queries, filled in when compiled).
    public var parameters: [Parameter]
    /// Select items (`expr [as name]`); empty selects every column.
    public var select: [SourceExpression]
    public var filter: SourceExpression?
    /// Sort keys (`expr [asc|desc]`).
    public var orderBy: [SourceExpression]
    public var limit: Limit
    /// For retrieval queries: the columns matched by equality; all columns are returned.
    public var retrieval: [String]?
    /// Return a list of values of the single select item instead of row objects.
    public var returnScalar: Bool
    public var description: String?
    public var location: FileLocation

    static func parse(_ q: TOMLReader, lines: [String]) throws(PixeltableError) -> QueryDefinition {
        try q.checkKeys(["name", "table", "params", "select", "where", "order_by", "limit", "retrieval", "return_scalar", "description"])
        let name = try q.string("name", required: true)!
        guard CatalogPath.isValidName(name) else { throw q.error("invalid query name '\(name)'", line: q.table["name"]?.line) }
        let tableText = try q.string("table", required: true)!
        let table: CatalogPath
        do { table = try CatalogPath(tableText) } catch { throw q.error("query '\(name)': table '\(tableText)': \(error.message)", line: q.table["table"]?.line) }
        let file = q.file
        func loc(_ line: Int, _ column: Int = 0) -> FileLocation { FileLocation(file: file, line: line, column: column) }
        var params: [Parameter] = []
        if let p = try q.subtable("params", context: "params of query '\(name)'") {
            for (pname, node) in p.table.entries {
                var typeText: String
                var def: TOMLNode? = nil
                switch node.value {
                case .string(let s): typeText = s
                case .table(let spec):
                    let r = TOMLReader(spec, file: file, context: "parameter '\(pname)' of query '\(name)'", line: node.line)
                    try r.checkKeys(["type", "default"])
                    typeText = try r.string("type", required: true)!
                    def = spec["default"]
                default:
                    throw p.typeError(pname, node, "a type string or { type = ..., default = ... }")
                }
                let type: ColumnType
                do { type = try ColumnType.parse(typeText) } catch { throw p.error("parameter '\(pname)' of query '\(name)': \(error.message)", line: node.line) }
                var defaultValue: Value? = nil
                if let def {
                    let raw = Self.value(def.value)
                    switch type.optional.coerce(raw) {
                    case .success(let v): defaultValue = v
                    case .failure(let f): throw p.error("default of parameter '\(pname)' of query '\(name)': \(f.message)", line: def.line)
                    }
                }
                params.append(Parameter(name: pname, type: type, defaultValue: defaultValue))
            }
        }
        func exprList(_ key: String) throws(PixeltableError) -> [SourceExpression] {
            guard let n = q.table[key] else { return [] }
            guard case .array(let items) = n.value else { throw q.typeError(key, n, "a list of expression strings") }
            var out: [SourceExpression] = []
            for item in items {
                guard case .string(let s) = item.value else { throw q.typeError(key, item, "a list of expression strings") }
                out.append(ModuleFile.sourceExpression(s, file, lines, item))
            }
            return out
        }
        var filter: SourceExpression? = nil
        if let n = q.table["where"] {
            guard case .string(let s) = n.value else { throw q.typeError("where", n, "an expression string") }
            filter = ModuleFile.sourceExpression(s, file, lines, n)
        }
        var limit = Limit.none
        if let n = q.table["limit"] {
            switch n.value {
            case .integer(let i) where i >= 0: limit = .value(Int(i))
            case .string(let s) where s.hasPrefix(":"):
                let p = String(s.dropFirst())
                guard let decl = params.first(where: { $0.name == p }) else { throw q.error("limit of query '\(name)' names unknown parameter '\(s)'", line: n.line) }
                guard decl.type.kind == .int else { throw q.error("limit parameter '\(s)' of query '\(name)' must be Int, not \(decl.type.baseDescription)", line: n.line) }
                limit = .parameter(p)
            default: throw q.typeError("limit", n, "a non-negative integer or \":param\"")
            }
        }
        let retrieval = try q.stringList("retrieval")
        if let r = retrieval {
            if r.isEmpty { throw q.error("Parameter list cannot be empty.", line: q.table["retrieval"]?.line) }
            let selectItems = try exprList("select")
            if !params.isEmpty || !selectItems.isEmpty || filter != nil {
                throw q.error("a retrieval query takes no params, select or where: its parameters are the retrieval columns", line: q.line)
            }
            if case .none = limit { limit = .value(10) }
        }
        return QueryDefinition(
            name: name, table: table, parameters: params, select: try exprList("select"), filter: filter, orderBy: try exprList("order_by"),
            limit: limit, retrieval: retrieval, returnScalar: try q.bool("return_scalar") ?? false, description: try q.string("description"),
            location: loc(q.line))
    }

    /// A TOML value as an engine value (arrays and tables as JSON).
    static func value(_ v: TOMLValue) -> Value {
        switch v {
        case .string(let s): return .string(s)
        case .integer(let i): return .int(i)
        case .float(let d): return .float(d)
        case .boolean(let b): return .bool(b)
        case .datetime(let s): return .string(s)
        case .array, .table: return .json(v.json)
        }
    }

    /// Compiles the query against the catalog as it is now: resolves the table, type-checks every
    /// expression, and freezes the result columns.
    public func compile(_ catalog: Catalog) async throws(PixeltableError) -> CompiledQuery {
        let def = self
        let state = try await catalog.currentState()
        let snap: TableSnapshot
        do {
            snap = try Catalog.resolveTable(state, table)
        } catch {
            throw PixeltableError(error.code, "\(location): query '\(name)': \(error.message)")
        }
        return try CompiledQuery(definition: def, snapshot: snap, catalog: catalog)
    }
}

/// A named query bound to a table: run it with arguments.
public final class CompiledQuery: Sendable {
    /// What the module file declared.
    public let definition: QueryDefinition
    /// The parameters, retrieval columns included.
    public let parameters: [QueryDefinition.Parameter]
    /// The result's column names.
    public let columns: [String]
    /// The result's column types.
    public let types: [ColumnType]
    /// The table the query reads.
    public let table: Table
    let plan: QueryPlan

    init(definition: QueryDefinition, snapshot snap: TableSnapshot, catalog: Catalog) throws(PixeltableError) {
        self.definition = definition
        self.table = Table(catalog: catalog, id: snap.id, path: snap.path)
        let (params, plan) = try Self.makePlan(definition, snap)
        self.parameters = params
        self.columns = plan.select.map(\.0)
        self.types = plan.select.map(\.1.type)
        self.plan = plan
    }

    /// Binds every part of a query definition against a table: its parameters and plan.
    static func makePlan(_ definition: QueryDefinition, _ snap: TableSnapshot) throws(PixeltableError) -> ([QueryDefinition.Parameter], QueryPlan) {
        let name = definition.name
        var params = definition.parameters
        var plan = QueryPlan(snapshot: snap)
        var filterExprs: [SourceExpression] = []
        if let retrieval = definition.retrieval {
            params = []
            var conds: [String] = []
            for col in retrieval {
                guard let c = snap.byName[col] else {
                    throw PixeltableError(.invalidConfiguration, "\(definition.location): The specified parameter '\(col)' is not a column of the table '\(snap.path)'")
                }
                params.append(.init(name: col, type: c.type.required, defaultValue: nil))
                conds.append("\(col) == :\(col)")
            }
            filterExprs.append(SourceExpression(text: conds.joined(separator: " and "), location: definition.location))
        } else if let f = definition.filter {
            filterExprs.append(f)
        }
        let paramTypes = Dictionary(params.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        func bind(_ e: SourceExpression, _ what: String, allowAlias: Bool = false) throws(PixeltableError) -> (Syntax, TypedExpr) {
            do {
                let syntax = try ExpressionParser.parse(e.text, allowAlias: allowAlias)
                var scope = snap.scope
                scope.parameters = paramTypes
                var inner = syntax
                if case .alias(let x, _) = syntax.kind { inner = x }
                return (syntax, try ExpressionBinder(scope: scope, source: e.text).bind(inner).0)
            } catch {
                throw e.error(error, "query '\(name)' \(what)")
            }
        }
        for f in filterExprs {
            let (_, typed) = try bind(f, "where")
            guard typed.type.kind == .bool || typed.type.kind == .json else {
                throw PixeltableError(.typeMismatch, "\(f.location): query '\(name)' where: '\(f.text)' must be a Bool expression, not \(typed.type.baseDescription)")
            }
            plan.filters.append(typed)
        }
        if definition.select.isEmpty {
            plan.select = QueryExecutor.defaultSelect(snap)
        } else {
            var used = Set<String>()
            for (i, item) in definition.select.enumerated() {
                let (syntax, typed) = try bind(item, "select", allowAlias: true)
                var n: String
                if case .alias(_, let a) = syntax.kind { n = a } else { n = SelectList.defaultName(syntax, index: i) }
                let base = n
                var k = 1
                while used.contains(n) { n = "\(base)_\(k)"; k += 1 }
                used.insert(n)
                plan.select.append((n, typed))
            }
        }
        for o in definition.orderBy {
            let parsed: (Syntax, ascending: Bool)
            do { parsed = try ExpressionParser.parseOrderItem(o.text) } catch { throw o.error(error, "query '\(name)' order_by") }
            if case .name(let n) = parsed.0.kind, snap.byName[n] == nil, let item = plan.select.first(where: { $0.0 == n }) {
                plan.orderBy.append((item.1, parsed.ascending))
                continue
            }
            var scope = snap.scope
            scope.parameters = paramTypes
            do {
                plan.orderBy.append((try ExpressionBinder(scope: scope, source: o.text).bind(parsed.0).0, parsed.ascending))
            } catch {
                throw o.error(error, "query '\(name)' order_by")
            }
        }
        if definition.returnScalar && plan.select.count != 1 {
            throw PixeltableError(.invalidConfiguration, "\(definition.location): query '\(name)': return_scalar needs exactly one select item, not \(plan.select.count)")
        }
        if case .value(let n) = definition.limit { plan.limit = n }
        return (params, plan)
    }

    /// Checks and converts arguments: unknown names, missing required parameters and wrong types
    /// are errors; omitted parameters take their defaults.
    ///
    /// - Parameter lax: Accept strings for numbers and booleans (query strings, form fields,
    ///   `--arg k=v`).
    public func arguments(_ args: [String: Value], lax: Bool = false) throws(PixeltableError) -> [String: Value] {
        let name = definition.name
        for k in args.keys.sorted() where !parameters.contains(where: { $0.name == k }) {
            let known = parameters.map(\.name).joined(separator: ", ")
            throw PixeltableError(.invalidArgument, "query '\(name)': unknown parameter '\(k)'" + (known.isEmpty ? " (it takes none)" : " (parameters: \(known))"))
        }
        var out: [String: Value] = [:]
        for p in parameters {
            guard let raw = args[p.name] else {
                guard let d = p.defaultValue else {
                    throw PixeltableError(.missingRequired, "query '\(name)': missing required parameter '\(p.name)'")
                }
                out[p.name] = d
                continue
            }
            let type = p.defaultValue != nil ? p.type.optional : p.type
            switch type.coerce(raw, lax: lax) {
            case .success(let v): out[p.name] = v
            case .failure(let f): throw PixeltableError(f.isNull ? .missingRequired : .typeMismatch, "query '\(name)': parameter '\(p.name)': \(f.message)")
            }
        }
        return out
    }

    func resolvedPlan(_ args: [String: Value]) throws(PixeltableError) -> QueryPlan {
        var plan = self.plan
        plan.parameters = args
        if case .parameter(let p) = definition.limit {
            guard case .int(let n) = args[p] ?? .null else {
                throw PixeltableError(.invalidArgument, "query '\(definition.name)': limit parameter '\(p)' needs a value")
            }
            guard n >= 0 else { throw PixeltableError(.invalidArgument, "query '\(definition.name)': limit parameter '\(p)' must be >= 0, not \(n)") }
            plan.limit = Int(n)
        }
        return plan
    }

    /// Runs the query with checked arguments (see ``arguments(_:lax:)``).
    public func run(_ args: [String: Value] = [:], lax: Bool = false) async throws(PixeltableError) -> QueryResult {
        let plan = try resolvedPlan(try arguments(args, lax: lax))
        let t = table
        return try await table.catalog.read { db, s in
            var p = plan
            p.snapshot = try Self.currentSnapshot(s, t, plan.snapshot)
            return try QueryExecutor.run(db, p, vectors: t.catalog.vectorIndexes)
        }
    }

    /// Single statements already built, by limit (`nil` when the query has none).
    private let statements = Mutex<[Int?: QueryExecutor.SingleStatement?]>([:])

    func singleStatement(for plan: QueryPlan) -> QueryExecutor.SingleStatement? {
        if let cached = statements.withLock({ $0[plan.limit] }) { return cached }
        let built = QueryExecutor.singleStatement(plan)
        statements.withLock { if $0.count < 64 { $0[plan.limit] = .some(built) } }
        return built
    }

    /// Runs the query on the calling thread (no hop to a reader queue): for point lookups.
    ///
    /// A query SQLite evaluates entirely (filters and order that compile to SQL, a select list
    /// of stored columns) runs as one statement on a raw read-only connection.
    public func runNow(_ args: [String: Value] = [:], lax: Bool = false) throws(PixeltableError) -> QueryResult {
        let plan = try resolvedPlan(try arguments(args, lax: lax))
        if let single = singleStatement(for: plan) {
            do {
                let values = single.arguments.map { $0.resolve(plan.parameters) }
                let rows = try table.catalog.rawReads.withConnection { try $0.query(single.sql, values, types: single.types) }
                return QueryResult(columns: columns, types: types, rows: rows.map { ResultRow(columns: columns, values: $0) })
            } catch {
                throw Catalog.wrap(error)
            }
        }
        let t = table
        return try table.catalog.readNow { db, s in
            var p = plan
            p.snapshot = try Self.currentSnapshot(s, t, plan.snapshot)
            return try QueryExecutor.run(db, p, vectors: t.catalog.vectorIndexes)
        }
    }

    /// The query keeps the columns it was compiled with; it reads the table's current storage
    /// (columns keep their ids, so renames and additions do not disturb it).
    static func currentSnapshot(_ s: CatalogState, _ t: Table, _ compiled: TableSnapshot) throws(PixeltableError) -> TableSnapshot {
        guard s.tables[t.id] != nil else { throw PixeltableError(.tableNotFound, "Table '\(t.path)' was dropped.") }
        return compiled
    }
}
