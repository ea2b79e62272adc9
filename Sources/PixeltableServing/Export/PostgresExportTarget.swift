import Foundation
import Logging
import NIOSSL
import Pixeltable
import PostgresNIO

/// `export_sql` into PostgreSQL, through postgres-nio's `PostgresClient`: one connection pool
/// per connection string, running from the first route that names it until the service stops.
///
/// The libpq URL parameters postgres-nio has a counterpart for are honoured: `sslmode`
/// (`disable`, `allow`/`prefer` — the default, as libpq's —, `require`, `verify-ca`,
/// `verify-full`), `sslrootcert`, `connect_timeout` and `application_name`; any other is an
/// error rather than silently ignored.
final class PostgresExportTarget: ExportTarget {
    let displayURL: String
    private let client: PostgresClient
    private let running: Task<Void, Never>
    private let logger: Logger
    /// How long registration waits for the catalog, and a request for its write, before giving
    /// up: the pool retries a server that is down, and a request must not wait for ever.
    private let describeTimeout: Duration
    private let writeTimeout: Duration

    init(
        host: String, port: Int, user: String?, password: String?, database: String?, parameters: [String: String], displayURL: String
    ) throws(PixeltableError) {
        self.displayURL = displayURL
        var tls = PostgresClient.Configuration.TLS.prefer(.makeClientConfiguration())
        var options = PostgresClient.Configuration.Options()
        var startup: [(String, String)] = []
        var rootCertificate: String?
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "sslmode":
                var config = TLSConfiguration.makeClientConfiguration()
                switch value {
                case "disable": tls = .disable
                case "allow", "prefer":
                    config.certificateVerification = .none
                    tls = .prefer(config)
                case "require":
                    config.certificateVerification = .none
                    tls = .require(config)
                case "verify-ca":
                    config.certificateVerification = .noHostnameVerification
                    tls = .require(config)
                case "verify-full": tls = .require(config)
                default:
                    throw PixeltableError(.invalidConfiguration, "export_sql db_connect '\(displayURL)': sslmode must be disable, allow, prefer, require, verify-ca or verify-full (got '\(value)')")
                }
            case "sslrootcert": rootCertificate = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else {
                    throw PixeltableError(.invalidConfiguration, "export_sql db_connect '\(displayURL)': connect_timeout must be a positive number of seconds (got '\(value)')")
                }
                options.connectTimeout = .seconds(seconds)
            case "application_name": startup.append(("application_name", value))
            default:
                throw PixeltableError(
                    .invalidConfiguration,
                    "export_sql db_connect '\(displayURL)': connection parameter '\(name)' is not supported (supported: sslmode, sslrootcert, connect_timeout, application_name)")
            }
        }
        if let rootCertificate {
            var config = TLSConfiguration.makeClientConfiguration()
            config.trustRoots = .file(rootCertificate)
            if parameters["sslmode"] == "verify-ca" { config.certificateVerification = .noHostnameVerification }
            tls = parameters["sslmode"] == "disable" ? .disable : .require(config)
        }
        options.additionalStartupParameters = startup
        describeTimeout = options.connectTimeout + .seconds(5)
        writeTimeout = options.connectTimeout + .seconds(20)
        let username = user ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database ?? username, tls: tls)
        var c = configuration
        c.options = options
        var logger = Logger(label: "pxt-serve.export_sql")
        logger.logLevel = .critical
        self.logger = logger
        let client = PostgresClient(configuration: c, backgroundLogger: logger)
        self.client = client
        running = Task { await client.run() }
    }

    func describe(table: String, schema: String?) async throws -> ExportTableInfo? {
        var binds = PostgresBindings()
        if let schema { binds.append(schema) } else { binds.appendNull() }
        binds.append(table)
        let arguments = binds
        let columns = try await within(describeTimeout) { try await self.all(
            "SELECT column_name::text, data_type::text, udt_name::text FROM information_schema.columns "
                + "WHERE table_schema = coalesce($1::text, current_schema()) AND table_name = $2 ORDER BY ordinal_position", arguments) }
        if columns.isEmpty { return nil }
        let key = try await within(describeTimeout) { try await self.all(
            "SELECT a.attname::text, ''::text, ''::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                + "WHERE i.indisprimary AND i.indrelid = (quote_ident(coalesce($1::text, current_schema())) || '.' || quote_ident($2))::regclass "
                + "ORDER BY array_position(i.indkey::int2[], a.attnum)", arguments) }
        return ExportTableInfo(
            columns: columns.map { (name: $0.0, type: $0.1, cast: $0.2) }, primaryKey: key.map(\.0))
    }

    private func all(_ sql: String, _ binds: PostgresBindings) async throws -> [(String, String, String)] {
        try await client.withConnection { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            var out: [(String, String, String)] = []
            for try await (a, b, c) in rows.decode((String, String, String).self) { out.append((a, b, c)) }
            return out
        }
    }

    func accepts(declaredType: String, source: ColumnType) -> Bool { ExportCompatibility.accepts(declaredType, source) }

    /// `$1::int4`: each value is cast to its column's type, so that text becomes `jsonb`,
    /// `timestamptz` or `uuid` where the column is one (PostgreSQL does not convert a text
    /// parameter into those by itself).
    func placeholder(_ index: Int, cast: String?) -> String {
        guard let cast, !cast.isEmpty else { return "$\(index)" }
        return "$\(index)::" + Self.quote(cast)
    }

    func execute(_ sql: String, _ values: [ExportValue]) async throws -> Int {
        var binds = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .null: binds.appendNull()
            case .int(let i): binds.append(i)
            case .double(let d): binds.append(d)
            case .bool(let b): binds.append(b)
            case .text(let s): binds.append(s)
            }
        }
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        let (client, logger) = (self.client, self.logger)
        return try await within(writeTimeout) {
            try await client.withConnection { connection in
                let result = try await connection.query(query, logger: logger).get()
                return result.metadata.rows ?? 0
            }
        }
    }

    /// postgres-nio's errors print a generic text on purpose; the code, the server's message
    /// and the underlying error (a refused connection, a TLS failure) say what happened.
    func explain(_ error: any Error) -> String {
        guard let e = error as? PSQLError else { return SQLExporter.reason(error) }
        var parts = ["\(e.code)"]
        if let message = e.serverInfo?[.message] { parts.append(message) }
        if let detail = e.serverInfo?[.detail] { parts.append(detail) }
        if let underlying = e.underlying { parts.append(String(describing: underlying)) }
        return parts.joined(separator: ": ")
    }

    /// Connection-level failures, and the server's SQLSTATE classes that concern the server
    /// rather than the statement: 08 connection exception, 28 invalid authorization, 3D invalid
    /// catalog name, 40 transaction rollback (serialization, deadlock), 53 insufficient
    /// resources, 57 operator intervention (shutting down, starting up), 58 system error.
    func isUnavailable(_ error: any Error) -> Bool {
        guard let e = error as? PSQLError else { return true }
        switch e.code {
        case .server:
            let state = e.serverInfo?[.sqlState] ?? ""
            return ["08", "28", "3D", "40", "53", "57", "58"].contains(String(state.prefix(2)))
        case .tooManyParameters, .invalidCommandTag: return false
        default: return true
        }
    }

    /// `body`, or a timeout error once `limit` has passed.
    private func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw PixeltableError(.databaseUnavailable, "no answer from the database within \(limit.components.seconds) s")
            }
            return value
        }
    }

    func close() async {
        running.cancel()
        _ = await running.value
    }
}
