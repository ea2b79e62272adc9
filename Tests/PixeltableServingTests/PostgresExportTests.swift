import Foundation
import Logging
import Pixeltable
import PostgresNIO
import Testing
@testable import PixeltableServing

/// The PostgreSQL server `.ci/run` starts (scripts/start-test-postgres.sh), if any.
let testPostgresURL = ProcessInfo.processInfo.environment["PXT_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

/// `export_sql` into a real PostgreSQL server: each method, a schema-qualified table, values
/// cast to `jsonb` and `timestamptz` columns, the registration checks against PostgreSQL's
/// catalog, a failed export, and a password that appears nowhere.
@Suite(.enabled(if: testPostgresURL != nil, "PXT_TEST_POSTGRES_URL is not set: start a server with scripts/start-test-postgres.sh (.ci/run does)"))
struct PostgresExportTests {
    /// A fresh schema on the test server, dropped afterwards.
    struct Server {
        let url: String
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let client: PostgresClient
        let running: Task<Void, Never>

        init() async throws {
            url = testPostgresURL!
            let c = try ExportConnection(url)
            guard case .postgres(let host, let port, let user, _, let database, _) = c.kind else { throw PixeltableError(.invalidArgument, "not a PostgreSQL URL: \(url)") }
            client = PostgresClient(configuration: .init(host: host, port: port, username: user ?? "pxt", password: nil, database: database, tls: .disable))
            let client = self.client
            running = Task { await client.run() }
            try await sql("CREATE SCHEMA \(schema)")
        }

        /// Runs statements separated by `;`, one at a time.
        func sql(_ text: String) async throws {
            for statement in text.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                do {
                    _ = try await client.withConnection { c in try await c.query(PostgresQuery(unsafeSQL: statement), logger: Logger(label: "test")).get() }
                } catch {
                    throw PixeltableError(.internalError, "\(statement): \(String(reflecting: error))")
                }
            }
        }

        /// Every row of `select`, whose columns must all be text (cast them: results come in
        /// binary otherwise).
        func rows(_ select: String) async throws -> [[String?]] {
            try await client.withConnection { c in
                let result = try await c.query(PostgresQuery(unsafeSQL: select), logger: Logger(label: "test")).get()
                return result.rows.map { row in row.map { cell in cell.bytes.map { String(buffer: $0) } } }
            }
        }

        /// The URL with a password in it (the server trusts the role, so any password works).
        var urlWithPassword: String { url.replacingOccurrences(of: "://pxt@", with: "+psycopg://pxt:hunter2-secret@") }

        func stop() async {
            try? await sql("DROP SCHEMA \(schema) CASCADE")
            running.cancel()
            _ = await running.value
        }
    }

    func withServer(_ body: (Server, Catalog, ServiceRouter) async throws -> Void) async throws {
        let server = try await Server()
        try await withService { cat in
            let router = try ServiceRouter(catalog: cat)
            do {
                try await body(server, cat, router)
            } catch {
                await router.exportTargets.closeAll()
                await server.stop()
                throw error
            }
            await router.exportTargets.closeAll()
        }
        await server.stop()
    }

    func events(_ cat: Catalog) async throws -> Pixeltable.Table {
        try await cat.createTable(
            "events", columns: [.init("id", .int), .init("kind", .string), .init("meta", .json), .init("at", .timestamp), .computed("kind_upper", "kind.upper()")])
    }

    @Test func insertUpdateAndMergeWriteTheResponseBody() async throws {
        try await withServer { pg, cat, router in
            try await pg.sql(
                """
                CREATE TABLE \(pg.schema).log (id bigint, kind text, kind_upper varchar(40), meta jsonb, at timestamptz);
                CREATE TABLE \(pg.schema).latest (id integer PRIMARY KEY, kind text);
                CREATE TABLE \(pg.schema).current (id integer PRIMARY KEY, kind_upper text);
                INSERT INTO \(pg.schema).current VALUES (1, 'OLD');
                """)
            let t = try await events(cat)
            let s = pg.schema
            try await router.addInsertRoute(
                t, path: "/log", outputs: ["id", "kind", "kind_upper", "meta", "at"], exportSQL: SQLExport(dbConnect: pg.urlWithPassword, table: "log", dbSchema: s))
            try await router.addInsertRoute(t, path: "/latest", outputs: ["id", "kind"], exportSQL: SQLExport(dbConnect: pg.url, table: "latest", dbSchema: s, method: "merge"))
            try await router.addInsertRoute(
                t, path: "/current", outputs: ["id", "kind_upper"], exportSQL: SQLExport(dbConnect: pg.url, table: "current", dbSchema: s, method: "update"))
            #expect(router.exportTargets.count == 2)
            let server = try await RunningServer.start(router)
            defer { Task { await server.stop() } }
            var r = try await http(server.port, "POST", "/log", json: ["id": 1, "kind": "click", "meta": ["x": [1, 2]], "at": "2026-12-02T10:00:00+00:00"])
            #expect(r.status == 200, "\(r.text)")
            #expect(try await pg.rows("SELECT id::text, kind, kind_upper, meta::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM \(s).log") == [
                ["1", "click", "CLICK", #"{"x": [1, 2]}"#, "2026-12-02 10:00"]
            ])
            for kind in ["a", "b"] {
                r = try await http(server.port, "POST", "/latest", json: ["id": 5, "kind": .string(kind)])
                #expect(r.status == 200, "\(r.text)")
            }
            #expect(try await pg.rows("SELECT id::text, kind FROM \(s).latest") == [["5", "b"]])
            r = try await http(server.port, "POST", "/current", json: ["id": 1, "kind": "new"])
            #expect(r.status == 200, "\(r.text)")
            #expect(try await pg.rows("SELECT kind_upper FROM \(s).current WHERE id = 1") == [["NEW"]])
            r = try await http(server.port, "POST", "/current", json: ["id": 9, "kind": "none"])
            #expect(r.status == 500)
            #expect(r.json == ["detail": "export_sql update affected 0 rows; expected 1"])
            // A constraint the row breaks: 500, the Pixeltable row kept, the database's words not shown.
            try await pg.sql("ALTER TABLE \(s).log ADD CONSTRAINT short_kind CHECK (length(kind) < 10)")
            r = try await http(server.port, "POST", "/log", json: ["id": 2, "kind": "much-too-long-a-kind"])
            #expect(r.status == 500)
            #expect(r.json == ["detail": "export_sql write failed"])
            #expect(try await t.select(["id"], where: "id == 2").rows.count == 1)
        }
    }

    @Test func registrationChecksAgainstPostgresCatalog() async throws {
        try await withServer { pg, cat, router in
            try await pg.sql(
                """
                CREATE TABLE \(pg.schema).out_bad (id date, kind text);
                CREATE TABLE \(pg.schema).no_pk (id integer, kind text);
                CREATE TABLE \(pg.schema).two_keys (kind text, id integer, kind_upper text, PRIMARY KEY (kind, id));
                """)
            let t = try await events(cat)
            func failure(_ table: String, method: String = "insert", outputs: [String] = ["id", "kind"], url: String? = nil) async -> PixeltableError? {
                do {
                    try await router.addInsertRoute(t, path: "/x", outputs: outputs, exportSQL: SQLExport(dbConnect: url ?? pg.url, table: table, dbSchema: pg.schema, method: method))
                    return nil
                } catch { return error }
            }
            var e = await failure("missing", url: pg.urlWithPassword)
            #expect(e?.code == .pathNotFound)
            #expect(e?.message.hasPrefix("add_insert_route(): table 'missing' does not exist in:\npostgresql+psycopg://pxt:***@127.0.0.1:") == true, "\(String(describing: e))")
            #expect(e?.message.contains("hunter2") == false)
            e = await failure("out_bad")
            #expect(e?.message == "add_insert_route(): in table 'out_bad', column 'id' of type DATE is not compatible with the source type (Int | None)")
            e = await failure("no_pk", method: "update")
            #expect(e?.code == .invalidArgument)
            e = await failure("two_keys", method: "merge", outputs: ["id", "kind_upper"])
            #expect(e?.message == "add_insert_route(): response columns must include the target table's primary-key columns (missing: ['kind']). Add them to `outputs`.")
            // Nothing is listening on this port: registration fails, naming the URL without its password.
            e = await failure("log", url: "postgresql://pxt:hunter2-secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2")
            #expect(e?.code == .invalidConfiguration)
            #expect(e?.message.contains("hunter2") == false)
            #expect(e?.message.contains("postgresql://pxt:***@127.0.0.1:1/db") == true, "\(String(describing: e))")
            e = await failure("log", url: "postgresql://pxt@127.0.0.1:1/db?target_session_attrs=any")
            #expect(e?.message.contains("connection parameter 'target_session_attrs' is not supported") == true)
            #expect(router.routeCount == 0)
        }
    }
}
