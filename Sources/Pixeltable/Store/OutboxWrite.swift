import GRDB

/// A message to store with a write, in the write's own transaction: the table side of a
/// transactional outbox.
///
/// Pass one to ``Table/insert(_:onError:lax:expectedSchemaVersion:baseDirectory:outbox:)`` or
/// ``Table/batchUpdate(_:ifNotExists:expectedSchemaVersion:outbox:)`` and every written row
/// leaves a pending ``OutboxEntry`` that commits, or rolls back, together with the row. A
/// worker reads the entries with ``OutboxRecords`` and delivers them; since the entry and the
/// row share one commit, the receiver never misses a committed row and never sees one that was
/// rolled back.
///
/// ```swift
/// let write = OutboxWrite(service: "api", route: "/events") { row in row.json }
/// try await events.insert([["id": 1, "kind": "click"]], outbox: write)
/// ```
public struct OutboxWrite: Sendable {
    /// The service the entries belong to.
    public var service: String
    /// The route (or any name the worker knows the entries by).
    public var route: String
    /// The message for one written row, as stored (computed columns included). It runs inside
    /// the write transaction, so it must be quick and must not touch the catalog.
    public var payload: @Sendable (ResultRow) -> JSONValue

    /// A message for every row a write stores.
    public init(service: String, route: String, payload: @escaping @Sendable (ResultRow) -> JSONValue) {
        self.service = service
        self.route = route
        self.payload = payload
    }

    /// The stored text of each row's message.
    func messages(_ rows: [ResultRow]) -> [String] {
        rows.map { JSONWriter.compact.string(payload($0)) }
    }

    /// Stores a pending entry for each of `rows`, in the open transaction `db`.
    func record(_ db: Database, _ rows: [ResultRow]) throws {
        try record(db, messages: messages(rows))
    }

    /// Stores a pending entry for each message, in the open transaction `db`.
    func record(_ db: Database, messages: [String]) throws {
        let now = Timestamp.now.microseconds
        let statement = try db.cachedStatement(
            sql: "INSERT INTO pxt_outbox (service, route, payload, status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, 'pending', 0, 0, ?)")
        for m in messages {
            try statement.execute(arguments: [service, route, m, now])
        }
    }
}
