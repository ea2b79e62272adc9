import Foundation
import GRDB

/// Keeps one component view in step with its base table's writes.
///
/// A component view stores rows of its own (`tbl_<view id>`): for each base row, one row per
/// component the iterator yields, holding `pos`, copies of the base row's columns, the
/// iterator's outputs, the view's own computed columns, and (hidden) the base row's id. Every
/// data version of the base writes one data version of the view in the same transaction, its
/// `base_version` recording which: an insert adds the new rows' components, a delete retires
/// the components of the deleted rows, an update retires and remakes the components of the
/// updated rows, and a revert of the base reverts the view's matching version
/// (``Table/revert()``). A write is therefore all or nothing across a table and its views, and
/// a background job that reports `done` has its views filled.
///
/// The iterator (ffmpeg, pdftotext) and the view's computed columns run before the write
/// transaction for inserts; an update remakes components inside its transaction.
struct ComponentViewWriter: Sendable {
    let view: TableSnapshot
    let record: IteratorRecord
    let iterator: any ComponentIterator
    /// The view column of each iterator output, in output order.
    let outputColumns: [Int]
    /// (view column, base column) for the base's columns the view copies.
    let copies: [(view: Int, base: Int)]
    let writer: RowWriter

    /// A writer for `view`, or an error when its iterator cannot be made here.
    init(view: TableSnapshot) throws(PixeltableError) {
        guard let record = view.schema.iterator, let kind = IteratorKind.all[record.name] else {
            throw PixeltableError(.invalidState, "view '\(view.path)' has an iterator this pxt does not know")
        }
        var arguments: [String: Value] = [:]
        if case .object(let o)? = try? JSONParser.parse(record.arguments) {
            for (k, v) in o.pairs { arguments[k] = Value(json: v) }
        }
        let iterator = try IteratorCall(kind: kind, inputColumn: "", arguments: arguments).makeIterator()
        self.view = view
        self.record = record
        self.iterator = iterator
        outputColumns = iterator.outputs.compactMap { view.byName[$0.name]?.id }
        copies = view.storageSchema.columns.compactMap { c in c.baseColumnID.map { (c.id, $0) } }
        writer = RowWriter(snap: view)
    }

    /// View rows made from base rows, each with the index of its base row.
    struct Pending: Sendable {
        var rows: [RowContext]
        var baseIndex: [Int]
        var errors: Int
    }

    /// The view rows of `base` (values by base column id): their components with `pos`, the
    /// base's columns and the view's computed columns set.
    ///
    /// - Parameters:
    ///   - onError: `.ignore` keeps a base row whose iterator fails (it gets no view rows and
    ///     counts as an error); otherwise the write fails naming the view, the row and the cause.
    ///   - rowOffset: The index of `base[0]` in the write, for messages.
    func generate(_ base: [RowContext], context: FunctionContext, onError: OnError?, rowOffset: Int = 0) throws(PixeltableError) -> Pending {
        var rows: [RowContext] = []
        var index: [Int] = []
        var errors = 0
        for (i, b) in base.enumerated() {
            let input = b.value(record.inputColumnID)
            if input.isNull { continue }
            let components: [[Value]]
            do {
                components = try iterator.components(of: input, context: context)
            } catch {
                if onError == .ignore {
                    errors += 1
                    continue
                }
                throw PixeltableError(
                    .unsupportedOperation, "View '\(view.path)', row \(i + rowOffset): \(record.name) failed with \(error.type): \(error.message)")
            }
            for (pos, values) in components.enumerated() {
                var ctx = RowContext(width: view.width)
                for c in copies { ctx.values[c.view] = b.value(c.base) }
                ctx.values[record.posColumnID] = .int(Int64(pos))
                for (col, v) in zip(outputColumns, values) {
                    let type = view.byID[col]?.type ?? ColumnType(.json)
                    if case .success(let cv) = type.coerce(v) { ctx.values[col] = cv } else { ctx.values[col] = .null }
                }
                rows.append(ctx)
                index.append(i)
            }
        }
        errors += try writer.compute(&rows, onError: onError, rowOffset: 0)
        return Pending(rows: rows, baseIndex: index, errors: errors)
    }

    /// ``generate(_:context:onError:rowOffset:)`` on a thread outside the cooperative pool (the
    /// iterator waits for subprocesses).
    func generateAway(_ base: [RowContext], context: FunctionContext, onError: OnError?) async throws(PixeltableError) -> Pending {
        let result: Result<Pending, PixeltableError> = await withCheckedContinuation { done in
            DispatchQueue.global(qos: .userInitiated).async {
                do throws(PixeltableError) {
                    done.resume(returning: .success(try generate(base, context: context, onError: onError)))
                } catch {
                    done.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// A placement for the view's media files (frames, segments, computed images).
    func placement() -> MediaPlacement? { writer.placement() }

    /// Stages, before the transaction, the files of rows made ahead.
    func stage(_ pending: Pending, into placement: MediaPlacement?) throws(PixeltableError) {
        try placement?.stage(pending.rows, columns: view.mediaColumns, table: view.path.description, owning: true)
    }

    /// Inside the base's write transaction: writes one view version for base version
    /// `baseVersion`, retiring the components of the base rows `retiring` and adding `pending`'s
    /// rows (their base copies refreshed from `baseRows`, whose media now have stored names).
    ///
    /// - Parameters:
    ///   - baseRIDs: The row id of each base row `pending.baseIndex` refers to.
    ///   - stageInside: Stage the media files here (rows made inside the transaction).
    /// - Returns: The view's new version.
    func write(
        _ db: Database, pending: Pending, baseRows: [RowContext], baseRIDs: [Int64], retiring: [Int64], baseVersion: Int,
        placement: MediaPlacement?, stageInside: Bool = false
    ) throws -> Int {
        let (version, firstRID) = try writer.beginInsert(db, rowCount: pending.rows.count)
        var retired = 0
        if !retiring.isEmpty {
            let baseRID = view.byID[record.baseRIDColumnID]?.record.sqlName ?? "c\(record.baseRIDColumnID)"
            let stmt = try db.cachedStatement(sql: "UPDATE \(view.dataTableName) SET _v_max = ? WHERE _v_max = \(StoreDDL.live) AND \(baseRID) = ?")
            for rid in retiring {
                try stmt.execute(arguments: [version, rid])
                retired += db.changesCount
            }
        }
        var rows = pending.rows
        for (k, i) in pending.baseIndex.enumerated() {
            for c in copies { rows[k].values[c.view] = baseRows[i].value(c.base) }
            rows[k].values[record.baseRIDColumnID] = .int(baseRIDs[i])
        }
        if let placement {
            if stageInside {
                placement.restart()
                try placement.stage(rows, columns: view.mediaColumns.filter { c in !copies.contains { $0.view == c.id } }, table: view.path.description, owning: true)
            }
            try placement.place(version: version)
            rows = placement.resolve(rows, version: version)
        }
        var rid = firstRID
        for r in rows {
            try writer.insert(db, r, rid: rid, version: version)
            rid += 1
        }
        let updated = min(retired, rows.count)
        try writer.recordInsert(
            db, version: version,
            counts: VersionCounts(inserts: rows.count - updated, updates: updated, deletes: retired - updated, errors: pending.errors))
        try db.execute(sql: "UPDATE pxt_versions SET base_version = ? WHERE table_id = ? AND version = ?", arguments: [baseVersion, view.id, version])
        return version
    }

    /// Removes the iterator's scratch directories under `tmp/` once a write is over (their
    /// files were linked under `media/` or are no longer needed).
    static func removeScratch(_ pendings: [Pending], media: MediaStore?) {
        guard let media else { return }
        var dirs = Set<String>()
        for p in pendings {
            for r in p.rows {
                for v in r.values {
                    guard case .media(let url) = v, let path = (try? MediaReference(parsing: url))?.localPath, media.isTemporary(path) else { continue }
                    let dir = (path as NSString).deletingLastPathComponent
                    if (dir as NSString).lastPathComponent.hasPrefix("iter-") { dirs.insert(dir) }
                }
            }
        }
        for d in dirs { try? FileManager.default.removeItem(atPath: d) }
    }
}
