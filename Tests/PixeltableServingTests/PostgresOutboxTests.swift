import Foundation
import Logging
import Pixeltable
import PostgresNIO
import Testing
@testable import PixeltableServing

/// PostgreSQL's server binaries (Debian's postgresql package; .ci/run installs it).
let postgresServerInstalled = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).contains {
    FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb")
}

/// The outbox against a PostgreSQL server of its own, which the test stops and starts again:
/// rows written while the target is down are all delivered once it is back, none twice.
@Suite(.enabled(if: postgresServerInstalled, "needs PostgreSQL's server binaries under /usr/lib/postgresql (apt install postgresql; .ci/run does)"))
struct PostgresOutboxTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/start-test-postgres.sh").path

    /// Runs scripts/start-test-postgres.sh with `args` on a thread of its own (a blocked
    /// cooperative thread would stall the other async tests); its standard output.
    static func cluster(_ args: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { done in
            Thread.detachNewThread { done.resume(with: Result { try runCluster(args) }) }
        }
    }

    static func runCluster(_ args: [String]) throws -> String {
        // posix_spawn and waitpid rather than Foundation's Process, whose exit monitoring
        // missed this script's exit on a detached thread (isRunning stayed true).
        let output = NSTemporaryDirectory() + "pxt-pg-" + UUID().uuidString + ".out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let command = ([script] + args).map { "'" + $0 + "'" }.joined(separator: " ") + " > '" + output + "'"
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/bash", "-c", command].map { (a: String) in strdup(a) } + [nil]
        defer { for a in argv { free(a) } }
        guard posix_spawn(&pid, "/bin/bash", nil, nil, argv, environ) == 0 else { throw PixeltableError(.internalError, "cannot run \(script)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw PixeltableError(.internalError, "start-test-postgres.sh \(args) exited with status \(status)") }
        return (try String(contentsOfFile: output, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func rowsWrittenWhileTheTargetIsDownAreDeliveredWhenItComesBack() async throws {
        let started = try await Self.cluster([]).split(separator: " ")
        let (url, dir) = (String(started[0]), String(started[1]))
        defer { _ = try? Self.runCluster(["stop", dir]) }
        try await withService { cat in
            let c = try ExportConnection(url)
            guard case .postgres(let host, let port, _, _, let database, _) = c.kind else { return }
            let client = PostgresClient(configuration: .init(host: host, port: port, username: "pxt", password: nil, database: database, tls: .disable))
            let running = Task { await client.run() }
            defer { running.cancel() }
            let logger = Logger(label: "test")
            func count() async throws -> Int {
                try await client.withConnection { conn in
                    let rows = try await conn.query("SELECT count(*)::int4, count(DISTINCT id)::int4 FROM log", logger: logger)
                    for try await (n, distinct) in rows.decode((Int32, Int32).self) {
                        #expect(n == distinct, "an entry was delivered twice")
                        return Int(n)
                    }
                    return -1
                }
            }
            _ = try await client.withConnection { try await $0.query("CREATE TABLE log (id bigint PRIMARY KEY, kind text)", logger: logger) }
            let t = try await cat.createTable("events", columns: [.init("id", .int), .init("kind", .string)], primaryKey: ["id"])
            let router = try ServiceRouter(catalog: cat)
            try await router.addInsertRoute(t, path: "/events", exportSQL: SQLExport(dbConnect: url, table: "log", delivery: .outbox))
            let s = try await RunningServer.start(router)
            defer { Task { await s.stop() } }
            for i in 1...5 { #expect(try await http(s.port, "POST", "/events", json: ["id": .int(Int64(i)), "kind": "up"]).status == 200) }
            #expect(await poll { (try? await count()) == 5 })
            // The target goes away; requests still answer at once, and their rows wait.
            _ = try await Self.cluster(["pause", dir])
            for i in 6...25 { #expect(try await http(s.port, "POST", "/events", json: ["id": .int(Int64(i)), "kind": "down"]).status == 200) }
            let waiting = try #require(try await OutboxRecords.summary(in: cat).first)
            #expect(waiting.pending == 20 && waiting.failed == 0, "\(waiting)")
            try await Task.sleep(for: .seconds(2))
            // It comes back: every row is delivered, once.
            _ = try await Self.cluster(["resume", dir])
            #expect(await poll(seconds: 90) { (try? await count()) == 25 })
            #expect(await poll { (try? await OutboxRecords.summary(in: cat).isEmpty) == true })
        }
    }

    func poll(seconds: Double = 30, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }
}
