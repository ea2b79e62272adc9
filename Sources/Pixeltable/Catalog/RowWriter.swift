import Dispatch
import GRDB

/// Validates, computes and writes rows of one table.
///
/// Validation and computed columns run before the write transaction, so the shared writer is
/// held only for the inserts themselves.
struct RowWriter {
    let snap: TableSnapshot

    /// A validated row: values and per-cell errors by column id.
    typealias Prepared = RowContext

    func tableName() -> String { snap.path.description }

    /// Checks and converts user rows: known, writable columns; values of the right type; no null
    /// in a required column. Errors name the table, the column and the row.
    ///
    /// Media values are checked too: a local file must exist, an image must be a complete image
    /// (``MediaStore/checkInput(_:type:baseDirectory:)``); relative paths are relative to
    /// `baseDirectory`.
    func prepare(_ rows: [[String: Value]], lax: Bool = false, baseDirectory: String? = nil) throws(PixeltableError) -> [Prepared] {
        var out: [Prepared] = []
        out.reserveCapacity(rows.count)
        let writable = snap.writableColumns
        for (i, row) in rows.enumerated() {
            for key in row.keys where snap.byName[key] == nil || snap.byName[key]!.isComputed {
                if let c = snap.byName[key], c.isComputed {
                    throw PixeltableError(.invalidArgument, "Table '\(tableName())', column '\(key)', row \(i): '\(key)' is a computed column and cannot be written")
                }
                throw PixeltableError(.columnNotFound, "Table '\(tableName())', row \(i): unknown column '\(key)'")
            }
            var ctx = RowContext(width: snap.width)
            for c in writable {
                let v = row[c.name] ?? .null
                switch c.type.coerce(v, lax: lax) {
                case .success(let cv):
                    ctx.values[c.id] = try checkMedia(cv, c, row: i, baseDirectory: baseDirectory)
                case .failure(let f):
                    let code: PixeltableError.Code = f.isNull ? .missingRequired : .typeMismatch
                    let detail = f.isNull && row[c.name] == nil ? "a value is required (the column is missing)" : f.message
                    throw PixeltableError(code, "Table '\(tableName())', column '\(c.name)', row \(i): \(detail)")
                }
            }
            out.append(ctx)
        }
        return out
    }

    /// A media column's value in its stored form, or an error naming the table, column and row.
    func checkMedia(_ v: Value, _ c: ColumnInfo, row: Int, baseDirectory: String?) throws(PixeltableError) -> Value {
        guard c.type.isMedia, !v.isNull, let media = snap.media else { return v }
        do {
            return try media.checkInput(v, type: c.type, baseDirectory: baseDirectory)
        } catch {
            throw PixeltableError(error.code, "Table '\(tableName())', column '\(c.name)', row \(row): \(error.message)")
        }
    }

    /// A placement for the media files of a write, or `nil` when the table has no media columns.
    func placement() -> MediaPlacement? {
        guard !snap.mediaColumns.isEmpty, let media = snap.media else { return nil }
        return MediaPlacement(store: media, tableID: snap.storageID)
    }

    /// Stages and places, inside a transaction whose version is known, the media files of rows
    /// computed in it; returns the rows with their stored files' URLs.
    func placeMedia(_ rows: [Prepared], version: Int, into placement: MediaPlacement?) throws(PixeltableError) -> [Prepared] {
        guard let placement else { return rows }
        placement.restart()
        try placement.stage(rows, columns: snap.mediaColumns, table: tableName())
        try placement.place(version: version)
        return placement.resolve(rows, version: version)
    }

    /// Rejects rows whose primary key repeats within the batch.
    func checkBatchKeys(_ rows: [Prepared]) throws(PixeltableError) {
        guard !snap.primaryKey.isEmpty, rows.count > 1 else { return }
        var seen: [[Value]: Int] = [:]
        for (i, r) in rows.enumerated() {
            let key = snap.primaryKey.map { r.value($0.id) }
            if let first = seen[key] {
                throw PixeltableError(
                    .constraintViolation,
                    "Table '\(tableName())', column '\(keyColumnNames)', row \(i): duplicate primary key \(keyText(key)) (also in row \(first))")
            }
            seen[key] = i
        }
    }

    var keyColumnNames: String { snap.primaryKey.map(\.name).joined(separator: ", ") }

    func keyText(_ key: [Value]) -> String {
        let parts = key.map { v -> String in
            if case .string(let s) = v { return PythonRepr.string(s) }
            return v.displayString
        }
        return parts.count == 1 ? parts[0] : "(" + parts.joined(separator: ", ") + ")"
    }

    /// Evaluates stored computed columns (those in `only`, or all) for each row, in order.
    ///
    /// - Returns: The number of cells that stored an error (`on_error = "ignore"`).
    func compute(_ rows: inout [Prepared], only: [ColumnInfo]? = nil, onError override: OnError? = nil, rowOffset: Int = 0) throws(PixeltableError) -> Int {
        let columns = only ?? snap.storedComputed
        if columns.isEmpty { return 0 }
        for c in columns where c.expr == nil {
            throw PixeltableError(.invalidState, c.bindError ?? "computed column '\(c.name)' cannot be evaluated")
        }
        let evaluator = ExpressionEvaluator(media: snap.media)
        var errors = 0
        // Column by column, so that a function that runs batches (a model) sees every row of
        // the write at once; columns are in dependency order, so each sees the ones before it.
        for c in columns {
            let results = evaluate(c.expr!, rows, evaluator)
            for i in rows.indices {
                switch results[i] {
                case .success(let v):
                    rows[i].values[c.id] = v
                    rows[i].setError(c.id, type: nil, message: nil)
                case .failure(let error):
                    if (override ?? c.record.onError) == .abort {
                        throw PixeltableError(
                            .unsupportedOperation,
                            "Table '\(tableName())', column '\(c.name)', row \(i + rowOffset): computed column failed with \(error.type): \(error.message)")
                    }
                    rows[i].values[c.id] = .null
                    rows[i].setError(c.id, type: error.type, message: error.message)
                    errors += 1
                }
            }
        }
        return errors
    }

    /// Whether a stored computed column calls a function that runs batches (a model, a remote
    /// API): computing such columns takes long enough to keep out of transactions and off the
    /// cooperative pool.
    var callsSlowFunctions: Bool { snap.callsSlowFunctions }

    /// ``compute(_:only:onError:rowOffset:)`` on a thread outside Swift's cooperative pool when
    /// a column calls a model or a remote API (seconds of work or waiting that would otherwise
    /// hold one of the few threads every task shares); inline otherwise.
    func computeAway(
        _ rows: [Prepared], only: [ColumnInfo]? = nil, onError override: OnError? = nil, rowOffset: Int = 0
    ) async throws(PixeltableError) -> ([Prepared], Int) {
        guard only.map(snap.callsSlowFunctions) ?? callsSlowFunctions else {
            var r = rows
            let n = try compute(&r, only: only, onError: override, rowOffset: rowOffset)
            return (r, n)
        }
        let result: Result<([Prepared], Int), PixeltableError> = await withCheckedContinuation { done in
            DispatchQueue.global(qos: .userInitiated).async {
                var r = rows
                do throws(PixeltableError) {
                    let n = try compute(&r, only: only, onError: override, rowOffset: rowOffset)
                    done.resume(returning: .success((r, n)))
                } catch {
                    done.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// `e` for every row: in one ``ExpressionFunction/batch`` call when `e` calls a batching
    /// function, else row by row.
    func evaluate(_ e: TypedExpr, _ rows: [Prepared], _ evaluator: ExpressionEvaluator) -> [Result<Value, FunctionError>] {
        guard case .call(let f, let args) = e.node, let batch = f.batch, rows.count > 0 else {
            return rows.map { r in Result { () throws(FunctionError) -> Value in try evaluator.evaluate(e, r) } }
        }
        var out = [Result<Value, FunctionError>](repeating: .success(.null), count: rows.count)
        var pending: [Int] = []
        var calls: [[Value]] = []
        for (i, r) in rows.enumerated() {
            do {
                if let values = try evaluator.arguments(f, args, r) {
                    pending.append(i)
                    calls.append(values)
                }
            } catch {
                out[i] = .failure(error)
            }
        }
        if !calls.isEmpty {
            let results = batch(evaluator.context, calls)
            for (k, i) in pending.enumerated() {
                out[i] = k < results.count ? results[k] : .failure(FunctionError("RuntimeError", "\(f.name) returned too few results"))
            }
        }
        return out
    }

    // MARK: SQL

    /// Reads the table's version row and checks the schema this writer was prepared for.
    func begin(_ db: Database) throws -> (version: Int, nextRID: Int64) {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT version, schema_version, next_rid, view_generation FROM pxt_tables WHERE id = ?"), arguments: [snap.id])
        else {
            throw PixeltableError(.tableNotFound, "Table '\(tableName())' was dropped.")
        }
        let sv: Int = row[1]
        let vg: Int = row[3]
        guard sv == snap.schemaVersion, vg == snap.viewGeneration else { throw SchemaChanged() }
        return (row[0], row[2])
    }

    /// Claims the next version and `rowCount` row ids in one statement, checking the schema this
    /// writer was prepared for, and the set of component views its rows go to (a view created
    /// or dropped since bumps `view_generation`). Returns the new version and the first row id.
    func beginInsert(_ db: Database, rowCount: Int) throws -> (version: Int, firstRID: Int64) {
        if let row = try SQLiteDirect.firstRowIntegers(
            db,
            "UPDATE pxt_tables SET version = version + 1, next_rid = next_rid + ? WHERE id = ? AND schema_version = ? AND view_generation = ? RETURNING version, next_rid",
            [rowCount.databaseValue, snap.id.databaseValue, snap.schemaVersion.databaseValue, snap.viewGeneration.databaseValue], columns: 2)
        {
            return (Int(row[0]), row[1] - Int64(rowCount))
        }
        _ = try begin(db)
        throw SchemaChanged()
    }

    /// Inserts one row of an insert, turning a primary-key collision into an error that names
    /// the table, the key column and the row.
    func insertChecked(_ db: Database, _ row: Prepared, index: Int, rid: Int64, version: Int) throws {
        do {
            try insert(db, row, rid: rid, version: version)
        } catch let e as DatabaseError where e.resultCode == .SQLITE_CONSTRAINT && !snap.primaryKey.isEmpty {
            let key = snap.primaryKey.map { row.value($0.id) }
            throw PixeltableError(
                .constraintViolation,
                "Table '\(snap.path)', column '\(keyColumnNames)', row \(index): duplicate primary key \(keyText(key)) (a row with this key already exists)")
        }
    }

    /// Records a data version claimed by ``beginInsert(_:rowCount:)``.
    func recordInsert(_ db: Database, version: Int, counts: VersionCounts) throws {
        try Catalog.recordVersion(
            db, tableID: snap.id, version: version, at: Timestamp.now.microseconds, change: .data, counts: counts, schemaChange: nil,
            schemaVersion: snap.schemaVersion)
    }

    /// The live row with this primary key, if any.
    func existingRowID(_ db: Database, key: [Value]) throws -> Int64? {
        let stmt = try db.cachedStatement(sql: snap.primaryKeyLookupSQL)
        return try Int64.fetchOne(stmt, arguments: StatementArguments(key.map(StoredValue.encode)))
    }

    func insert(_ db: Database, _ row: Prepared, rid: Int64, version: Int) throws {
        var args: [DatabaseValue] = [rid.databaseValue, version.databaseValue, Int64.max.databaseValue]
        args.reserveCapacity(3 + snap.storedColumns.count + 2 * snap.storedComputed.count)
        for c in snap.storedColumns {
            args.append(StoredValue.encode(row.value(c.id)))
            if c.record.hasErrorCells {
                args.append(row.errorType(c.id).databaseValue)
                args.append(row.errorMessage(c.id).databaseValue)
            }
        }
        try SQLiteDirect.execute(db, snap.insertSQL, args)
    }

    /// Ends a live row version at `version` (it stays readable in older versions).
    func retire(_ db: Database, rowid: Int64, version: Int) throws {
        try db.cachedStatement(sql: "UPDATE \(snap.dataTableName) SET _v_max = ? WHERE _rowid = ?").execute(arguments: [version, rowid])
    }

    func finish(_ db: Database, version: Int, nextRID: Int64, counts: VersionCounts) throws {
        try Catalog.recordVersion(
            db, tableID: snap.id, version: version, at: Timestamp.now.microseconds, change: .data, counts: counts, schemaChange: nil,
            schemaVersion: snap.schemaVersion)
        try db.cachedStatement(sql: "UPDATE pxt_tables SET version = ?, next_rid = ? WHERE id = ?").execute(arguments: [version, nextRID, snap.id])
    }

    /// The rows as results: every user column, unstored computed columns evaluated.
    func results(_ rows: [Prepared], columns: [String]? = nil) -> [ResultRow] {
        let cols = columns.map { names in names.compactMap { snap.byName[$0] } } ?? snap.columns
        let names = columns == nil ? snap.columnNames : cols.map { $0.name }
        let unstored = columns == nil ? snap.unstoredColumns : cols.filter { !$0.record.stored }.sorted { $0.id < $1.id }
        let evaluator = ExpressionEvaluator(media: snap.media)
        return rows.map { r in
            var ctx = r
            for c in unstored {
                if let e = c.expr { ctx.values[c.id] = (try? evaluator.evaluate(e, ctx)) ?? .null }
            }
            var values: [Value] = []
            values.reserveCapacity(cols.count)
            for c in cols { values.append(snap.media?.materialize(ctx.value(c.id)) ?? ctx.value(c.id)) }
            return ResultRow(columns: names, values: values)
        }
    }
}

/// The table's schema changed between preparing a write and running it; the write is redone.
struct SchemaChanged: Error {}
