import GRDB

/// A background job's outcome, recorded in the transaction of the write the job performs, so
/// that a job is `done` exactly when its write committed.
///
/// Recorded afterwards, a kill between the commit and the record left a stored row whose job
/// read `error: interrupted by restart`. Pass one to ``Table/insert(_:onError:lax:expectedSchemaVersion:baseDirectory:outbox:job:)``,
/// ``Table/batchUpdate(_:ifNotExists:expectedSchemaVersion:outbox:job:)`` or
/// ``Table/delete(matching:expectedSchemaVersion:job:)``; when the write changes no row (an
/// update of a missing key, a delete matching nothing) nothing is recorded, and the caller
/// records the outcome as before.
///
/// ```swift
/// let job = JobOutcomeWrite(id: id) { rows, count in rows.first?.json ?? ["num_rows": .int(Int64(count))] }
/// try await films.insert([["id": 1, "title": "Alien"]], job: job)
/// ```
public struct JobOutcomeWrite: Sendable {
    /// The job's id in ``JobRecords``.
    public var id: String
    /// The job's result from the written rows (as stored, computed columns included) and their
    /// count. It runs inside the write transaction, so it must be quick and must not touch the
    /// catalog.
    public var result: @Sendable ([ResultRow], Int) -> JSONValue

    /// An outcome for job `id`, computed from what the write stores.
    public init(id: String, result: @escaping @Sendable ([ResultRow], Int) -> JSONValue) {
        self.id = id
        self.result = result
    }

    /// Marks the job done with its result, in the open transaction `db`. Only a pending job is
    /// changed: an outcome recorded later by the runner does not overwrite this one.
    func record(_ db: Database, rows: [ResultRow], count: Int) throws {
        try db.cachedStatement(sql: "UPDATE pxt_jobs SET status = 'done', result = ?, finished_at = ? WHERE id = ? AND status = 'pending'")
            .execute(arguments: [JSONWriter.compact.string(result(rows, count)), Timestamp.now.microseconds, id])
    }
}
