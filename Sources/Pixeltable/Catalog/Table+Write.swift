import GRDB

/// What a write did.
public struct WriteResult: Sendable {
    /// Rows inserted, updated or deleted.
    public var rowCount: Int
    /// Computed cells that stored an error instead of a value.
    public var errorCount: Int
    /// The written rows with every column, computed ones included (empty for deletes).
    public var rows: [ResultRow]
    /// The table version the write created; `nil` when nothing changed.
    public var version: Int?
}

/// What a batch update does with a key that matches no row.
public enum IfNotExists: String, Sendable {
    /// Skip the row.
    case ignore
    /// Fail the whole batch.
    case error
}

extension Table {
    /// Retries `body` when the table's schema changed between preparing and writing.
    ///
    /// The first attempt uses the last known catalog state without reading the database: the
    /// write transaction re-checks the schema version, so a stale snapshot only costs a retry.
    /// With `expectedSchemaVersion`, a schema other than that one fails with SCHEMA_MISMATCH.
    func withSchemaRetry<T>(expectedSchemaVersion: Int? = nil, _ body: (TableSnapshot) async throws -> T) async throws(PixeltableError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            let snap: TableSnapshot
            var optimistic = false
            if attempt == 1, let known = catalog.lastKnownState?.tables[id] {
                snap = known
                optimistic = true
            } else {
                snap = try await snapshot()
            }
            if let expected = expectedSchemaVersion, snap.schemaVersion != expected {
                if attempt == 1 { continue }
                throw PixeltableError(.schemaMismatch, "table schema changed since route was registered; please restart the service")
            }
            do {
                return try await body(snap)
            } catch is SchemaChanged {
                if attempt >= 8 { throw PixeltableError(.concurrentModification, "the schema of '\(snap.path)' kept changing during the write") }
            } catch {
                // A failure against a cached snapshot may only mean the cache is stale (a column
                // was renamed, say): check against the current schema before reporting it.
                if optimistic, let fresh = try? await snapshot(), fresh.schemaVersion != snap.schemaVersion { continue }
                throw Catalog.wrap(error)
            }
        }
    }

    func requireTable(_ snap: TableSnapshot, _ verb: String) throws(PixeltableError) {
        // A component view's schema is its own: computed columns and indexes can be added.
        if snap.isComponentView && verb == "change the schema of" { return }
        guard snap.kind == .table else {
            throw PixeltableError(.unsupportedOperation, "cannot \(verb) view '\(snap.path)'")
        }
    }

    /// Inserts rows and returns them as stored, computed columns included.
    ///
    /// Either every row is stored or none is: a wrong type, a null in a required column, a
    /// duplicate primary key or (with `on_error = abort`) a failing computed column rejects the
    /// whole batch with an error naming the table, the column and the row.
    ///
    /// - Parameters:
    ///   - rows: Column values by name; omitted nullable columns are null.
    ///   - onError: Overrides each computed column's own `on_error` for this insert.
    ///   - lax: Accept strings for numbers and booleans (form fields, query strings, CSV).
    ///   - expectedSchemaVersion: Fail with SCHEMA_MISMATCH, writing nothing, unless the table's
    ///     schema version is this one (see ``schemaVersion()``).
    ///   - baseDirectory: What relative media paths are relative to; the working directory by
    ///     default.
    ///   - outbox: Stores a message for each row in the same transaction (``OutboxWrite``).
    ///   - job: Marks a background job done in the same transaction (``JobOutcomeWrite``).
    ///
    /// Media columns take a local path or `file://` URL (referenced where it is), an
    /// `http(s)://` URL (fetched into the file cache, and checked), or an in-memory
    /// ``Value/image(_:)``; files in the home's `tmp/` (uploads) and computed images are stored
    /// under `media/`.
    @discardableResult
    public func insert(
        _ rows: [[String: Value]], onError: OnError? = nil, lax: Bool = false, expectedSchemaVersion: Int? = nil, baseDirectory: String? = nil,
        outbox: OutboxWrite? = nil, job: JobOutcomeWrite? = nil
    ) async throws(PixeltableError) -> WriteResult {
        let t = self
        return try await withSchemaRetry(expectedSchemaVersion: expectedSchemaVersion) { snap in
            try t.requireTable(snap, "insert into")
            let w = RowWriter(snap: snap)
            if let media = snap.media, snap.writableColumns.contains(where: \.type.isMedia) {
                await media.prefetch(rows, columns: snap.writableColumns.filter(\.type.isMedia))
            }
            var prepared = try w.prepare(rows, lax: lax, baseDirectory: baseDirectory)
            if prepared.isEmpty { return WriteResult(rowCount: 0, errorCount: 0, rows: [], version: nil) }
            try w.checkBatchKeys(prepared)
            // Uploads handed in are staged first, so that they flush to disk while the row is
            // computed; computed images are staged once they exist.
            let placement = w.placement()
            let (given, computed) = (snap.mediaColumns.filter { !$0.isComputed }, snap.mediaColumns.filter(\.isComputed))
            try placement?.stage(prepared, columns: given, table: w.tableName())
            let errors: Int
            let views: ComponentViewBatch
            do {
                (prepared, errors) = try await w.computeAway(prepared, onError: onError)
                try placement?.stage(prepared, columns: computed, table: w.tableName(), owning: true)
                views = try await ComponentViewBatch.prepare(snap, prepared, context: t.catalog.functionContext, onError: onError)
            } catch {
                placement?.finish(committed: nil)
                throw error
            }
            let batch = prepared
            // Without media to place, the stored rows are known before the transaction: their
            // outbox messages are made here, off the writer thread that every write waits for.
            let early = placement == nil ? outbox.map { o in
                let results = w.results(batch)
                return (rows: results, messages: o.messages(results))
            } : nil
            let recordsRows = outbox != nil || job != nil
            // A key that is already taken fails its INSERT on the primary key's unique index;
            // the group committer then rolls back and redoes the batch with savepoints, so the
            // version claimed here is only kept with the rows.
            let (version, recorded, viewVersions): (Int, [ResultRow]?, [Int])
            do {
                (version, recorded, viewVersions) = try await t.catalog.committer.write { db in
                    let (version, firstRID) = try w.beginInsert(db, rowCount: batch.count)
                    try placement?.place(version: version)
                    let rows = placement?.resolve(batch, version: version) ?? batch
                    var rid = firstRID
                    for (i, r) in rows.enumerated() {
                        try w.insertChecked(db, r, index: i, rid: rid, version: version)
                        rid += 1
                    }
                    try w.recordInsert(db, version: version, counts: VersionCounts(inserts: batch.count, errors: errors))
                    let viewVersions = try views.write(db, baseRows: rows, baseRIDs: (0..<Int64(rows.count)).map { firstRID + $0 }, retiring: [], baseVersion: version)
                    guard recordsRows else { return (version, nil, viewVersions) }
                    let results = early?.rows ?? w.results(rows)
                    if let outbox { try outbox.record(db, messages: early?.messages ?? outbox.messages(results)) }
                    try job?.record(db, rows: results, count: results.count)
                    return (version, results, viewVersions)
                }
            } catch {
                placement?.finish(committed: nil)
                views.finish(committed: nil)
                throw error
            }
            let stored = placement?.resolve(batch, version: version) ?? batch
            placement?.finish(committed: version)
            views.finish(committed: viewVersions)
            return WriteResult(rowCount: batch.count, errorCount: errors, rows: recorded ?? w.results(stored), version: version)
        }
    }

    /// Inserts one row.
    @discardableResult
    public func insert(_ row: [String: Value], onError: OnError? = nil) async throws(PixeltableError) -> ResultRow {
        let r = try await insert([row], onError: onError)
        return r.rows[0]
    }

    /// Sets columns on every row matching `filter` (all rows when `nil`).
    ///
    /// - Parameters:
    ///   - values: New values by column name.
    ///   - expressions: New values computed from each row's current values, e.g.
    ///     `["views": "views + 1"]`.
    ///   - filter: Which rows to update.
    /// Computed columns that depend on an updated column are recomputed.
    @discardableResult
    public func update(_ values: [String: Value], expressions: [String: String] = [:], where filter: String? = nil) async throws(PixeltableError) -> WriteResult {
        let t = self
        return try await withSchemaRetry { snap in
            try t.requireTable(snap, "update")
            var assignments: [(ColumnInfo, Value)] = []
            for (name, v) in values.sorted(by: { $0.key < $1.key }) {
                let c = try t.updatableColumn(snap, name)
                switch c.type.coerce(v) {
                case .success(let cv): assignments.append((c, try RowWriter(snap: snap).checkMedia(cv, c, row: 0, baseDirectory: nil)))
                case .failure(let f):
                    throw PixeltableError(f.isNull ? .missingRequired : .typeMismatch, "Table '\(snap.path)', column '\(c.name)': \(f.message)")
                }
            }
            var computed: [(ColumnInfo, TypedExpr)] = []
            for (name, text) in expressions.sorted(by: { $0.key < $1.key }) {
                let c = try t.updatableColumn(snap, name)
                let (e, _) = try snap.bind(text)
                guard c.type.accepts(e.type) || e.type.kind == .json || (c.type.kind == e.type.kind) else {
                    throw PixeltableError(.typeMismatch, "Table '\(snap.path)', column '\(c.name)': '\(text)' is \(e.type.baseDescription), not \(c.type.baseDescription)")
                }
                computed.append((c, e))
            }
            let changed = Set(assignments.map(\.0.id) + computed.map(\.0.id))
            if changed.isEmpty { throw PixeltableError(.invalidArgument, "update of '\(snap.path)' sets no columns") }
            let filters = try filter.map { text throws(PixeltableError) -> TypedExpr in
                let (e, _) = try snap.bind(text)
                return e
            }
            let deps = snap.dependents(of: changed)
            let w = RowWriter(snap: snap)
            let assignmentList = assignments
            let computedList = computed
            // Each matching row with the assignments and expressions applied to its current values.
            let applied = { @Sendable (scanned: [ScannedRow]) throws(PixeltableError) -> [RowContext] in
                let evaluator = ExpressionEvaluator(media: snap.media)
                var newRows: [RowContext] = []
                newRows.reserveCapacity(scanned.count)
                for (i, r) in scanned.enumerated() {
                    var ctx = r.context
                    for (c, v) in assignmentList { ctx.values[c.id] = v }
                    for (c, e) in computedList {
                        let v: Value
                        do throws(FunctionError) { v = try evaluator.evaluate(e, r.context) } catch {
                            throw PixeltableError(.invalidArgument, "Table '\(snap.path)', column '\(c.name)', row \(i): \(error.type): \(error.message)")
                        }
                        switch c.type.coerce(v) {
                        case .success(let cv): ctx.values[c.id] = cv
                        case .failure(let f): throw PixeltableError(f.isNull ? .missingRequired : .typeMismatch, "Table '\(snap.path)', column '\(c.name)', row \(i): \(f.message)")
                        }
                    }
                    newRows.append(ctx)
                }
                return newRows
            }
            let scanMatching = { @Sendable (db: Database) throws -> [ScannedRow] in
                try QueryExecutor.scan(db, snap, asOf: nil, filters: filters.map { [$0] } ?? [], needs: [], loadAll: true, parameters: [:])
            }
            return try await t.writeUpdate(snap, w, deps: deps) { db in
                let scanned = try scanMatching(db)
                return (scanned, try applied(scanned))
            }
        }
    }

    /// Writes an update as one new version: the rows `read` returns (as stored, and with the
    /// update applied) get their columns in `deps` recomputed — before the write transaction
    /// when one calls a model or an API (``PrecomputedUpdate``) —, then each stored version is
    /// retired and the new one inserted under the same row id.
    func writeUpdate(
        _ snap: TableSnapshot, _ w: RowWriter, deps: [ColumnInfo], outbox: OutboxWrite? = nil, job: JobOutcomeWrite? = nil,
        read: @escaping @Sendable (Database) throws -> ([ScannedRow], [RowContext])
    ) async throws -> WriteResult {
        // Untyped: a schema change met inside the transaction must reach withSchemaRetry as it is.
        let early = try await computeBeforeWriting(snap, w, deps, read: read)
        let placement = w.placement()
        let views = try ComponentViewBatch.writers(snap, context: catalog.functionContext)
        let outcome: (Int?, [RowContext], Int, [ResultRow]?, [Int])
        do {
            outcome = try await catalog.committer.write { db in
                let (current, nextRID) = try w.begin(db)
                var (scanned, rows, errors): ([ScannedRow], [RowContext], Int)
                if let early, try early.isCurrent(db, snap) {
                    (scanned, rows, errors) = (early.scanned, early.rows, early.errors)
                } else {
                    (scanned, rows) = try read(db)
                    errors = try w.compute(&rows, only: deps)
                }
                if scanned.isEmpty { return (nil, [], 0, nil, []) }
                let version = current + 1
                rows = try w.placeMedia(rows, version: version, into: placement)
                for (r, row) in zip(scanned, rows) {
                    try w.retire(db, rowid: r.rowid, version: version)
                    try w.insert(db, row, rid: r.rid, version: version)
                }
                try w.finish(db, version: version, nextRID: nextRID, counts: VersionCounts(updates: rows.count, errors: errors))
                // Updated rows' components are made again, here: the update's values are only
                // known inside the transaction.
                let rids = scanned.map(\.rid)
                let viewVersions = try views.remake(db, baseRows: rows, baseRIDs: rids, baseVersion: version)
                if outbox == nil && job == nil { return (version, rows, errors, nil, viewVersions) }
                let results = w.results(rows)
                try outbox?.record(db, results)
                try job?.record(db, rows: results, count: results.count)
                return (version, rows, errors, results, viewVersions)
            }
        } catch {
            placement?.finish(committed: nil)
            views.finish(committed: nil)
            throw error
        }
        placement?.finish(committed: outcome.0)
        views.finish(committed: outcome.4)
        let (version, updated, errors, recorded, _) = outcome
        return WriteResult(rowCount: updated.count, errorCount: errors, rows: recorded ?? w.results(updated), version: version)
    }

    func updatableColumn(_ snap: TableSnapshot, _ name: String) throws(PixeltableError) -> ColumnInfo {
        let c = try snap.column(name)
        if c.isComputed { throw PixeltableError(.invalidArgument, "Table '\(snap.path)', column '\(name)': a computed column cannot be updated") }
        if c.record.isPrimaryKey { throw PixeltableError(.invalidArgument, "Table '\(snap.path)', column '\(name)': a primary key column cannot be updated") }
        return c
    }

    /// Updates rows identified by their primary key: each row holds the key columns plus the
    /// columns to set.
    ///
    /// - Parameters:
    ///   - ifNotExists: What a key that matches no row does.
    ///   - outbox: Stores a message for each updated row in the same transaction (``OutboxWrite``).
    ///   - job: Marks a background job done in the same transaction (``JobOutcomeWrite``).
    /// - Returns: The updated rows, every column included, in the order given.
    @discardableResult
    public func batchUpdate(
        _ rows: [[String: Value]], ifNotExists: IfNotExists = .error, expectedSchemaVersion: Int? = nil, outbox: OutboxWrite? = nil,
        job: JobOutcomeWrite? = nil
    ) async throws(PixeltableError) -> WriteResult {
        let t = self
        return try await withSchemaRetry(expectedSchemaVersion: expectedSchemaVersion) { snap in
            try t.requireTable(snap, "update")
            guard !snap.primaryKey.isEmpty else {
                throw PixeltableError(.unsupportedOperation, "batch update of '\(snap.path)' needs a primary key")
            }
            var keys: [[Value]] = []
            var sets: [[(ColumnInfo, Value)]] = []
            for (i, row) in rows.enumerated() {
                var key: [Value] = []
                for c in snap.primaryKey {
                    guard let v = row[c.name], !v.isNull else {
                        throw PixeltableError(.missingRequired, "Table '\(snap.path)', column '\(c.name)', row \(i): the primary key is required to identify the row")
                    }
                    guard case .success(let cv) = c.type.coerce(v) else {
                        throw PixeltableError(.typeMismatch, "Table '\(snap.path)', column '\(c.name)', row \(i): expected \(c.type.baseDescription), got \(v.kindDescription)")
                    }
                    key.append(cv)
                }
                var set: [(ColumnInfo, Value)] = []
                for (name, v) in row.sorted(by: { $0.key < $1.key }) where !snap.primaryKey.contains(where: { $0.name == name }) {
                    guard snap.byName[name] != nil else {
                        throw PixeltableError(.columnNotFound, "Table '\(snap.path)', row \(i): unknown column '\(name)'")
                    }
                    let c = try t.updatableColumn(snap, name)
                    switch c.type.coerce(v) {
                    case .success(let cv): set.append((c, try RowWriter(snap: snap).checkMedia(cv, c, row: i, baseDirectory: nil)))
                    case .failure(let f):
                        throw PixeltableError(f.isNull ? .missingRequired : .typeMismatch, "Table '\(snap.path)', column '\(c.name)', row \(i): \(f.message)")
                    }
                }
                keys.append(key)
                sets.append(set)
            }
            let w = RowWriter(snap: snap)
            let keyList = keys
            let setList = sets
            let deps = snap.dependents(of: Set(setList.flatMap { $0.map(\.0.id) }))
            // The rows the keys name, as stored and with their new values set.
            let findRows = { @Sendable (db: Database) throws -> ([ScannedRow], [RowContext]) in
                var scanned: [ScannedRow] = []
                var rows: [RowContext] = []
                for (i, key) in keyList.enumerated() {
                    var filters: [TypedExpr] = []
                    for (c, v) in zip(snap.primaryKey, key) {
                        filters.append(TypedExpr(.binary(.equal, TypedExpr(.column(c.id), c.type), TypedExpr(.literal(v), c.type.required)), .bool))
                    }
                    guard let r = try QueryExecutor.scan(db, snap, asOf: nil, filters: filters, needs: [], loadAll: true, parameters: [:]).first else {
                        if ifNotExists == .ignore { continue }
                        throw PixeltableError(.rowNotFound, "Table '\(snap.path)', row \(i): no row has primary key \(w.keyText(key))")
                    }
                    var ctx = r.context
                    for (c, v) in setList[i] { ctx.values[c.id] = v }
                    scanned.append(r)
                    rows.append(ctx)
                }
                return (scanned, rows)
            }
            return try await t.writeUpdate(snap, w, deps: deps, outbox: outbox, job: job, read: findRows)
        }
    }

    /// Deletes the rows matching `filter` (all rows when `nil`); they stay readable in older
    /// versions.
    @discardableResult
    public func delete(where filter: String? = nil) async throws(PixeltableError) -> WriteResult {
        let t = self
        return try await withSchemaRetry { snap in
            try t.requireTable(snap, "delete from")
            let filters = try filter.map { text throws(PixeltableError) -> TypedExpr in try snap.bind(text).0 }
            return try await t.deleteMatching(snap, filters: filters.map { [$0] } ?? [])
        }
    }

    /// Deletes rows where each column equals the given value (AND-ed).
    ///
    /// - Parameter job: Marks a background job done in the same transaction, when a row is
    ///   deleted (``JobOutcomeWrite``).
    @discardableResult
    public func delete(matching values: [String: Value], expectedSchemaVersion: Int? = nil, job: JobOutcomeWrite? = nil) async throws(PixeltableError) -> WriteResult {
        let t = self
        return try await withSchemaRetry(expectedSchemaVersion: expectedSchemaVersion) { snap in
            try t.requireTable(snap, "delete from")
            var filters: [TypedExpr] = []
            for (name, v) in values.sorted(by: { $0.key < $1.key }) {
                let c = try snap.column(name)
                let lit: Value
                switch c.type.optional.coerce(v) {
                case .success(let cv): lit = cv
                case .failure(let f): throw PixeltableError(.typeMismatch, "Table '\(snap.path)', column '\(name)': \(f.message)")
                }
                if lit.isNull {
                    filters.append(TypedExpr(.isNull(TypedExpr(.column(c.id), c.type), negated: false), .bool))
                } else {
                    filters.append(TypedExpr(.binary(.equal, TypedExpr(.column(c.id), c.type), TypedExpr(.literal(lit), c.type.required)), .bool))
                }
            }
            return try await t.deleteMatching(snap, filters: filters, job: job)
        }
    }

    private func deleteMatching(_ snap: TableSnapshot, filters: [TypedExpr], job: JobOutcomeWrite? = nil) async throws -> WriteResult {
        let w = RowWriter(snap: snap)
        let views = try ComponentViewBatch.writers(snap, context: catalog.functionContext)
        let (version, n): (Int?, Int) = try await catalog.committer.write { db in
            let (current, nextRID) = try w.begin(db)
            let rows = try QueryExecutor.scan(db, snap, asOf: nil, filters: filters, needs: [], loadAll: false, parameters: [:])
            if rows.isEmpty { return (nil, 0) }
            let version = current + 1
            for r in rows { try w.retire(db, rowid: r.rowid, version: version) }
            try w.finish(db, version: version, nextRID: nextRID, counts: VersionCounts(deletes: rows.count))
            _ = try views.write(db, baseRows: [], baseRIDs: [], retiring: rows.map(\.rid), baseVersion: version)
            try job?.record(db, rows: [], count: rows.count)
            return (version, rows.count)
        }
        return WriteResult(rowCount: n, errorCount: 0, rows: [], version: version)
    }
}
