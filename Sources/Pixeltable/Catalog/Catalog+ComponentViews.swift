import Foundation
import GRDB

extension Catalog {
    /// Creates a component view: one row per component (frame, segment, passage) of each row of
    /// the table `base`, as `iterator` yields them, kept in step with the base's writes.
    ///
    /// The view's columns are `pos` (the component's position within its base row), the base's
    /// stored columns (copied as they are when the view is created; columns the base gains later
    /// are not in the view), and the iterator's outputs. Computed columns and embedding indexes
    /// can then be added to the view like to a table. The view is filled from the base's current
    /// rows before this returns; its version 0 holds them.
    ///
    /// - Parameters:
    ///   - path: Where to create the view.
    ///   - base: The table whose rows are split (a table, not a view).
    ///   - iterator: The iterator call, its first argument a column of `base`:
    ///     `video.frame_iterator(video, fps=1)`, `audio.audio_splitter(audio, duration=30.0)`,
    ///     `document.document_splitter(doc, separators='paragraph,token_limit', limit=256)`,
    ///     `string.string_splitter(text, separators='sentence')`.
    ///   - comment: The view's comment.
    ///   - ifExists: `.ignore` returns an existing view at `path`.
    /// - Throws: INVALID_ARGUMENT for a bad iterator call; COLUMN_ALREADY_EXISTS when an output
    ///   is named like a base column; an iterator's failure on an existing row names the row.
    ///
    /// ```swift
    /// let frames = try await catalog.createView("media/frames", base: "media/videos", iterator: "video.frame_iterator(video, fps=1)")
    /// ```
    @discardableResult
    public func createView(
        _ path: String, base: String, iterator: String, comment: String? = nil, ifExists: IfExists = .error
    ) async throws(PixeltableError) -> Table {
        let p = try CatalogPath(path)
        let b = try CatalogPath(base)
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let context = functionContext
        for _ in 0..<5 {
            // Read the base's rows, make the components outside any transaction, then create and
            // fill the view in one transaction if the base did not change meanwhile.
            let (baseSnap, baseVersion, rows, rids, existing): (TableSnapshot, Int, [RowContext], [Int64], Table?) = try await read { db, s in
                if let e = s.entry(p) {
                    if ifExists == .ignore, case .table(let t) = e, t.isComponentView { return (t, 0, [], [], Table(catalog: self, id: t.id, path: t.path)) }
                    throw PixeltableError(.pathAlreadyExists, "Path '\(p)' already exists.")
                }
                try Self.checkParent(s, p)
                let t = try Self.resolveTable(s, b)
                guard t.kind == .table else {
                    throw PixeltableError(.unsupportedOperation, "a component view's base must be a table; '\(b)' is a view")
                }
                let v = try Int.fetchOne(db, sql: "SELECT version FROM pxt_tables WHERE id = ?", arguments: [t.id]) ?? 0
                let scanned = try QueryExecutor.scan(db, t, asOf: nil, filters: [], needs: [], loadAll: true, parameters: [:])
                return (t, v, scanned.map(\.context), scanned.map(\.rid), nil)
            }
            if let existing { return existing }
            var (call, made) = try IteratorCall.parse(iterator, base: baseSnap)
            call.text = iterator
            let schema = try Self.componentSchema(base: baseSnap, call: call, iterator: made, baseVersion: baseVersion, comment: comment)
            let now = Timestamp.now.microseconds
            let viewSnap = TableSnapshot(
                id: id, path: p, kind: .view, baseID: baseSnap.id, schemaVersion: 0, createdAt: now, schema: schema, storageID: id,
                storageSchema: schema, storageSchemaVersion: 0, filters: [], ownFilterSyntax: nil, functions: functions, media: media)
            let writer = try ComponentViewWriter(view: viewSnap)
            let pending = try await writer.generateAway(rows, context: context, onError: nil)
            let placement = writer.placement()
            do {
                try writer.stage(pending, into: placement)
                let created: Bool = try await write { db, s in
                    let current = try Int.fetchOne(db, sql: "SELECT version FROM pxt_tables WHERE id = ?", arguments: [baseSnap.id])
                    guard current == baseVersion, s.entry(p).map({ _ in false }) ?? true, s.tables[baseSnap.id]?.schemaVersion == baseSnap.schemaVersion else { return false }
                    let text = schema.encoded()
                    try db.execute(
                        sql: """
                            INSERT INTO pxt_tables (id, path, kind, base_id, schema, version, schema_version, next_col_id, next_rid, created_at)
                            VALUES (?, ?, 'view', ?, ?, 0, 0, ?, ?, ?)
                            """,
                        arguments: [id, p.description, baseSnap.id, text, (schema.columns.map(\.id).max() ?? -1) + 1, pending.rows.count, now])
                    try db.execute(sql: "INSERT INTO pxt_schemas (table_id, schema_version, schema) VALUES (?, 0, ?)", arguments: [id, text])
                    try Self.recordVersion(
                        db, tableID: id, version: 0, at: now, change: .schema, counts: VersionCounts(inserts: pending.rows.count, errors: pending.errors),
                        schemaChange: "Added: " + viewSnap.columnNames.joined(separator: ", "), schemaVersion: 0)
                    try StoreDDL.createDataTable(db, tableID: id, schema: schema)
                    var rows = pending.rows
                    for (k, i) in pending.baseIndex.enumerated() { rows[k].values[schema.iterator!.baseRIDColumnID] = .int(rids[i]) }
                    try placement?.place(version: 0)
                    rows = placement?.resolve(rows, version: 0) ?? rows
                    for (rid, r) in rows.enumerated() { try writer.writer.insert(db, r, rid: Int64(rid), version: 0) }
                    try db.execute(sql: "UPDATE pxt_tables SET view_generation = view_generation + 1 WHERE id = ?", arguments: [baseSnap.id])
                    try CatalogState.bumpGeneration(db)
                    return true
                }
                placement?.finish(committed: created ? 0 : nil)
                ComponentViewWriter.removeScratch([pending], media: media)
                if created { return Table(catalog: self, id: id, path: p) }
            } catch {
                placement?.finish(committed: nil)
                ComponentViewWriter.removeScratch([pending], media: media)
                throw error
            }
        }
        throw PixeltableError(.concurrentModification, "'\(b)' kept changing while view '\(p)' was being filled; try again")
    }

    /// The schema of a new component view: `pos`, the base's stored columns, the iterator's
    /// outputs, and the hidden base row id with its index.
    static func componentSchema(
        base: TableSnapshot, call: IteratorCall, iterator: any ComponentIterator, baseVersion: Int, comment: String?
    ) throws(PixeltableError) -> TableSchema {
        var schema = TableSchema()
        schema.comment = comment
        var next = 0
        func add(_ name: String, _ type: ColumnType, baseColumn: Int? = nil, hidden: Bool = false) -> Int {
            var c = ColumnRecord(id: next, name: name, type: type)
            c.baseColumnID = baseColumn
            c.isHidden = hidden
            schema.columns.append(c)
            next += 1
            return c.id
        }
        let pos = add("pos", ColumnType(.int, nullable: false))
        for c in base.columns where c.record.stored {
            guard c.name != "pos" else {
                throw PixeltableError(.columnAlreadyExists, "base column 'pos' of '\(base.path)' collides with the view's 'pos' column")
            }
            _ = add(c.name, c.type, baseColumn: c.id)
        }
        for o in iterator.outputs {
            guard schema.column(named: o.name) == nil else {
                throw PixeltableError(
                    .columnAlreadyExists, "\(call.kind.name)() output '\(o.name)' has the name of a column of '\(base.path)'; rename that column first")
            }
            _ = add(o.name, o.type)
        }
        let rid = add("_base_rid", ColumnType(.int, nullable: false), hidden: true)
        schema.indexes.append(IndexRecord(name: "base_rid", columnID: rid, kind: .btree, isAutomatic: true))
        var args: [(String, JSONValue)] = []
        for p in call.kind.parameters { args.append((p.name, call.arguments[p.name]?.json ?? .null)) }
        guard let input = base.byName[call.inputColumn] else { throw PixeltableError(.columnNotFound, "Column '\(call.inputColumn)' unknown in table '\(base.path)'") }
        schema.iterator = IteratorRecord(
            name: call.kind.name, inputColumnID: input.id, arguments: JSONWriter.compact.string(.object(args)), baseVersion: baseVersion,
            baseRIDColumnID: rid, posColumnID: pos, text: call.text)
        return schema
    }
}
