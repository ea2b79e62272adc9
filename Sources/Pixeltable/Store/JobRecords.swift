import GRDB

/// The state of a background job.
public struct JobRecord: Sendable, Hashable {
    /// `pending`, `done` or `error`.
    public var status: String
    /// The job's result (the response body it would have had), when done.
    public var result: JSONValue?
    /// What went wrong, when failed.
    public var error: String?
    public var createdAt: Timestamp
    public var finishedAt: Timestamp?
}

/// Durable records of background jobs, kept in the catalog database so that they survive a
/// restart, and pruned by count and age so that they do not grow without bound.
public struct JobRecords: Sendable {
    let catalog: Catalog
    /// The service the jobs belong to.
    public let service: String

    /// The job records of `service` in `catalog`.
    public init(catalog: Catalog, service: String) {
        self.catalog = catalog
        self.service = service
    }

    /// Records a new pending job.
    public func create(id: String, route: String) async throws(PixeltableError) {
        let service = service
        try await catalog.write { db, _ in
            try db.execute(
                sql: "INSERT INTO pxt_jobs (id, service, route, status, created_at) VALUES (?, ?, ?, 'pending', ?)",
                arguments: [id, service, route, Timestamp.now.microseconds])
        }
    }

    /// How a job ended.
    public enum Outcome: Sendable {
        /// It produced this result.
        case done(JSONValue)
        /// It failed with this message.
        case failed(String)
    }

    /// Records a job's outcome, unless one is recorded already (in the job's write transaction,
    /// by ``JobOutcomeWrite``).
    public func finish(id: String, outcome: Outcome) async throws(PixeltableError) {
        try await catalog.write { db, _ in
            switch outcome {
            case .done(let v):
                try db.execute(
                    sql: "UPDATE pxt_jobs SET status = 'done', result = ?, finished_at = ? WHERE id = ? AND status = 'pending'",
                    arguments: [JSONWriter.compact.string(v), Timestamp.now.microseconds, id])
            case .failed(let message):
                try db.execute(
                    sql: "UPDATE pxt_jobs SET status = 'error', error = ?, finished_at = ? WHERE id = ? AND status = 'pending'",
                    arguments: [message, Timestamp.now.microseconds, id])
            }
        }
    }

    /// The job with this id.
    public func get(_ id: String) async throws(PixeltableError) -> JobRecord? {
        try await catalog.read { db, _ in
            guard let row = try Row.fetchOne(db, sql: "SELECT status, result, error, created_at, finished_at FROM pxt_jobs WHERE id = ?", arguments: [id]) else {
                return nil
            }
            let resultText: String? = row[1]
            let finished: Int64? = row[4]
            return JobRecord(
                status: row[0], result: resultText.flatMap { try? JSONParser.parse($0) }, error: row[2], createdAt: Timestamp(microseconds: row[3]),
                finishedAt: finished.map { Timestamp(microseconds: $0) })
        }
    }

    /// Marks jobs of this service still pending (from a previous run) as failed.
    /// - Returns: How many were marked.
    @discardableResult
    public func markInterrupted() async throws(PixeltableError) -> Int {
        let service = service
        return try await catalog.write { db, _ in
            try db.execute(
                sql: "UPDATE pxt_jobs SET status = 'error', error = 'interrupted by restart', finished_at = ? WHERE service = ? AND status = 'pending'",
                arguments: [Timestamp.now.microseconds, service])
            return db.changesCount
        }
    }

    /// Deletes finished jobs beyond the newest `maxCount` or older than `maxAge` seconds.
    /// - Returns: How many were deleted.
    @discardableResult
    public func prune(maxCount: Int, maxAge: Double) async throws(PixeltableError) -> Int {
        let service = service
        return try await catalog.write { db, _ in
            let cutoff = Timestamp.now.microseconds - Int64(maxAge * 1_000_000)
            try db.execute(sql: "DELETE FROM pxt_jobs WHERE service = ? AND status != 'pending' AND created_at < ?", arguments: [service, cutoff])
            var deleted = db.changesCount
            try db.execute(
                sql: """
                    DELETE FROM pxt_jobs WHERE service = ? AND status != 'pending' AND id NOT IN
                    (SELECT id FROM pxt_jobs WHERE service = ? ORDER BY created_at DESC LIMIT ?)
                    """,
                arguments: [service, service, maxCount])
            deleted += db.changesCount
            return deleted
        }
    }

    /// The number of job records of this service.
    public func count() async throws(PixeltableError) -> Int {
        let service = service
        return try await catalog.read { db, _ in try Int.fetchOne(db, sql: "SELECT count(*) FROM pxt_jobs WHERE service = ?", arguments: [service]) ?? 0 }
    }
}
