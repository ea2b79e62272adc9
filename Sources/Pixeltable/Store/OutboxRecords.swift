import GRDB

/// One delivery waiting in the outbox.
public struct OutboxEntry: Sendable, Hashable {
    /// Increasing in the order the writes committed.
    public var id: Int64
    /// The route it belongs to.
    public var route: String
    /// The message (``OutboxWrite/payload``).
    public var payload: JSONValue
    /// Failed deliveries so far.
    public var attempts: Int
}

/// The outbox of one route: what `pxt exports` lists.
public struct OutboxSummary: Sendable, Hashable {
    public var service: String
    public var route: String
    /// Entries still to be delivered.
    public var pending: Int
    /// Entries that failed too often and wait for `pxt exports retry`.
    public var failed: Int
    /// When the oldest pending entry was written.
    public var oldestPending: Timestamp?
    /// The most recent delivery error of the route.
    public var lastError: String?
}

/// The stored outbox (``OutboxWrite``), kept in the catalog database: entries survive a
/// restart, and a delivered one is deleted.
///
/// An entry is `pending` until delivered or, after too many failed attempts, `failed`; a failed
/// entry stays until ``retryFailed(in:service:route:)`` makes it pending again.
public struct OutboxRecords: Sendable {
    let catalog: Catalog
    /// The service whose entries these are.
    public let service: String

    /// The outbox of `service` in `catalog`.
    public init(catalog: Catalog, service: String) {
        self.catalog = catalog
        self.service = service
    }

    /// Up to `limit` pending entries of `route` that are due (their retry time has come), oldest
    /// first.
    public func due(route: String, limit: Int) async throws(PixeltableError) -> [OutboxEntry] {
        let service = service
        let now = Timestamp.now.microseconds
        return try await catalog.read { db, _ in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, payload, attempts FROM pxt_outbox
                    WHERE service = ? AND route = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?
                    """,
                arguments: [service, route, now, limit]
            ).map { r in
                let text: String = r[1]
                return OutboxEntry(id: r[0], route: route, payload: (try? JSONParser.parse(text)) ?? .null, attempts: r[2])
            }
        }
    }

    /// When the next pending entry of `route` that is not due yet becomes due; `nil` when none
    /// waits.
    public func nextRetry(route: String) async throws(PixeltableError) -> Timestamp? {
        let service = service
        let now = Timestamp.now.microseconds
        return try await catalog.read { db, _ in
            let at = try Int64.fetchOne(
                db, sql: "SELECT min(next_attempt_at) FROM pxt_outbox WHERE service = ? AND route = ? AND status = 'pending' AND next_attempt_at > ?",
                arguments: [service, route, now])
            return at.map { Timestamp(microseconds: $0) }
        }
    }

    /// Removes delivered entries.
    public func delivered(_ ids: [Int64]) async throws(PixeltableError) {
        if ids.isEmpty { return }
        try await catalog.write { db, _ in
            for chunk in stride(from: 0, to: ids.count, by: 500) {
                let part = ids[chunk..<min(ids.count, chunk + 500)]
                try db.execute(
                    sql: "DELETE FROM pxt_outbox WHERE id IN (\(part.map { _ in "?" }.joined(separator: ",")))", arguments: StatementArguments(Array(part)))
            }
        }
    }

    /// Records a failed delivery of entry `id`: it is tried again at `retryAt`, or, when
    /// `giveUp`, marked failed.
    public func attemptFailed(_ id: Int64, error: String, retryAt: Timestamp, giveUp: Bool) async throws(PixeltableError) {
        try await catalog.write { db, _ in
            try db.execute(
                sql: "UPDATE pxt_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, status = ? WHERE id = ?",
                arguments: [error, retryAt.microseconds, giveUp ? "failed" : "pending", id])
        }
    }

    /// Notes that entry `id` could not be delivered because the receiver was unavailable: the
    /// error is kept for `pxt exports`; the entry's attempts do not grow, as the entry is not
    /// at fault.
    public func unavailable(_ id: Int64, error: String) async throws(PixeltableError) {
        try await catalog.write { db, _ in
            try db.execute(sql: "UPDATE pxt_outbox SET last_error = ? WHERE id = ?", arguments: [error, id])
        }
    }

    /// Every route's outbox in `catalog` (all services), by service and route; routes whose
    /// outbox is empty are not listed.
    public static func summary(in catalog: Catalog) async throws(PixeltableError) -> [OutboxSummary] {
        try await catalog.read { db, _ in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT service, route,
                        sum(status = 'pending'), sum(status = 'failed'),
                        min(CASE WHEN status = 'pending' THEN created_at END),
                        (SELECT last_error FROM pxt_outbox i WHERE i.service = o.service AND i.route = o.route AND last_error IS NOT NULL
                            ORDER BY id DESC LIMIT 1)
                    FROM pxt_outbox o GROUP BY service, route ORDER BY service, route
                    """)
            return rows.map { r in
                let oldest: Int64? = r[4]
                return OutboxSummary(
                    service: r[0], route: r[1], pending: r[2], failed: r[3], oldestPending: oldest.map { Timestamp(microseconds: $0) }, lastError: r[5])
            }
        }
    }

    /// Makes failed entries pending again, due at once and with their attempts reset; only those
    /// of `service` and `route` when given.
    /// - Returns: How many were re-queued.
    @discardableResult
    public static func retryFailed(in catalog: Catalog, service: String? = nil, route: String? = nil) async throws(PixeltableError) -> Int {
        try await catalog.write { db, _ in
            var sql = "UPDATE pxt_outbox SET status = 'pending', attempts = 0, next_attempt_at = 0 WHERE status = 'failed'"
            var arguments: StatementArguments = []
            if let service {
                sql += " AND service = ?"
                arguments += [service]
            }
            if let route {
                sql += " AND route = ?"
                arguments += [route]
            }
            try db.execute(sql: sql, arguments: arguments)
            return db.changesCount
        }
    }
}
