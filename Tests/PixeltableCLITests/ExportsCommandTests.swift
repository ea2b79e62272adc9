import Foundation
import Pixeltable
import Testing

/// `pxt exports` and `pxt exports retry` against outbox entries written into the home the way
/// `pxt serve` writes them (``OutboxWrite``, in the same transaction as the rows).
@Suite struct ExportsCommandTests {
    /// `env.pxt(line)` on a thread of its own: a blocked cooperative thread would stall every
    /// other async test.
    func pxt(_ env: CLIEnv, _ line: String) async -> Outcome {
        await withCheckedContinuation { done in
            Thread.detachNewThread { done.resume(returning: env.pxt(line)) }
        }
    }

    @Test func listsPendingAndFailedDeliveriesAndRequeuesTheFailedOnes() async throws {
        let env = CLIEnv()
        defer { env.tearDown() }
        let empty = await pxt(env, "exports")
        #expect(empty.code == 0, "\(empty)")
        #expect(empty.out == "no outbox deliveries are waiting\n")
        let catalog = try Catalog.open(home: HomeDirectory(path: env.home))
        let events = try await catalog.createTable("events", columns: [.init("id", .int), .init("kind", .string)])
        let toEvents = OutboxWrite(service: "api", route: "/events") { $0.json }
        try await events.insert([["id": 1, "kind": "a"], ["id": 2, "kind": "b"], ["id": 3, "kind": "c"]], outbox: toEvents)
        try await events.insert([["id": 4, "kind": "d"]], outbox: OutboxWrite(service: "api", route: "/other") { $0.json })
        // A rolled-back write leaves no entry: the second row's kind is not a string.
        await #expect(throws: PixeltableError.self) {
            try await events.insert([["id": 5, "kind": "e"], ["id": 6, "kind": 7]], outbox: toEvents)
        }
        let records = OutboxRecords(catalog: catalog, service: "api")
        let due = try await records.due(route: "/events", limit: 10)
        #expect(due.map(\.payload) == [["id": 1, "kind": "a"], ["id": 2, "kind": "b"], ["id": 3, "kind": "c"]])
        try await records.attemptFailed(due[0].id, error: "CHECK constraint failed: kind", retryAt: .now, giveUp: true)

        let listed = await pxt(env, "exports --json")
        #expect(listed.code == 0, "\(listed)")
        let rows = try #require(listed.json as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows[0]["service"] as? String == "api" && rows[0]["route"] as? String == "/events")
        #expect(rows[0]["pending"] as? Int == 2 && rows[0]["failed"] as? Int == 1)
        #expect(rows[0]["last_error"] as? String == "CHECK constraint failed: kind")
        #expect(rows[1]["route"] as? String == "/other" && rows[1]["pending"] as? Int == 1 && rows[1]["last_error"] is NSNull)
        let text = await pxt(env, "exports")
        #expect(text.out.hasPrefix("service"), "\(text)")
        #expect(text.out.contains("/events") && text.out.contains("CHECK constraint failed: kind"))

        let retried = await pxt(env, "exports retry --route /other")
        #expect(retried.out == "re-queued 0 failed deliveries\n", "\(retried)")
        let all = await pxt(env, "exports retry")
        #expect(all.out == "re-queued 1 failed delivery\n", "\(all)")
        let after = try #require(await pxt(env, "exports --json").json as? [[String: Any]])
        #expect(after[0]["pending"] as? Int == 3 && after[0]["failed"] as? Int == 0)

        let bad = await pxt(env, "exports resend")
        #expect(bad.code == 2, "\(bad)")
        #expect(bad.err.contains("invalid choice: 'resend' (choose from 'ls', 'retry')"))
    }
}
