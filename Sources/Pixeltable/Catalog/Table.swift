import GRDB

/// A handle to a table or view in a catalog.
///
/// Handles follow the table through renames and moves; operations on a dropped table fail with
/// TABLE_NOT_FOUND.
public struct Table: Sendable, Hashable, CustomStringConvertible {
    /// The catalog the table lives in.
    public let catalog: Catalog
    /// The table's catalog id.
    public let id: String
    /// The path the table had when this handle was made.
    public let path: CatalogPath

    public var description: String { path.description }

    public static func == (a: Table, b: Table) -> Bool { a.id == b.id && a.catalog === b.catalog }
    public func hash(into h: inout Hasher) { h.combine(id) }

    func snapshot(_ s: CatalogState) throws(PixeltableError) -> TableSnapshot {
        try Catalog.resolveTable(s, id: id, path: path)
    }

    func snapshot() async throws(PixeltableError) -> TableSnapshot {
        let id = id, path = path
        return try await catalog.read { _, s in try Catalog.resolveTable(s, id: id, path: path) }
    }

    // MARK: reading

    /// The number of rows (as of `version`, or now).
    public func count(asOf version: Int? = nil) async throws(PixeltableError) -> Int {
        let t = self
        return try await catalog.read { db, s in
            let snap = try t.snapshot(s)
            if snap.filters.isEmpty {
                return try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM \(snap.dataTableName) WHERE \(QueryExecutor.visibility(version))")) ?? 0
            }
            return try QueryExecutor.scan(db, snap, asOf: version, filters: snap.filters, needs: [], loadAll: false, parameters: [:]).count
        }
    }

    /// A query over this table: chain `where`, `select`, `orderBy`, `limit`, then `collect()`.
    public func query() -> Query { Query(table: self) }

    /// Rows matching `filter` (an expression over the columns), all columns.
    public func select(_ items: [String] = [], where filter: String? = nil, orderBy: [String] = [], limit: Int? = nil) async throws(PixeltableError) -> QueryResult {
        var q = query()
        if !items.isEmpty { q = q.select(items) }
        if let filter { q = q.where(filter) }
        if !orderBy.isEmpty { q = q.orderBy(orderBy) }
        if let limit { q = q.limit(limit) }
        return try await q.collect()
    }

    /// The row with the given primary-key values (in declared order), or `nil`.
    ///
    /// - Parameter columns: The columns to return; unstored computed columns are included only
    ///   when named here.
    public func get(_ key: [Value], columns: [String]? = nil) async throws(PixeltableError) -> ResultRow? {
        let t = self
        return try await catalog.read { db, s in try t.lookup(db, s, key: key, columns: columns) }
    }

    /// `get` on the calling thread, without a hop to GRDB's reader queue.
    public func getNow(_ key: [Value], columns: [String]? = nil) throws(PixeltableError) -> ResultRow? {
        try catalog.readNow { db, s in try self.lookup(db, s, key: key, columns: columns) }
    }

    func lookup(_ db: Database, _ s: CatalogState, key: [Value], columns: [String]?) throws -> ResultRow? {
        let snap = try snapshot(s)
        guard !snap.primaryKey.isEmpty else {
            throw PixeltableError(.unsupportedOperation, "\(snap.path): no primary key declared; row lookup requires one")
        }
        guard key.count == snap.primaryKey.count else {
            throw PixeltableError(.invalidArgument, "\(snap.path): expected \(snap.primaryKey.count) PK value(s) for [\(snap.primaryKey.map { "'\($0.name)'" }.joined(separator: ", "))], got \(key.count)")
        }
        var filters: [TypedExpr] = []
        for (c, v) in zip(snap.primaryKey, key) {
            guard case .success(let cv) = c.type.coerce(v) else {
                throw PixeltableError(.typeMismatch, "\(snap.path): primary key column '\(c.name)' is \(c.type.baseDescription); got \(v.kindDescription) (\(v.displayString))")
            }
            filters.append(TypedExpr(.binary(.equal, TypedExpr(.column(c.id), c.type), TypedExpr(.literal(cv), c.type.required)), .bool))
        }
        let select = try Self.selectList(snap, columns: columns, includeUnstored: false)
        let r = try QueryExecutor.run(db, QueryPlan(snapshot: snap, filters: filters, select: select, limit: 2))
        if r.rows.count > 1 { throw PixeltableError(.internalError, "\(snap.path): more than one row has this primary key") }
        return r.rows.first
    }

    static func selectList(_ snap: TableSnapshot, columns: [String]?, includeUnstored: Bool) throws(PixeltableError) -> [(String, TypedExpr)] {
        guard let columns else { return QueryExecutor.defaultSelect(snap, includeUnstored: includeUnstored) }
        let unknown = columns.filter { snap.byName[$0] == nil }
        if !unknown.isEmpty { throw PixeltableError(.columnNotFound, "unknown columns: \(unknown.joined(separator: ","))") }
        return columns.map { name in
            let c = snap.byName[name]!
            return (name, TypedExpr(.column(c.id), c.type))
        }
    }

    /// The rows in which a stored computed column failed, one entry per failing cell.
    ///
    /// - Parameter column: Restrict to this computed column.
    public func errors(column: String? = nil) async throws(PixeltableError) -> [CellError] {
        let t = self
        return try await catalog.read { db, s in
            let snap = try t.snapshot(s)
            guard !snap.primaryKey.isEmpty else {
                throw PixeltableError(.unsupportedOperation, "\(snap.path): no primary key declared; errors view requires one")
            }
            // An embedding index's vectors are a hidden computed column; its failures (a model
            // gone, an API refusing) are listed under the index's name.
            var labels: [Int: String] = [:]
            for idx in snap.storageSchema.indexes where idx.kind == .embedding {
                if let v = idx.vectorColumnID { labels[v] = idx.name }
            }
            var cols = snap.columns.filter { $0.record.hasErrorCells } + snap.allColumns.filter { labels[$0.id] != nil && $0.record.hasErrorCells }
            if let column {
                if let c = snap.allColumns.first(where: { labels[$0.id] == column }) {
                    cols = [c]
                } else {
                    guard let c = snap.byName[column] else { throw PixeltableError(.columnNotFound, "unknown column: \(column)") }
                    guard c.record.hasErrorCells else {
                        throw PixeltableError(.invalidArgument, "\(column): not a stored computed column (errors view only addresses those)")
                    }
                    cols = [c]
                }
            }
            if cols.isEmpty { return [] }
            let rows = try QueryExecutor.scan(db, snap, asOf: nil, filters: snap.filters, needs: [], loadAll: true, parameters: [:])
            var out: [CellError] = []
            for r in rows {
                for c in cols {
                    guard let et = r.context.errorType(c.id) else { continue }
                    let pk = snap.primaryKey.map { ($0.name, r.context.value($0.id)) }
                    out.append(CellError(primaryKey: pk, column: labels[c.id] ?? c.name, errorType: et, errorMessage: r.context.errorMessage(c.id)))
                }
            }
            return out
        }
    }
}

/// A computed-column failure stored in one cell.
public struct CellError: Sendable, Hashable {
    /// The row's primary key, in declared order.
    public var primaryKey: [(String, Value)]
    /// The column that failed.
    public var column: String
    /// The exception type, e.g. `ZeroDivisionError`.
    public var errorType: String
    /// The exception message.
    public var errorMessage: String?

    public static func == (a: CellError, b: CellError) -> Bool {
        a.column == b.column && a.errorType == b.errorType && a.errorMessage == b.errorMessage
            && a.primaryKey.map(\.0) == b.primaryKey.map(\.0) && a.primaryKey.map(\.1) == b.primaryKey.map(\.1)
    }

    public func hash(into h: inout Hasher) {
        h.combine(column)
        h.combine(errorType)
    }
}
