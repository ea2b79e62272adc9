import Foundation
import GRDB
import Pixeltable
import PixeltableServing
import Synchronization
import Testing

/// `pxt serve` killed with SIGKILL in the middle of concurrent inserts, updates, deletes and
/// background jobs (issue #12, deliverable 4): every acknowledged write is there after the
/// restart, every job's outcome agrees with what is stored, and the database is intact.
@Suite struct ServeCrashTests {
    static let module = """
        [[table]]
        path = "crash/items"
        primary_key = ["id"]
        [table.columns]
        id = "Int"
        title = "Required[String]"
        n = "Int"
        [[table.computed]]
        name = "shout"
        expr = "title.upper()"
        """

    static let service = """
        [[service]]
        name = "crash"
        modules = ["crashmod"]
        [[service.routes]]
        type = "insert"
        table = "crash/items"
        path = "/items"
        [[service.routes]]
        type = "update"
        table = "crash/items"
        path = "/items/update"
        inputs = ["n"]
        [[service.routes]]
        type = "delete"
        table = "crash/items"
        path = "/items/delete"
        [[service.routes]]
        type = "insert"
        table = "crash/items"
        path = "/items/ingest"
        background = true
        [[service.routes]]
        type = "update"
        table = "crash/items"
        path = "/items/bg-update"
        inputs = ["n"]
        background = true
        [[service.routes]]
        type = "delete"
        table = "crash/items"
        path = "/items/bg-delete"
        background = true
        """

    /// What the clients were told before the kill.
    struct Acknowledged: Sendable {
        var inserted: Set<Int64> = []
        /// The last acknowledged `n` of each updated row (each row is updated by one client, in order).
        var updated: [Int64: Int64] = [:]
        var deleted: Set<Int64> = []
        /// Background jobs by id: what they do and to which row.
        var jobs: [String: (kind: String, id: Int64, n: Int64)] = [:]
    }

    /// Shared by the client tasks.
    final class ClientLog: Sendable {
        let acked = Mutex(Acknowledged())
        let stop = Atomic<Bool>(false)
    }

    @Test func everyAcknowledgedWriteAndJobOutcomeSurvivesASIGKILL() async throws {
        try await withServeEnv { env in
            try env.write("quickstart/crashmod.toml", Self.module)
            try env.write("quickstart/crash.toml", Self.service)
            let args = ["crash", "--config", "crash.toml", "--host", "127.0.0.1", "--port", "0"]
            guard let (first, port) = try await env.serve(args) else { return }
            let log = ClientLog()
            // Eight clients: each owns ids ≡ its number (mod 8), so its own writes are ordered.
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<8 {
                    group.addTask {
                        var k: Int64 = 0
                        while !log.stop.load(ordering: .relaxed) {
                            let id = Int64(client) + 8 * k
                            k += 1
                            do {
                                switch k % 4 {
                                case 0:
                                    // Insert, update twice, then delete half of them.
                                    guard try await http(port, "POST", "/items", json: ["id": .int(id), "title": .string("t\(id)"), "n": 0]).status == 200 else { continue }
                                    log.acked.withLock { _ = $0.inserted.insert(id) }
                                    for n in 1...2 where try await http(port, "POST", "/items/update", json: ["id": .int(id), "n": .int(Int64(n))]).status == 200 {
                                        log.acked.withLock { $0.updated[id] = Int64(n) }
                                    }
                                    if id % 2 == 0, try await http(port, "POST", "/items/delete", json: ["id": .int(id)]).json == ["num_rows": 1] {
                                        log.acked.withLock { _ = $0.deleted.insert(id) }
                                    }
                                default:
                                    // A background insert, then a background update or delete of it.
                                    let r = try await http(port, "POST", "/items/ingest", json: ["id": .int(id), "title": .string("b\(id)"), "n": 0])
                                    guard let job = r.json["id"]?.stringValue else { continue }
                                    log.acked.withLock { $0.jobs[job] = ("insert", id, 0) }
                                    let follow = k % 4 == 1 ? ("update", "/items/bg-update") : ("delete", "/items/bg-delete")
                                    let f = try await http(port, "POST", follow.1, json: follow.0 == "update" ? ["id": .int(id), "n": 7] : ["id": .int(id)])
                                    if let j = f.json["id"]?.stringValue { log.acked.withLock { $0.jobs[j] = (follow.0, id, 7) } }
                                }
                            } catch {
                                return  // the server is gone
                            }
                        }
                    }
                }
                group.addTask {
                    // Kill once there is enough work in flight (however slow the machine is).
                    let deadline = Date().addingTimeInterval(60)
                    while Date() < deadline, log.acked.withLock({ $0.inserted.count < 25 || $0.jobs.count < 50 }) {
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                    first.signal(SIGKILL)
                    try? await Task.sleep(for: .milliseconds(300))
                    log.stop.store(true, ordering: .relaxed)
                }
            }
            _ = await first.waitForExit()
            let a = log.acked.withLock { $0 }
            #expect(a.inserted.count > 20 && a.jobs.count > 20, "enough work before the kill: \(a.inserted.count) inserts, \(a.jobs.count) jobs")

            // Straight from the database, before a restart touches it.
            let cat = try Catalog.open(home: HomeDirectory(path: env.home))
            let items = try await cat.table("crash/items")
            var stored: [Int64: Int64] = [:]
            for row in try await items.select(["id", "n"]).rows {
                if case .int(let id) = row.values[0] { stored[id] = row.values[1].intValue ?? -1 }
            }
            for id in a.inserted where !a.deleted.contains(id) {
                #expect(stored[id] != nil, "acknowledged insert \(id) lost")
                if let n = a.updated[id], let s = stored[id] { #expect(s >= n, "row \(id): n = \(s), acknowledged \(n)") }
            }
            for id in a.deleted { #expect(stored[id] == nil, "acknowledged delete \(id) undone") }
            let records = JobRecords(catalog: cat, service: "crash")
            var done = 0
            for (job, what) in a.jobs {
                guard let r = try await records.get(job) else {
                    Issue.record("acknowledged job \(job) has no record")
                    continue
                }
                if r.status == "done" { done += 1 }
                switch what.kind {
                case "insert":
                    // A stored row's job is done, and a done job's row was stored (unless a
                    // later job of the same row deleted it).
                    let deletedLater = a.jobs.values.contains { $0.kind == "delete" && $0.id == what.id }
                    if stored[what.id] != nil { #expect(r.status == "done", "row \(what.id) stored, its job \(r.status)") }
                    if r.status == "done" && !deletedLater { #expect(stored[what.id] != nil, "job done, row \(what.id) missing") }
                case "update":
                    if r.status == "done" { #expect(stored[what.id] == 7, "update job done, row \(what.id) n = \(String(describing: stored[what.id]))") }
                    if stored[what.id] == 7 { #expect(r.status == "done", "row \(what.id) updated, its job \(r.status)") }
                default:
                    if r.status == "done", r.result == ["num_rows": 1] { #expect(stored[what.id] == nil, "delete job done, row \(what.id) still there") }
                }
            }
            #expect(done > 0)
            let integrity = try await DatabaseQueue(path: env.home + "/pixeltable.db").read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
            #expect(integrity == "ok")

            // After the restart, jobs cut short read as interrupted; none of them stored anything.
            guard let (second, port2) = try await env.serve(args) else { return }
            for (job, what) in a.jobs where what.kind == "insert" {
                let s = try await http(port2, "GET", "/jobs/\(job)").json
                #expect(s["status"] == "done" || s["error"] == "interrupted by restart", "\(s)")
                if s["status"] != "done" { #expect(stored[what.id] == nil) }
            }
            second.signal(SIGTERM)
            #expect(await second.waitForExit() == 0, "\(second.stderr)")
        }
    }
}
