import GRDB

extension Table {
    /// Runs a schema change as one new table version and one new schema version.
    ///
    /// `body` edits the schema (and the physical table) and returns the history's
    /// `schema_change` text and the version's row counts.
    func changeSchema(
        _ body: @escaping @Sendable (inout TableSchema, TableSnapshot, Database, _ newVersion: Int, _ nextColumnID: inout Int) throws -> (String?, VersionCounts)
    ) async throws(PixeltableError) -> Int {
        let t = self
        return try await withSchemaRetry { snap in
            try t.requireTable(snap, "change the schema of")
            return try await t.catalog.committer.write { db in
                let w = RowWriter(snap: snap)
                let (current, _) = try w.begin(db)
                var nextCol = try Int.fetchOne(db, sql: "SELECT next_col_id FROM pxt_tables WHERE id = ?", arguments: [snap.id]) ?? 0
                var schema = snap.storageSchema
                let version = current + 1
                let (change, counts) = try body(&schema, snap, db, version, &nextCol)
                let sv = snap.schemaVersion + 1
                let text = schema.encoded()
                try db.execute(
                    sql: "UPDATE pxt_tables SET schema = ?, schema_version = ?, version = ?, next_col_id = ? WHERE id = ?",
                    arguments: [text, sv, version, nextCol, snap.id])
                try db.execute(sql: "INSERT OR REPLACE INTO pxt_schemas (table_id, schema_version, schema) VALUES (?, ?, ?)", arguments: [snap.id, sv, text])
                try Catalog.recordVersion(
                    db, tableID: snap.id, version: version, at: Timestamp.now.microseconds, change: .schema, counts: counts,
                    schemaChange: change, schemaVersion: sv)
                try CatalogState.bumpGeneration(db)
                return version
            }
        }
    }

    /// Adds a stored column; existing rows get null, so the column must be nullable unless the
    /// table is empty.
    @discardableResult
    public func addColumn(_ name: String, _ type: ColumnType, comment: String? = nil, ifExists: IfExists = .error) async throws(PixeltableError) -> Int? {
        guard CatalogPath.isValidName(name) else {
            throw PixeltableError(.invalidColumnName, "Invalid column name '\(name)'")
        }
        if ifExists == .ignore, try await snapshot().byName[name] != nil { return nil }
        return try await changeSchema { schema, snap, db, version, nextCol in
            if schema.column(named: name) != nil {
                throw PixeltableError(.columnAlreadyExists, "Column '\(name)' already exists in table '\(snap.path)'")
            }
            if !type.nullable {
                let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(snap.dataTableName) WHERE _v_max = \(StoreDDL.live)") ?? 0
                if n > 0 {
                    throw PixeltableError(.invalidArgument, "Cannot add required column '\(name)' to table '\(snap.path)': its \(n) existing row(s) would have no value")
                }
            }
            let rec = ColumnRecord(id: nextCol, name: name, type: type, comment: comment, versionAdded: version)
            nextCol += 1
            schema.columns.append(rec)
            try StoreDDL.addColumn(db, tableID: snap.id, column: rec)
            return ("Added: \(name)", .zero)
        }
    }

    /// Adds a computed column and computes it for the rows already there.
    ///
    /// - Parameters:
    ///   - expression: The expression over existing columns, e.g. `title.upper()`.
    ///   - stored: False to compute values when read.
    ///   - onError: What a failing row does, now and in later writes.
    @discardableResult
    public func addComputedColumn(
        _ name: String, expression: String, stored: Bool = true, onError: OnError = .abort, comment: String? = nil, type: ColumnType? = nil,
        ifExists: IfExists = .error
    ) async throws(PixeltableError) -> Int? {
        guard CatalogPath.isValidName(name) else {
            throw PixeltableError(.invalidColumnName, "Invalid column name '\(name)'")
        }
        if ifExists == .ignore, try await snapshot().byName[name] != nil { return nil }
        let functions = catalog.functions
        let placement = MediaPlacement(store: catalog.media, tableID: id)
        do {
            let version = try await changeSchema { schema, snap, db, version, nextCol in
                try Self.addComputed(
                    name, expression: expression, stored: stored, onError: onError, comment: comment, type: type, schema: &schema, snap: snap, db: db,
                    version: version, nextCol: &nextCol, functions: functions, placement: placement)
            }
            placement.finish(committed: version)
            return version
        } catch {
            placement.finish(committed: nil)
            throw error
        }
    }

    /// The schema edit of ``addComputedColumn(_:expression:stored:onError:comment:type:ifExists:)``, run in its transaction.
    static func addComputed(
        _ name: String, expression: String, stored: Bool, onError: OnError, comment: String?, type: ColumnType?, schema: inout TableSchema, snap: TableSnapshot,
        db: Database, version: Int, nextCol: inout Int, functions: FunctionRegistry, placement: MediaPlacement
    ) throws -> (String?, VersionCounts) {
        if schema.column(named: name) != nil {
            throw PixeltableError(.columnAlreadyExists, "Column '\(name)' already exists in table '\(snap.path)'")
        }
        var spec = ColumnSpec.computed(name, expression, stored: stored, onError: onError, comment: comment)
        spec.type = type
        let rec = try Catalog.compileComputed(
            spec, id: nextCol, schema: schema, functions: functions, path: snap.path, version: version, checkContext: FunctionContext(media: snap.media))
        nextCol += 1
        schema.columns.append(rec)
        var errors = 0
        if rec.stored {
            try StoreDDL.addColumn(db, tableID: snap.id, column: rec)
            errors = try Self.fill(db, snap: snap, schema: schema, columnIDs: [rec.id], functions: functions, version: version, placement: placement)
        }
        return ("Added: \(name)", VersionCounts(errors: errors))
    }

    /// A value computed ahead of a schema change for a row version, with the input it was
    /// computed from: it is used only if the row still holds that input.
    struct Precomputed: Sendable {
        var input: Value
        var result: Result<Value, FunctionError>
    }

    /// Evaluates `call` (over `column` only) for every live row, in batches, reporting progress.
    func precompute(_ call: String, column: ColumnInfo, progress: (@Sendable (Int, Int) -> Void)?) async throws(PixeltableError) -> [Int64: Precomputed] {
        let snap = try await snapshot()
        // Bound with the checks on: a model that is not installed fails here, before any row
        // is embedded.
        var scope = snap.scope
        scope.checkContext = FunctionContext(media: snap.media)
        let expr: TypedExpr
        do { (expr, _) = try ExpressionBinder(scope: scope, source: call).bind(try ExpressionParser.parse(call)) } catch { throw error.pixeltableError }
        let rows = try await catalog.read { db, _ in
            try QueryExecutor.scan(db, snap, asOf: nil, filters: [], needs: [expr], loadAll: false, parameters: [:])
        }
        if rows.isEmpty { return [:] }
        let writer = RowWriter(snap: snap)
        let evaluator = ExpressionEvaluator(media: snap.media)
        var out: [Int64: Precomputed] = [:]
        out.reserveCapacity(rows.count)
        let batch = 256
        var done = 0
        progress?(0, rows.count)
        while done < rows.count {
            let chunk = Array(rows[done..<min(rows.count, done + batch)])
            let results = writer.evaluate(expr, chunk.map(\.context), evaluator)
            for (r, v) in zip(chunk, results) { out[r.rowid] = Precomputed(input: r.context.value(column.id), result: v) }
            done += chunk.count
            progress?(done, rows.count)
            await Task.yield()
        }
        return out
    }

    /// Computes stored computed columns for every live row, in place (used when a column is
    /// added: the values belong to the version that added it). `precomputed` holds values of
    /// the one column in `columnIDs` computed before the transaction, by row version.
    static func fill(
        _ db: Database, snap old: TableSnapshot, schema: TableSchema, columnIDs: [Int], functions: FunctionRegistry, version: Int, placement: MediaPlacement? = nil,
        precomputed: [Int64: Precomputed] = [:]
    ) throws -> Int {
        let snap = TableSnapshot(
            id: old.id, path: old.path, kind: old.kind, baseID: old.baseID, schemaVersion: old.schemaVersion + 1, createdAt: old.createdAt,
            schema: schema, storageID: old.storageID, storageSchema: schema, storageSchemaVersion: old.storageSchemaVersion + 1,
            filters: [], ownFilterSyntax: nil, functions: functions, media: old.media)
        let cols = columnIDs.compactMap { snap.byID[$0] }
        var rows = try QueryExecutor.scan(db, snap, asOf: nil, filters: [], needs: cols.compactMap(\.expr), loadAll: false, parameters: [:])
        if rows.isEmpty { return 0 }
        var contexts = rows.map(\.context)
        var errors = 0
        if !precomputed.isEmpty, cols.count == 1, let c = cols.first, let input = c.expr?.columnIDs.first, c.expr?.columnIDs.count == 1 {
            // Rows computed ahead keep their values; only rows written since are computed here.
            var rest: [Int] = []
            for (i, r) in rows.enumerated() {
                guard let p = precomputed[r.rowid], p.input == contexts[i].value(input) else {
                    rest.append(i)
                    continue
                }
                switch p.result {
                case .success(let v): contexts[i].values[c.id] = v
                case .failure(let e):
                    contexts[i].values[c.id] = .null
                    contexts[i].setError(c.id, type: e.type, message: e.message)
                    errors += 1
                }
            }
            var pending = rest.map { contexts[$0] }
            errors += try RowWriter(snap: snap).compute(&pending, only: cols)
            for (k, i) in rest.enumerated() { contexts[i] = pending[k] }
        } else {
            errors = try RowWriter(snap: snap).compute(&contexts, only: cols)
        }
        if let placement, cols.contains(where: \.type.isMedia) {
            placement.restart()
            try placement.stage(contexts, columns: cols.filter(\.type.isMedia), table: snap.path.description)
            try placement.place(version: version)
            contexts = placement.resolve(contexts, version: version)
        }
        for c in cols {
            let sql = "UPDATE \(snap.dataTableName) SET \(c.record.sqlName) = ?, \(c.record.errorTypeSQLName) = ?, \(c.record.errorMessageSQLName) = ? WHERE _rowid = ?"
            let stmt = try db.makeStatement(sql: sql)
            for (i, r) in rows.enumerated() {
                try stmt.execute(arguments: [StoredValue.encode(contexts[i].value(c.id)), contexts[i].errorType(c.id), contexts[i].errorMessage(c.id), r.rowid])
            }
        }
        rows.removeAll()
        return errors
    }

    /// Drops a column; refused while a computed column, an index or a view uses it.
    public func dropColumn(_ name: String) async throws(PixeltableError) {
        let t = self
        _ = try await changeSchema { schema, snap, db, _, _ in
            let c = try snap.column(name)
            if c.record.isPrimaryKey { throw PixeltableError(.invalidArgument, "Cannot drop primary key column '\(name)' of table '\(snap.path)'") }
            let users = snap.columns.filter { $0.expr?.columnIDs.contains(c.id) ?? false }.map(\.name)
            if !users.isEmpty {
                throw PixeltableError(
                    .invalidState,
                    "Cannot drop column '\(name)' of table '\(snap.path)': computed column\(users.count > 1 ? "s" : "") \(users.map { "'\($0)'" }.joined(separator: ", ")) depend\(users.count > 1 ? "" : "s") on it")
            }
            let state = try t.catalog.state(db, cache: false)
            for v in state.allDependentViews(of: snap.id) where v.ownFilterSyntax.map({ SyntaxCoding.columnIDs($0).contains(c.id) }) ?? false {
                throw PixeltableError(.invalidState, "Cannot drop column '\(name)' of table '\(snap.path)': view '\(v.path)' filters on it")
            }
            for idx in schema.indexes where idx.columnID == c.id {
                if idx.kind == .embedding, let vid = idx.vectorColumnID {
                    schema.columns.removeAll { $0.id == vid }
                }
                try StoreDDL.dropIndex(db, tableID: snap.id, index: idx)
            }
            schema.indexes.removeAll { $0.columnID == c.id }
            // The stored values stay, so that older versions and a revert can still read them.
            schema.columns.removeAll { $0.id == c.id }
            return ("Dropped: \(name)", .zero)
        }
    }

    /// Renames a column; computed columns and views that use it keep working.
    public func renameColumn(_ name: String, to newName: String) async throws(PixeltableError) {
        guard CatalogPath.isValidName(newName) else { throw PixeltableError(.invalidColumnName, "Invalid column name '\(newName)'") }
        _ = try await changeSchema { schema, snap, _, _, _ in
            let c = try snap.column(name)
            if schema.column(named: newName) != nil {
                throw PixeltableError(.columnAlreadyExists, "Column '\(newName)' already exists in table '\(snap.path)'")
            }
            guard let i = schema.columns.firstIndex(where: { $0.id == c.id }) else { return (nil, .zero) }
            schema.columns[i].name = newName
            return ("Altered: \(name) (renamed to \(newName))", .zero)
        }
    }

    /// Sets the table's comment.
    public func setComment(_ comment: String?) async throws(PixeltableError) {
        _ = try await changeSchema { schema, _, _, _, _ in
            schema.comment = comment
            return ("Altered: table comment", .zero)
        }
    }

    /// Sets a column's comment.
    public func setColumnComment(_ column: String, _ comment: String?) async throws(PixeltableError) {
        _ = try await changeSchema { schema, snap, _, _, _ in
            let c = try snap.column(column)
            guard let i = schema.columns.firstIndex(where: { $0.id == c.id }) else { return (nil, .zero) }
            schema.columns[i].comment = comment
            return ("Altered: \(column) (comment)", .zero)
        }
    }

    /// Creates a B-tree index on a column, used by equality and range filters.
    @discardableResult
    public func createIndex(on column: String, name: String? = nil, ifExists: IfExists = .error) async throws(PixeltableError) -> String {
        let existing = try await snapshot()
        let col = try existing.column(column)
        if ifExists == .ignore, let idx = existing.storageSchema.indexes.first(where: { $0.kind == .btree && $0.columnID == col.id && (name == nil || $0.name == name) && !$0.isAutomatic }) {
            return idx.name
        }
        let chosen = name ?? "idx_\(column)"
        guard CatalogPath.isValidName(chosen) || chosen.hasPrefix("idx_") else { throw PixeltableError(.invalidArgument, "Invalid index name '\(chosen)'") }
        _ = try await changeSchema { schema, snap, db, version, _ in
            let c = try snap.column(column)
            guard c.record.stored else { throw PixeltableError(.invalidArgument, "Cannot index unstored computed column '\(column)'") }
            switch c.type.kind {
            case .json, .array, .binary: throw PixeltableError(.invalidType, "Cannot create a B-tree index on column '\(column)' of type \(c.type.baseDescription)")
            default: break
            }
            if schema.indexes.contains(where: { $0.name == chosen }) {
                throw PixeltableError(.indexAlreadyExists, "Index '\(chosen)' already exists on table '\(snap.path)'")
            }
            let idx = IndexRecord(name: chosen, columnID: c.id, kind: .btree, versionAdded: version)
            schema.indexes.append(idx)
            try StoreDDL.createIndex(db, tableID: snap.id, schema: schema, index: idx)
            return ("Added: index \(chosen)", .zero)
        }
        return chosen
    }

    /// Creates an embedding index on a column, searchable with `col.similarity(x)`.
    ///
    /// The rows already in the table are embedded before the schema change, outside the write
    /// transaction (a model may need minutes for a large table, and writers should not wait);
    /// the transaction embeds only rows written meanwhile.
    ///
    /// ```swift
    /// try await docs.createEmbeddingIndex(
    ///     on: "body", name: "body_idx",
    ///     embedding: "huggingface.sentence_transformer(model_id='sentence-transformers/all-MiniLM-L6-v2')")
    /// let hits = try await docs.query()
    ///     .select(["id", "body.similarity('a cat asleep') as score"])
    ///     .orderBy(["body.similarity('a cat asleep') desc"]).limit(5).collect()
    /// ```
    ///
    /// - Parameters:
    ///   - embedding: The embedding call applied to the column, e.g. `text.embed_hash(dims=256)`.
    ///   - metric: `cosine`, `ip` or `l2`.
    ///   - progress: Called with (rows embedded, rows to embed) as the existing rows are embedded.
    /// - Throws: `INVALID_ARGUMENT` for a bad metric or call, `INDEX_ALREADY_EXISTS`, and the
    ///   embedding function's own errors (a model that is not installed).
    @discardableResult
    public func createEmbeddingIndex(
        on column: String, name: String? = nil, embedding: String, metric: String = "cosine", ifExists: IfExists = .error,
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async throws(PixeltableError) -> String {
        _ = try VectorMetric(name: metric)
        let existing = try await snapshot()
        let col = try existing.column(column)
        let chosen = name ?? "\(column)_embedding"
        if ifExists == .ignore, existing.storageSchema.indexes.contains(where: { $0.name == chosen && $0.columnID == col.id }) { return chosen }
        if existing.storageSchema.indexes.contains(where: { $0.name == chosen }) {
            throw PixeltableError(.indexAlreadyExists, "Index '\(chosen)' already exists on table '\(existing.path)'")
        }
        let functions = catalog.functions
        let call = try Self.embeddingCall(embedding, column: column)
        let precomputed = try await precompute(call, column: col, progress: progress)
        _ = try await changeSchema { schema, snap, db, version, nextCol in
            let c = try snap.column(column)
            if schema.indexes.contains(where: { $0.name == chosen }) {
                throw PixeltableError(.indexAlreadyExists, "Index '\(chosen)' already exists on table '\(snap.path)'")
            }
            var rec = try Catalog.compileComputed(
                .computed("_emb_\(chosen)", call, stored: true, onError: .ignore), id: nextCol, schema: schema, functions: functions, path: snap.path,
                version: version, checkContext: FunctionContext(media: snap.media))
            guard rec.type.kind == .array else {
                throw PixeltableError(.invalidType, "embedding '\(embedding)' for column '\(c.name)' does not produce an array")
            }
            rec.isHidden = true
            nextCol += 1
            schema.columns.append(rec)
            let index = IndexRecord(name: chosen, columnID: c.id, kind: .embedding, metric: metric, embedding: embedding, vectorColumnID: rec.id, versionAdded: version)
            schema.indexes.append(index)
            try StoreDDL.addColumn(db, tableID: snap.id, column: rec)
            try StoreDDL.createIndex(db, tableID: snap.id, schema: schema, index: index)
            let errors = try Self.fill(db, snap: snap, schema: schema, columnIDs: [rec.id], functions: functions, version: version, precomputed: precomputed)
            return ("Added: index \(chosen)", VersionCounts(errors: errors))
        }
        return chosen
    }

    /// Turns `text.embed_hash(dims=256)` into `text.embed_hash(col, dims=256)`.
    static func embeddingCall(_ embedding: String, column: String) throws(PixeltableError) -> String {
        let syntax: Syntax
        do { syntax = try ExpressionParser.parse(embedding) } catch { throw error.pixeltableError }
        switch syntax.kind {
        case .call(let callee, let args, let kwargs):
            guard let name = callee.dottedName?.joined(separator: ".") else { break }
            let argText = ([column] + args.map { SyntaxCoding.display($0) { "#\($0)" } } + kwargs.map { "\($0.name)=" + SyntaxCoding.display($0.value) { "#\($0)" } })
            return "\(name)(\(argText.joined(separator: ", ")))"
        case .name(let n), .member(_, let n):
            _ = n
            if let name = syntax.dottedName?.joined(separator: ".") { return "\(name)(\(column))" }
        default: break
        }
        throw PixeltableError(.invalidArgument, "embedding must be a function call such as 'text.embed_hash(dims=256)', not '\(embedding)'")
    }

    /// Drops an index by name.
    public func dropIndex(_ name: String) async throws(PixeltableError) {
        let existing = try await snapshot()
        let vector = existing.storageSchema.indexes.first { $0.name == name }?.vectorColumnID
        defer { if let vector { catalog.vectorIndexes.forget(storageID: existing.storageID, vectorColumn: "c\(vector)") } }
        _ = try await changeSchema { schema, snap, db, _, _ in
            guard let idx = schema.indexes.first(where: { $0.name == name }) else {
                throw PixeltableError(.indexNotFound, "Index '\(name)' does not exist on table '\(snap.path)'")
            }
            if idx.isAutomatic { throw PixeltableError(.invalidArgument, "Index '\(name)' belongs to the primary key and cannot be dropped") }
            try StoreDDL.dropIndex(db, tableID: snap.id, index: idx)
            schema.indexes.removeAll { $0.name == name }
            if let vid = idx.vectorColumnID { schema.columns.removeAll { $0.id == vid } }
            return ("Dropped: index \(name)", .zero)
        }
    }
}
