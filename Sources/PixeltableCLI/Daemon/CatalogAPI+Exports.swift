import Pixeltable

/// `pxt exports`: the outbox of `export_sql` routes with `delivery = "outbox"`, which every
/// `pxt serve` of this home keeps in the catalog database.
extension CatalogAPI {
    /// `GET /api/exports`: pending and failed deliveries per service and route.
    func exports(_ req: APIRequest) async throws -> JSONValue {
        let all = try await OutboxRecords.summary(in: catalog)
        return [
            "routes": .array(
                all.map { s in
                    [
                        "service": .string(s.service), "route": .string(s.route), "pending": .int(Int64(s.pending)), "failed": .int(Int64(s.failed)),
                        "oldest_pending": s.oldestPending.map { .string($0.iso8601) } ?? .null, "last_error": s.lastError.map { .string($0) } ?? .null,
                    ]
                })
        ]
    }

    /// `POST /api/exports/retry` with optional `service` and `route`: failed deliveries become
    /// pending again; the running service picks them up within a second.
    func retryExports(_ req: APIRequest) async throws -> JSONValue {
        let body = try req.jsonBody()
        let n = try await OutboxRecords.retryFailed(in: catalog, service: body["service"]?.stringValue, route: body["route"]?.stringValue)
        return ["requeued": .int(Int64(n))]
    }
}
