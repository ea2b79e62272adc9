import Pixeltable

/// The HTTP method of a query route.
public enum QueryMethod: String, Sendable, Hashable {
    case get, post
}

/// Where each successful insert or update is also written (the `export_sql` option): the
/// response body, as one row of an existing table in a SQLite or PostgreSQL database.
///
/// ```swift
/// try await router.addInsertRoute(
///     events, path: "/events", outputs: ["id", "kind", "at"],
///     exportSQL: SQLExport(dbConnect: "sqlite:///analytics.db", table: "events", method: "merge"))
/// ```
///
/// The target is checked when the route is registered. With ``Delivery-swift.enum/direct`` (the
/// default) each request writes after the Pixeltable write has committed, and answers 500 if
/// the export fails (the Pixeltable write stays); with ``Delivery-swift.enum/outbox`` the row
/// is recorded in the Pixeltable write's own transaction and delivered after the answer, with
/// retries, across restarts.
public struct SQLExport: Sendable, Hashable {
    /// When and how each exported row reaches the target.
    public enum Delivery: String, Sendable, Hashable {
        /// During the request, after the Pixeltable write: a failed export is the request's 500.
        case direct
        /// Through an outbox: recorded in the same transaction as the Pixeltable write, so the
        /// target never misses a committed row nor receives a rolled-back one, and delivered by
        /// a background worker that retries with backoff (at least once; `merge` and `update`
        /// make repeats harmless). The request answers once the Pixeltable write committed.
        case outbox
    }

    /// Connection string of the external database.
    public var dbConnect: String
    /// Target table name.
    public var table: String
    /// Optional schema qualifier.
    public var dbSchema: String?
    /// `insert` (default), `update` or `merge`.
    public var method: String
    /// ``Delivery-swift.enum/direct`` (default) or ``Delivery-swift.enum/outbox``.
    public var delivery: Delivery

    /// An export target.
    public init(dbConnect: String, table: String, dbSchema: String? = nil, method: String = "insert", delivery: Delivery = .direct) {
        self.dbConnect = dbConnect
        self.table = table
        self.dbSchema = dbSchema
        self.method = method
        self.delivery = delivery
    }
}

/// What a route does.
enum RouteKind: Sendable {
    case insert(Table)
    case update(Table)
    case delete(Table)
    case query(CompiledQuery)

    var name: String {
        switch self {
        case .insert: return "insert"
        case .update: return "update"
        case .delete: return "delete"
        case .query: return "query"
        }
    }
}

/// A registered route with everything resolved at registration.
struct RouteSpec: Sendable {
    var kind: RouteKind
    /// The path as registered (without the router's prefix).
    var path: String
    var method: QueryMethod
    /// Request fields, in order, with their types (PK first for updates).
    var inputs: [(name: String, type: ColumnType, comment: String?, defaultValue: Value?, required: Bool)]
    /// Response fields, in order, with their types.
    var outputs: [(name: String, type: ColumnType, comment: String?)]
    var oneRow: Bool
    var returnScalar: Bool
    var background: Bool
    /// Inputs sent as file parts of a `multipart/form-data` request (`uploadfile_inputs`).
    var uploads: [String] = []
    /// Answer with the single media output's file instead of JSON (`return_fileresponse`).
    var returnFileResponse = false
    /// The table's schema version at registration; requests answer 409 when it changed.
    var schemaVersion: Int?
    /// Writes each response to an external database (`export_sql`).
    var exporter: SQLExporter?
    /// The router's outbox worker, for an exporter with `delivery = "outbox"`.
    var outbox: OutboxDelivery?
    /// A closure route's post-processing, and the schema of what it returns.
    var transform: (@Sendable (ResultRow) async throws -> JSONValue)?
    var transformSchema: JSONValue?

    /// Whether requests are `multipart/form-data` (the route takes uploads).
    var isMultipart: Bool { !uploads.isEmpty }

    /// FastAPI's endpoint name: `insert_generate`, `query_root`.
    var endpointName: String {
        let slug = path.split(separator: "/").joined(separator: "_")
        return "\(kind.name)_\(slug.isEmpty ? "root" : slug)"
    }

    /// `''.join(seg.capitalize() for seg in path.split('/'))`: `/images/update` → `ImagesUpdate`.
    var pathStr: String {
        path.split(separator: "/").map { seg in seg.prefix(1).uppercased() + seg.dropFirst().lowercased() }.joined()
    }
}
