import GRDB

/// A query ready to run: which table, which rows, which values, in which order.
struct QueryPlan: Sendable {
    var snapshot: TableSnapshot
    /// Read the table as of this version; `nil` for the current version.
    var asOfVersion: Int? = nil
    var filters: [TypedExpr] = []
    var select: [(String, TypedExpr)] = []
    var orderBy: [(TypedExpr, Bool)] = []
    var limit: Int? = nil
    var parameters: [String: Value] = [:]
}

/// A stored row version read for a query or a write.
struct ScannedRow {
    var rowid: Int64
    var rid: Int64
    var context: RowContext
}

/// Runs queries: SQL for what SQLite evaluates exactly (visibility, filters, order, limit),
/// the engine's evaluator for the rest.
enum QueryExecutor {
    /// Which stored columns (and which error cells) must be read, and which unstored computed
    /// columns must be evaluated, to evaluate `exprs`.
    struct Needs {
        var stored: Set<Int> = []
        var errorCells: Set<Int> = []
        var unstored: Set<Int> = []
    }

    static func needs(_ exprs: [TypedExpr], _ snap: TableSnapshot) -> Needs {
        var n = Needs()
        func visit(_ e: TypedExpr) {
            e.visit { x in
                switch x.node {
                case .column(let id): addColumn(id)
                case .property(let id, let p):
                    if p == .errortype || p == .errormsg { n.errorCells.insert(id) } else { addColumn(id) }
                case .similarity(let id, let index, _):
                    addColumn(id)
                    addColumn(index.vectorColumnID)
                default: break
                }
            }
        }
        func addColumn(_ id: Int) {
            guard let c = snap.byID[id] else { return }
            if c.record.stored {
                n.stored.insert(id)
            } else if !n.unstored.contains(id) {
                n.unstored.insert(id)
                if let e = c.expr { visit(e) }
            }
        }
        for e in exprs { visit(e) }
        return n
    }

    static func visibility(_ asOf: Int?) -> String {
        if let v = asOf { return "_v_min <= \(v) AND _v_max > \(v)" }
        return "_v_max = \(StoreDDL.live)"
    }

    /// Reads row versions, evaluating `filters` (SQL where possible) and unstored columns.
    static func scan(
        _ db: Database, _ snap: TableSnapshot, asOf: Int?, filters: [TypedExpr], needs extra: [TypedExpr],
        loadAll: Bool, parameters: [String: Value], orderBy: [(TypedExpr, Bool)] = [], limit: Int? = nil,
        queryEmbeddings: QueryEmbeddingCache? = nil, rowids: [Int64]? = nil
    ) throws -> [ScannedRow] {
        let compiler = SQLCompiler(snapshot: snap)
        var sqlWhere: [String] = [visibility(asOf)]
        var args: [DatabaseValue] = []
        if let rowids { sqlWhere.append("_rowid IN (\(rowids.map(String.init).joined(separator: ",")))") }
        var residual: [TypedExpr] = []
        for f in filters {
            if let frag = compiler.compile(f) {
                sqlWhere.append(frag.sql)
                args += frag.values(parameters)
            } else {
                residual.append(f)
            }
        }
        var need = needs(residual + extra + orderBy.map(\.0), snap)
        if loadAll {
            for c in snap.storedColumns {
                need.stored.insert(c.id)
                if c.record.hasErrorCells { need.errorCells.insert(c.id) }
            }
        }
        let storedCols = snap.allColumns.filter { need.stored.contains($0.id) && $0.record.stored }
        let errorCols = snap.allColumns.filter { need.errorCells.contains($0.id) && $0.record.hasErrorCells }
        var select = ["_rowid", "_rid"]
        select += storedCols.map(\.record.sqlName)
        for c in errorCols { select += [c.record.errorTypeSQLName, c.record.errorMessageSQLName] }
        var sql = "SELECT \(select.joined(separator: ", ")) FROM \(snap.dataTableName) WHERE \(sqlWhere.joined(separator: " AND "))"
        // Order and limit go to SQLite only when it sees every filter and every sort key.
        var sortedInSQL = orderBy.isEmpty
        if !orderBy.isEmpty && residual.isEmpty {
            let terms = orderBy.compactMap { compiler.orderTerm($0.0, ascending: $0.1) }
            if terms.count == orderBy.count {
                sql += " ORDER BY " + terms.map(\.sql).joined(separator: ", ")
                args += terms.flatMap { $0.values(parameters) }
                sortedInSQL = true
            }
        }
        if orderBy.isEmpty { sql += " ORDER BY _rowid" }
        if let limit, residual.isEmpty, sortedInSQL { sql += " LIMIT \(limit)" }

        let unstored = snap.allColumns.filter { need.unstored.contains($0.id) }.sorted { $0.id < $1.id }
        let evaluator = ExpressionEvaluator(queryEmbeddings: queryEmbeddings, media: snap.media)
        var out: [ScannedRow] = []
        let statement = try db.cachedStatement(sql: sql)
        let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(args))
        while let row = try cursor.next() {
            var ctx = RowContext(width: snap.width, parameters: parameters)
            var i = 2
            for c in storedCols {
                ctx.values[c.id] = StoredValue.decode(row[i] as DatabaseValue, c.type)
                i += 1
            }
            for c in errorCols {
                ctx.setError(c.id, type: row[i], message: row[i + 1])
                i += 2
            }
            for c in unstored {
                guard let e = c.expr else { continue }
                do {
                    ctx.values[c.id] = try evaluator.evaluate(e, ctx)
                } catch {
                    ctx.values[c.id] = .null
                    ctx.setError(c.id, type: error.type, message: error.message)
                }
            }
            var keep = true
            for f in residual {
                do {
                    if try !evaluator.matches(f, ctx) { keep = false; break }
                } catch {
                    throw PixeltableError(.invalidArgument, "filter failed for a row of '\(snap.path)': \(error.type): \(error.message)")
                }
            }
            if keep { out.append(ScannedRow(rowid: row[0], rid: row[1], context: ctx)) }
        }
        if !sortedInSQL {
            var keyed: [([Value], ScannedRow)] = []
            keyed.reserveCapacity(out.count)
            for r in out {
                var keys: [Value] = []
                for (e, _) in orderBy {
                    keys.append((try? evaluator.evaluate(e, r.context)) ?? .null)
                }
                keyed.append((keys, r))
            }
            keyed.sort { a, b in
                for (k, (_, asc)) in orderBy.enumerated() {
                    let x = a.0[k], y = b.0[k]
                    if x.isNull && y.isNull { continue }
                    // Nulls last ascending, first descending, as in PostgreSQL.
                    if x.isNull { return !asc }
                    if y.isNull { return asc }
                    guard let c = ExpressionEvaluator.compareValues(x, y), c != 0 else { continue }
                    return asc ? c < 0 : c > 0
                }
                return false
            }
            out = keyed.map(\.1)
        }
        if let limit, out.count > limit { out.removeLast(out.count - limit) }
        return out
    }

    /// Runs a plan and evaluates its select list.
    ///
    /// A nearest-neighbour query (ordered by `similarity()` first, with a limit) is answered
    /// by its embedding index when `vectors` is given (``nearestRows(_:_:_:_:)``).
    static func run(_ db: Database, _ plan: QueryPlan, vectors: VectorIndexes? = nil) throws -> QueryResult {
        var plan = plan
        // Pixeltable orders an l2 index by distance whichever direction is asked (its
        // order_by_clause ignores it): nearest first, which is descending `similarity()`.
        plan.orderBy = plan.orderBy.map { key in
            if case .similarity(_, let index, _) = key.0.node, index.metric == .l2 { return (key.0, false) }
            return key
        }
        let snap = plan.snapshot
        let cache = QueryEmbeddingCache()
        let rows: [ScannedRow]
        if let vectors, let nearest = try nearestRows(db, plan, vectors, cache) {
            rows = nearest
        } else {
            rows = try scan(
                db, snap, asOf: plan.asOfVersion, filters: snap.filters + plan.filters, needs: plan.select.map(\.1),
                loadAll: false, parameters: plan.parameters, orderBy: plan.orderBy, limit: plan.limit, queryEmbeddings: cache)
        }
        let evaluator = ExpressionEvaluator(queryEmbeddings: cache, media: snap.media)
        let names = plan.select.map(\.0)
        var out: [ResultRow] = []
        out.reserveCapacity(rows.count)
        for r in rows {
            var values: [Value] = []
            values.reserveCapacity(plan.select.count)
            for (name, e) in plan.select {
                do {
                    let v = try evaluator.evaluate(e, r.context)
                    values.append(snap.media?.materialize(v) ?? v)
                } catch {
                    // A failing expression in a select list yields null, as a failed cell does.
                    if e.columnID != nil { values.append(.null); continue }
                    throw PixeltableError(.invalidArgument, "select item '\(name)' failed for a row of '\(snap.path)': \(error.type): \(error.message)")
                }
            }
            out.append(ResultRow(columns: names, values: values))
        }
        return QueryResult(columns: names, types: plan.select.map(\.1.type), rows: out)
    }

    /// The rows of a nearest-neighbour query, found through the embedding index: the `limit`
    /// rows most similar to the query value among those the filters keep (all filters must
    /// compile to SQL, which then picks the candidate rows: the answer is exact, not merely
    /// approximate). Without filters a large table's HNSW graph answers. `nil` when the plan
    /// is not such a query; the caller scans then.
    static func nearestRows(_ db: Database, _ plan: QueryPlan, _ vectors: VectorIndexes, _ cache: QueryEmbeddingCache) throws -> [ScannedRow]? {
        let snap = plan.snapshot
        guard plan.asOfVersion == nil, let limit = plan.limit, let (first, ascending) = plan.orderBy.first, !ascending,
            case .similarity(_, let index, let query) = first.node
        else { return nil }
        if limit == 0 { return [] }
        let filters = snap.filters + plan.filters
        let compiler = SQLCompiler(snapshot: snap)
        var conditions = [visibility(nil)]
        var args: [DatabaseValue] = []
        for f in filters {
            guard let frag = compiler.compile(f) else { return nil }
            conditions.append(frag.sql)
            args += frag.values(plan.parameters)
        }
        let evaluator = ExpressionEvaluator(queryEmbeddings: cache, media: snap.media)
        let vector: [Float]
        do {
            let q = try evaluator.evaluate(query, RowContext(width: snap.width, parameters: plan.parameters))
            if q.isNull { return nil }
            vector = try cache.embedding(for: q, index: index, context: evaluator.context)
        } catch {
            throw PixeltableError(.invalidArgument, "similarity() on index '\(index.name)' of '\(snap.path)': embedding the query failed with \(error.type): \(error.message)")
        }
        var among: [Int64]? = nil
        if filters.count > 0 {
            among = try Int64.fetchAll(db, sql: "SELECT _rowid FROM \(snap.dataTableName) WHERE \(conditions.joined(separator: " AND "))", arguments: StatementArguments(args))
        }
        guard let ids = try vectors.search(db, snap, index: index, query: vector, k: limit, among: among) else { return nil }
        if ids.isEmpty { return [] }
        return try scan(
            db, snap, asOf: nil, filters: filters, needs: plan.select.map(\.1), loadAll: false, parameters: plan.parameters,
            orderBy: plan.orderBy, limit: limit, queryEmbeddings: cache, rowids: ids)
    }

    /// A query SQLite evaluates whole: its SQL and the arguments to bind (parameters resolved
    /// per run).
    struct SingleStatement: Sendable {
        let sql: String
        let arguments: [SQLCompiler.Argument]
        let types: [ColumnType]
    }

    /// The whole query as one SQL statement, when SQLite can evaluate all of it exactly: filters
    /// and sort keys that compile, a select list of stored columns. Such a query needs none of
    /// the engine's evaluator, so it can run on a raw connection (point lookups). The statement
    /// does not depend on the parameters' values, so it is built once per query and limit.
    static func singleStatement(_ plan: QueryPlan) -> SingleStatement? {
        let snap = plan.snapshot
        guard plan.asOfVersion == nil else { return nil }
        var columns: [String] = []
        var types: [ColumnType] = []
        for (_, e) in plan.select {
            guard let id = e.columnID, let c = snap.byID[id], c.record.stored else { return nil }
            columns.append(c.record.sqlName)
            types.append(c.type)
        }
        let compiler = SQLCompiler(snapshot: snap)
        var conditions = ["_v_max = \(StoreDDL.live)"]
        var args: [SQLCompiler.Argument] = []
        for f in snap.filters + plan.filters {
            guard let frag = compiler.compile(f) else { return nil }
            conditions.append(frag.sql)
            args += frag.arguments
        }
        var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(snap.dataTableName) WHERE \(conditions.joined(separator: " AND "))"
        if plan.orderBy.isEmpty {
            // Equality on every primary-key column selects at most one live row (the key's index
            // is unique): there is no order to impose, and SQLite need not build a sorter for
            // every point lookup.
            if !pinsPrimaryKey(snap, snap.filters + plan.filters) { sql += " ORDER BY _rowid" }
        } else {
            var terms: [String] = []
            for (e, asc) in plan.orderBy {
                guard let t = compiler.orderTerm(e, ascending: asc) else { return nil }
                terms.append(t.sql)
                args += t.arguments
            }
            sql += " ORDER BY " + terms.joined(separator: ", ")
        }
        if let limit = plan.limit { sql += " LIMIT \(limit)" }
        return SingleStatement(sql: sql, arguments: args, types: types)
    }

    /// Whether `filters` (all of which hold) compare every primary-key column for equality with
    /// a parameter or a literal.
    static func pinsPrimaryKey(_ snap: TableSnapshot, _ filters: [TypedExpr]) -> Bool {
        guard !snap.primaryKey.isEmpty else { return false }
        var pinned = Set<Int>()
        func collect(_ e: TypedExpr) {
            guard case .binary(let op, let a, let b) = e.node else { return }
            switch op {
            case .and:
                collect(a)
                collect(b)
            case .equal:
                switch (a.node, b.node) {
                case (.column(let id), .param), (.column(let id), .literal), (.param, .column(let id)), (.literal, .column(let id)):
                    pinned.insert(id)
                default: break
                }
            default: break
            }
        }
        filters.forEach(collect)
        return snap.primaryKey.allSatisfy { pinned.contains($0.id) }
    }

    /// The default select list: every user column (`includeUnstored` adds unstored computed ones).
    static func defaultSelect(_ snap: TableSnapshot, includeUnstored: Bool = true) -> [(String, TypedExpr)] {
        snap.columns.filter { includeUnstored || $0.record.stored }.map { ($0.name, TypedExpr(.column($0.id), $0.type)) }
    }
}
