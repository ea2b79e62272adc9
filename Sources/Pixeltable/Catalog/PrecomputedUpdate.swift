import GRDB

/// The rows of an update, read and computed before its write transaction.
///
/// An update recomputes the stored columns that depend on what it changes. When one of them
/// calls a model or a remote API, that is seconds of work, and inside the write transaction it
/// would hold every other writer of the catalog for as long. So the rows are read in a read
/// transaction and computed off the cooperative pool first; the write transaction then only
/// checks that the table is still at the version they were read at and writes them. If another
/// write came in between, the write transaction reads and computes again itself, exactly as if
/// there had been no early pass: the result is the same either way, only the lock is held longer.
///
/// ``TableStamp`` is the version and the time it was made, so a version number reached again
/// after a revert (same number, different rows) does not pass for the one that was read.
struct PrecomputedUpdate: Sendable {
    /// The table's version when the rows were read.
    let stamp: TableStamp
    /// The rows the update matched, as stored.
    let scanned: [ScannedRow]
    /// The same rows with the update applied and their dependent columns computed.
    let rows: [RowContext]
    /// Cells of `rows` that hold an error (`on_error = "ignore"`).
    let errors: Int

    /// Whether the table, as `db` sees it, is still at the version these rows were read at.
    func isCurrent(_ db: Database, _ snap: TableSnapshot) throws -> Bool {
        try TableStamp.current(db, tableID: snap.storageID) == stamp
    }
}

extension Table {
    /// Reads an update's rows with `read` and computes the columns in `deps` before the write
    /// transaction, when one of them calls a model or a remote API; `nil` (compute inside the
    /// transaction, as usual) when none does.
    ///
    /// - Parameter read: The matching rows as stored, and the same rows with the update applied.
    func computeBeforeWriting(
        _ snap: TableSnapshot, _ w: RowWriter, _ deps: [ColumnInfo],
        read: @escaping @Sendable (Database) throws -> ([ScannedRow], [RowContext])
    ) async throws(PixeltableError) -> PrecomputedUpdate? {
        guard snap.callsSlowFunctions(deps) else { return nil }
        let (stamp, scanned, rows) = try await catalog.read { db, _ in
            let stamp = try TableStamp.current(db, tableID: snap.storageID)
            let (scanned, rows) = try read(db)
            return (stamp, scanned, rows)
        }
        guard let stamp else { return nil }
        let (computed, errors) = try await w.computeAway(rows, only: deps)
        return PrecomputedUpdate(stamp: stamp, scanned: scanned, rows: computed, errors: errors)
    }
}
