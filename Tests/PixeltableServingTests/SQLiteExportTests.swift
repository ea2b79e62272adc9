import Foundation
import GRDB
import Pixeltable
import Testing
@testable import PixeltableServing

/// `export_sql` into SQLite target files: each method, every registration check, pooling, a
/// failed export after a committed write, background jobs and closure routes.
@Suite struct SQLiteExportTests {
    /// A SQLite file next to the test home with the given tables; its `sqlite:////` URL.
    struct Target {
        let path: String
        var url: String { "sqlite:///" + path }
        let queue: DatabaseQueue

        init(_ ddl: String) throws {
            path = NSTemporaryDirectory() + "pxt-export-" + UUID().uuidString + ".db"
            // Reads wait for the server's writes (the outbox worker writes while tests read).
            var config = Configuration()
            config.busyMode = .timeout(10)
            queue = try DatabaseQueue(path: path, configuration: config)
            try queue.write { try $0.execute(sql: ddl) }
        }

        func rows(_ sql: String) throws -> [[String: DatabaseValue]] {
            try queue.read { db in
                try Row.fetchAll(db, sql: sql).map { r in Dictionary(uniqueKeysWithValues: r.columnNames.map { ($0, r[$0] as DatabaseValue) }) }
            }
        }

        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    func events(_ cat: Catalog) async throws -> Pixeltable.Table {
        try await cat.createTable(
            "events", columns: [.init("id", .int), .init("kind", .string), .init("n", .int), .computed("kind_upper", "kind.upper()")])
    }

    @Test func insertAppendsTheResponseBody() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE log (id INTEGER, kind TEXT, kind_upper VARCHAR(20))")
            defer { target.remove() }
            let t = try await events(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(
                t, path: "/events", inputs: ["id", "kind"], outputs: ["id", "kind", "kind_upper"], exportSQL: SQLExport(dbConnect: target.url, table: "log"))
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            var r = try await http(s.port, "POST", "/events", json: ["id": 1, "kind": "click"])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json == ["id": 1, "kind": "click", "kind_upper": "CLICK"])
            // An audit log: the same request again is a second row.
            r = try await http(s.port, "POST", "/events", json: ["id": 1, "kind": "click"])
            #expect(r.status == 200)
            let rows = try target.rows("SELECT id, kind, kind_upper FROM log ORDER BY rowid")
            #expect(rows.count == 2)
            #expect(rows.first == ["id": 1.databaseValue, "kind": "click".databaseValue, "kind_upper": "CLICK".databaseValue])
        }
    }

    @Test func updateChangesExactlyOneRowOrAnswers500() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE current (id INTEGER PRIMARY KEY, kind TEXT, n INTEGER); INSERT INTO current VALUES (1, 'old', 0)")
            defer { target.remove() }
            let t = try await events(cat)
            let router = try ServiceRouter(catalog: cat)
            // An append-only Pixeltable table feeding a current-state view.
            try await router.addInsertRoute(t, path: "/events", outputs: ["id", "kind", "n"], exportSQL: SQLExport(dbConnect: target.url, table: "current", method: "update"))
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            var r = try await http(s.port, "POST", "/events", json: ["id": 1, "kind": "new", "n": 5])
            #expect(r.status == 200, "\(r.text)")
            #expect(try target.rows("SELECT kind, n FROM current WHERE id = 1") == [["kind": "new".databaseValue, "n": 5.databaseValue]])
            r = try await http(s.port, "POST", "/events", json: ["id": 2, "kind": "none", "n": 1])
            #expect(r.status == 500)
            #expect(r.json == ["detail": "export_sql update affected 0 rows; expected 1"])
            // The Pixeltable insert committed first and is not rolled back.
            #expect(try await t.count() == 2)
            #expect(try target.rows("SELECT id FROM current").count == 1)
        }
    }

    @Test func mergeInsertsThenUpdates() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE latest (kind TEXT, id INTEGER, n INTEGER, PRIMARY KEY (id))")
            defer { target.remove() }
            let t = try await events(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/events", outputs: ["id", "kind", "n"], exportSQL: SQLExport(dbConnect: target.url, table: "latest", method: "merge"))
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            for (kind, n) in [("a", 1), ("b", 2), ("c", 3)] {
                let r = try await http(s.port, "POST", "/events", json: ["id": 7, "kind": .string(kind), "n": .int(Int64(n))])
                #expect(r.status == 200, "\(r.text)")
            }
            _ = try await http(s.port, "POST", "/events", json: ["id": 8, "kind": "z", "n": 0])
            #expect(try target.rows("SELECT id, kind, n FROM latest ORDER BY id") == [
                ["id": 7.databaseValue, "kind": "c".databaseValue, "n": 3.databaseValue], ["id": 8.databaseValue, "kind": "z".databaseValue, "n": 0.databaseValue],
            ])
        }
    }

    @Test func registrationChecksTheTargetWithPixeltablesMessages() async throws {
        try await withService { cat in
            let target = try Target(
                """
                CREATE TABLE out_ok (id INTEGER PRIMARY KEY, kind TEXT, n INTEGER);
                CREATE TABLE out_missing (kind TEXT);
                CREATE TABLE out_bad (id DATE, kind TEXT, n INTEGER);
                CREATE TABLE no_pk (id INTEGER, kind TEXT, n INTEGER);
                """)
            defer { target.remove() }
            let t = try await events(cat)
            let router = try ServiceRouter(catalog: cat)
            func failure(_ table: String, method: String = "insert", outputs: [String] = ["id", "kind", "n"]) async -> PixeltableError? {
                do {
                    try await router.addInsertRoute(t, path: "/x", outputs: outputs, exportSQL: SQLExport(dbConnect: target.url, table: table, method: method))
                    return nil
                } catch { return error }
            }
            var e = await failure("out")
            #expect(e?.code == .pathNotFound)
            #expect(e?.message == "add_insert_route(): table 'out' does not exist in:\n\(target.url)")
            e = await failure("out_missing")
            #expect(e?.code == .columnNotFound)
            #expect(e?.message == "add_insert_route(): column 'id' not in table 'out_missing'")
            e = await failure("out_bad")
            #expect(e?.code == .typeMismatch)
            #expect(e?.message == "add_insert_route(): in table 'out_bad', column 'id' of type DATE is not compatible with the source type (Int | None)")
            e = await failure("no_pk", method: "update")
            #expect(e?.code == .invalidArgument)
            #expect(
                e?.message
                    == "add_insert_route(): target table 'no_pk' has no primary key; required for method='update' (note: requires the target dialect's metadata to expose the primary key)")
            e = await failure("out_ok", method: "update", outputs: ["kind", "n"])
            #expect(e?.code == .missingRequired)
            #expect(e?.message == "add_insert_route(): response columns must include the target table's primary-key columns (missing: ['id']). Add them to `outputs`.")
            e = await failure("out_ok", method: "merge", outputs: ["id"])
            #expect(e?.code == .invalidArgument)
            #expect(e?.message == "add_insert_route(): method='merge' requires at least one non-primary-key column in the response columns (got only ['id'])")
            e = await failure("out_ok", method: "upsert")
            #expect(e?.code == .invalidArgument)
            // A database file that is not there is a missing table, and is not created.
            let nowhere = NSTemporaryDirectory() + "pxt-export-absent-\(UUID().uuidString).db"
            do {
                try await router.addInsertRoute(t, path: "/y", exportSQL: SQLExport(dbConnect: "sqlite:///" + nowhere, table: "log"))
                Issue.record("registered against a missing file")
            } catch {
                #expect((error as? PixeltableError)?.code == .pathNotFound)
            }
            #expect(!FileManager.default.fileExists(atPath: nowhere))
            // Nothing was registered by the failures; the good one registers.
            #expect(router.routeCount == 0)
            try await router.addInsertRoute(t, path: "/ok", outputs: ["id", "kind", "n"], exportSQL: SQLExport(dbConnect: target.url, table: "out_ok", method: "merge"))
            #expect(router.routeCount == 1)
        }
    }

    @Test func routesOnOneConnectionStringShareOneTarget() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE a (id INTEGER, kind TEXT); CREATE TABLE b (id INTEGER PRIMARY KEY, kind TEXT)")
            defer { target.remove() }
            let other = try Target("CREATE TABLE a (id INTEGER, kind TEXT)")
            defer { other.remove() }
            let t = try await events(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/1", outputs: ["id", "kind"], exportSQL: SQLExport(dbConnect: target.url, table: "a"))
            try await router.addInsertRoute(t, path: "/2", outputs: ["id", "kind"], exportSQL: SQLExport(dbConnect: target.url, table: "b", method: "merge"))
            try await router.addUpdateRoute(
                try await cat.createTable("keyed", columns: [.init("id", .int), .init("kind", .string)], primaryKey: ["id"]), path: "/3",
                exportSQL: SQLExport(dbConnect: target.url, table: "b", method: "update"))
            #expect(router.exportTargets.count == 1)
            try await router.addInsertRoute(t, path: "/4", outputs: ["id", "kind"], exportSQL: SQLExport(dbConnect: other.url, table: "a"))
            #expect(router.exportTargets.count == 2)
        }
    }

    @Test func aFailedExportAnswers500AndKeepsThePixeltableWrite() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE log (id INTEGER UNIQUE, kind TEXT)")
            defer { target.remove() }
            let t = try await events(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/events", outputs: ["id", "kind"], exportSQL: SQLExport(dbConnect: target.url, table: "log"))
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            #expect(try await http(s.port, "POST", "/events", json: ["id": 1, "kind": "a"]).status == 200)
            let r = try await http(s.port, "POST", "/events", json: ["id": 1, "kind": "b"])
            #expect(r.status == 500)
            // Pixeltable's words only: the database's message (naming the constraint) is logged.
            #expect(r.json == ["detail": "export_sql write failed"])
            #expect(try await t.count() == 2)
            #expect(try target.rows("SELECT kind FROM log") == [["kind": "a".databaseValue]])
        }
    }

    @Test func concurrentRequestsShareStatementsAndOneBadRowFailsAlone() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE log (id INTEGER UNIQUE, kind TEXT); CREATE TABLE latest (id INTEGER PRIMARY KEY, kind TEXT)")
            defer { target.remove() }
            let t = try await events(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/log", outputs: ["id", "kind"], exportSQL: SQLExport(dbConnect: target.url, table: "log"))
            try await router.addInsertRoute(t, path: "/latest", outputs: ["id", "kind"], exportSQL: SQLExport(dbConnect: target.url, table: "latest", method: "merge"))
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            // 40 requests at once, one of them (id 7, sent twice) breaking the target's UNIQUE.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<40 {
                    let id = i == 39 ? 7 : i
                    group.addTask { try await http(s.port, "POST", "/log", json: ["id": .int(Int64(id)), "kind": .string("k\(i)")]).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 39)
            #expect(statuses.filter { $0 == 500 }.count == 1)
            #expect(try target.rows("SELECT count(*) AS n FROM log") == [["n": 39.databaseValue]])
            #expect(try await t.count() == 40)
            // Concurrent merges of one key: each is answered, and the target holds one row.
            let merged = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<20 {
                    group.addTask { try await http(s.port, "POST", "/latest", json: ["id": 1, "kind": .string("v\(i)")]).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(merged.allSatisfy { $0 == 200 })
            #expect(try target.rows("SELECT id FROM latest") == [["id": 1.databaseValue]])
        }
    }

    @Test func backgroundRoutesExportInTheJob() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE log (id INTEGER, kind_upper TEXT)")
            defer { target.remove() }
            let t = try await events(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(
                t, path: "/events", outputs: ["id", "kind_upper"], exportSQL: SQLExport(dbConnect: target.url, table: "log"), background: true)
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let r = try await http(s.port, "POST", "/events", json: ["id": 3, "kind": "bg"])
            let done = try await awaitJob(s.port, try #require(r.json["job_url"]?.stringValue))
            #expect(done["status"] == "done", "\(done)")
            #expect(try target.rows("SELECT id, kind_upper FROM log") == [["id": 3.databaseValue, "kind_upper": "BG".databaseValue]])
        }
    }

    struct Summary: RouteResponse {
        var id: Int
        var label: String
        var score: Double
        static let example = Summary(id: 1, label: "x", score: 0.5)
    }

    @Test func closureRoutesExportWhatTheyReturn() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE summaries (id INTEGER PRIMARY KEY, label TEXT, score REAL)")
            defer { target.remove() }
            let t = try await events(cat)
            let router = try ServiceRouter(catalog: cat)
            try await router.insertRoute(t, path: "/summaries", exportSQL: SQLExport(dbConnect: target.url, table: "summaries", method: "merge")) { row in
                let kind = row["kind"]?.stringValue ?? ""
                return Summary(id: Int(row["id"]?.intValue ?? 0), label: "\(kind)!", score: Double(kind.count) / 2)
            }
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            let r = try await http(s.port, "POST", "/summaries", json: ["id": 4, "kind": "abc"])
            #expect(r.status == 200, "\(r.text)")
            #expect(try target.rows("SELECT * FROM summaries") == [["id": 4.databaseValue, "label": "abc!".databaseValue, "score": 1.5.databaseValue]])
            // A field the target does not have is refused at registration.
            let narrow = try Target("CREATE TABLE s (id INTEGER PRIMARY KEY, label TEXT)")
            defer { narrow.remove() }
            await #expect(throws: PixeltableError.self) {
                try await router.insertRoute(t, path: "/narrow", exportSQL: SQLExport(dbConnect: narrow.url, table: "s")) { _ in Summary.example }
            }
        }
    }

    @Test func connectionStringsAreParsedAndShownWithoutPasswords() throws {
        for url in ["postgresql+psycopg://app:s3cret@db.internal:6543/analytics?sslmode=require", "postgres://app:s3cret@db.internal:6543/analytics?sslmode=require"] {
            let c = try ExportConnection(url)
            #expect(c.kind == .postgres(host: "db.internal", port: 6543, user: "app", password: "s3cret", database: "analytics", parameters: ["sslmode": "require"]))
            #expect(!c.redacted.contains("s3cret"))
            #expect(c.redacted.hasSuffix("://app:***@db.internal:6543/analytics?sslmode=require"))
        }
        #expect(try ExportConnection("sqlite:///out.db").kind == .sqlite(path: "out.db"))
        #expect(try ExportConnection("sqlite:////var/lib/out.db").kind == .sqlite(path: "/var/lib/out.db"))
        #expect(Redaction.url("postgresql://app@host/db") == "postgresql://app@host/db")
        #expect(Redaction.url("postgresql://u:p%40ss@host/db") == "postgresql://u:***@host/db")
        #expect(throws: PixeltableError.self) { try ExportConnection("mysql://u:pw@h/db") }
        do {
            _ = try ExportConnection("oracle://u:topsecret@h/db")
        } catch {
            #expect(!error.message.contains("topsecret"))
        }
        #expect(RouteConfig.exportJSON(SQLExport(dbConnect: "postgresql://u:topsecret@h/db", table: "t"))["db_connect"] == "postgresql://u:***@h/db")
    }
}
