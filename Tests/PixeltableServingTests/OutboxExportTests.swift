import Foundation
import GRDB
import Pixeltable
import Testing
@testable import PixeltableServing

/// `export_sql` with `delivery = "outbox"`: rows recorded with the Pixeltable write and
/// delivered after it — only committed ones, all of them, through an unavailable target, a
/// refused row and a restart.
@Suite struct OutboxExportTests {
    typealias Target = SQLiteExportTests.Target

    func keyed(_ cat: Catalog) async throws -> Pixeltable.Table {
        try await cat.createTable(
            "events", columns: [.init("id", .int), .init("kind", .string), .init("n", .int), .computed("kind_upper", "kind.upper()")], primaryKey: ["id"])
    }

    /// A router whose refused entries are retried quickly (50 ms, doubling) and given up after
    /// three attempts.
    func router(_ cat: Catalog, service: String = "pxt-serve") throws -> ServiceRouter {
        var config = ServiceRouter.Configuration()
        config.outboxMaxAttempts = 3
        config.outboxRetryDelay = .milliseconds(50)
        return try ServiceRouter(catalog: cat, service: service, configuration: config)
    }

    /// Polls `condition` every 20 ms until it holds or `seconds` pass.
    func eventually(within seconds: Double = 30, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    static func outbox(_ cat: Catalog) async throws -> [OutboxSummary] { try await OutboxRecords.summary(in: cat) }

    @Test func deliversEveryCommittedRowAndNoRolledBackOne() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE log (id INTEGER, kind TEXT, kind_upper TEXT)")
            defer { target.remove() }
            let t = try await keyed(cat)
            let router = try router(cat)
            try await router.addInsertRoute(
                t, path: "/events", inputs: ["id", "kind"], outputs: ["id", "kind", "kind_upper"],
                exportSQL: SQLExport(dbConnect: target.url, table: "log", delivery: .outbox))
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            // 40 requests at once; 8 repeat a key, so their Pixeltable inserts roll back (the group
            // committer redoes their shared transaction with savepoints).
            let answers = try await withThrowingTaskGroup(of: (Int, JSONValue).self) { group in
                for i in 0..<40 {
                    let id = i < 32 ? i : i - 32
                    group.addTask {
                        let r = try await http(s.port, "POST", "/events", json: ["id": .int(Int64(id)), "kind": .string("k\(i)")])
                        return (r.status, r.json)
                    }
                }
                return try await group.reduce(into: [(Int, JSONValue)]()) { $0.append($1) }
            }
            let accepted = answers.filter { $0.0 == 200 }
            #expect(accepted.count == 32)
            #expect(answers.filter { $0.0 != 200 }.allSatisfy { $0.0 == 409 || $0.0 == 400 || $0.0 == 422 }, "\(answers.filter { $0.0 != 200 })")
            #expect(try await eventually { try target.rows("SELECT count(*) AS n FROM log") == [["n": 32.databaseValue]] })
            // What reached the target is exactly what Pixeltable committed (and answered).
            let stored = try await t.select().rows.map { "\($0["id"]?.intValue ?? -1) \($0["kind"]?.stringValue ?? "")" }.sorted()
            let exported = try target.rows("SELECT id, kind FROM log").map { r in "\(Int64.fromDatabaseValue(r["id"]!) ?? -1) \(String.fromDatabaseValue(r["kind"]!) ?? "")" }
                .sorted()
            #expect(exported == stored)
            #expect(Set(accepted.map(\.1["kind"])) == Set(try target.rows("SELECT kind FROM log").map { JSONValue.string(String.fromDatabaseValue($0["kind"]!) ?? "") }))
            #expect(try await eventually { try await Self.outbox(cat).isEmpty })
        }
    }

    @Test func refusedRowsAreRetriedThenFailedAndRequeuedByRetry() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE latest (id INTEGER PRIMARY KEY, kind TEXT, n INTEGER CHECK (n >= 0))")
            defer { target.remove() }
            let t = try await keyed(cat)
            let router = try router(cat)
            try await router.addInsertRoute(
                t, path: "/latest", outputs: ["id", "kind", "n"], exportSQL: SQLExport(dbConnect: target.url, table: "latest", method: "merge", delivery: .outbox))
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            for (id, n) in [(1, 5), (2, -1), (3, 7)] {
                let r = try await http(s.port, "POST", "/latest", json: ["id": .int(Int64(id)), "kind": "x", "n": .int(Int64(n))])
                // The answer does not wait for the export, and does not depend on it.
                #expect(r.status == 200, "\(r.text)")
            }
            // The refused row fails alone: the rows around it are delivered.
            #expect(try await eventually { try target.rows("SELECT id FROM latest ORDER BY id") == [["id": 1.databaseValue], ["id": 3.databaseValue]] })
            #expect(try await eventually { try await Self.outbox(cat).first?.failed == 1 })
            let summary = try #require(try await Self.outbox(cat).first)
            #expect(summary.route == "/latest" && summary.service == "pxt-serve" && summary.pending == 0)
            #expect(summary.lastError?.contains("CHECK constraint failed") == true, "\(summary)")
            // The target is fixed; the failed delivery is re-queued and goes through.
            try await target.queue.write { db in
                try db.execute(sql: "CREATE TABLE latest2 (id INTEGER PRIMARY KEY, kind TEXT, n INTEGER); INSERT INTO latest2 SELECT * FROM latest")
                try db.execute(sql: "DROP TABLE latest; ALTER TABLE latest2 RENAME TO latest")
            }
            #expect(try await OutboxRecords.retryFailed(in: cat, route: "/elsewhere") == 0)
            #expect(try await OutboxRecords.retryFailed(in: cat) == 1)
            #expect(try await eventually { try target.rows("SELECT n FROM latest WHERE id = 2") == [["n": (-1).databaseValue]] })
            #expect(try await eventually { try await Self.outbox(cat).isEmpty })
        }
    }

    @Test func anUnavailableTargetIsWaitedForAndRowsSurviveARestart() async throws {
        try await withService { cat in
            let target = try Target("CREATE TABLE log (id INTEGER, kind TEXT)")
            defer { target.remove() }
            let t = try await keyed(cat)
            let first = try router(cat)
            try await first.addInsertRoute(t, path: "/events", outputs: ["id", "kind"], exportSQL: SQLExport(dbConnect: target.url, table: "log", delivery: .outbox))
            // Another connection holds the target's file locked: every write there is refused
            // with SQLITE_BUSY (after the target's 5 s busy timeout), which is unavailability.
            var lockConfig = Configuration()
            lockConfig.allowsUnsafeTransactions = true
            let locker = try DatabaseQueue(path: target.path, configuration: lockConfig)
            try await locker.writeWithoutTransaction { try $0.execute(sql: "BEGIN EXCLUSIVE") }
            let s = try await RunningServer.start(first)
            for i in 1...20 {
                #expect(try await http(s.port, "POST", "/events", json: ["id": .int(Int64(i)), "kind": "a"]).status == 200)
            }
            #expect(try await Self.outbox(cat).first?.pending == 20)
            // The service stops with every row undelivered; none is lost.
            await s.stop()
            #expect(try await Self.outbox(cat).first?.pending == 20)
            #expect(try await Self.outbox(cat).first?.failed == 0)
            try await locker.writeWithoutTransaction { try $0.execute(sql: "COMMIT") }
            // The next run of the service delivers what the last one left.
            let second = try router(cat)
            try await second.addInsertRoute(t, path: "/events", outputs: ["id", "kind"], exportSQL: SQLExport(dbConnect: target.url, table: "log", delivery: .outbox))
            #expect(try await eventually { try target.rows("SELECT count(*) AS n FROM log") == [["n": 20.databaseValue]] })
            #expect(try await eventually { try await Self.outbox(cat).isEmpty })
            await second.shutdown()
        }
    }

    @Test func closureAndUpdateRoutesExportThroughTheOutbox() async throws {
        try await withService { cat in
            let target = try Target(
                "CREATE TABLE summaries (id INTEGER PRIMARY KEY, label TEXT, score REAL); CREATE TABLE current (id INTEGER PRIMARY KEY, kind TEXT, n INTEGER); INSERT INTO current VALUES (1, 'old', 0)"
            )
            defer { target.remove() }
            let t = try await keyed(cat)
            let router = try router(cat)
            try await router.insertRoute(t, path: "/summaries", exportSQL: SQLExport(dbConnect: target.url, table: "summaries", method: "merge", delivery: .outbox)) {
                row in
                let kind = row["kind"]?.stringValue ?? ""
                return SQLiteExportTests.Summary(id: Int(row["id"]?.intValue ?? 0), label: "\(kind)!", score: Double(row["n"]?.intValue ?? 0) / 2)
            }
            try await router.addUpdateRoute(
                t, path: "/events/update", inputs: ["kind", "n"], outputs: ["id", "kind", "n"],
                exportSQL: SQLExport(dbConnect: target.url, table: "current", method: "update", delivery: .outbox))
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            var r = try await http(s.port, "POST", "/summaries", json: ["id": 1, "kind": "abc", "n": 3])
            #expect(r.json == ["id": 1, "label": "abc!", "score": 1.5], "\(r.text)")
            #expect(try await eventually { try target.rows("SELECT * FROM summaries") == [["id": 1.databaseValue, "label": "abc!".databaseValue, "score": 1.5.databaseValue]] })
            r = try await http(s.port, "POST", "/events/update", json: ["id": 1, "kind": "new", "n": 9])
            #expect(r.status == 200, "\(r.text)")
            #expect(try await eventually { try target.rows("SELECT kind, n FROM current") == [["kind": "new".databaseValue, "n": 9.databaseValue]] })
            // An update matching no row in the target is refused, retried, and fails; the
            // request itself answered 200, as the Pixeltable write committed.
            _ = try await http(s.port, "POST", "/summaries", json: ["id": 2, "kind": "b", "n": 1])
            r = try await http(s.port, "POST", "/events/update", json: ["id": 2, "kind": "z", "n": 1])
            #expect(r.status == 200)
            #expect(try await eventually { try await Self.outbox(cat).first(where: { $0.route == "/events/update" })?.failed == 1 })
            let failed = try #require(try await Self.outbox(cat).first { $0.route == "/events/update" })
            #expect(failed.lastError == "export_sql update affected 0 rows; expected 1")
        }
    }
}
