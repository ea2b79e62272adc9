import Foundation
import Testing
@testable import Pixeltable

/// A background job's outcome commits with its write (issue #12, defect 7): `done` exactly
/// when the row is stored, and nothing when the write rolls back.
@Suite struct JobOutcomeWriteTests {
    func outcome(_ id: String) -> JobOutcomeWrite {
        JobOutcomeWrite(id: id) { rows, count in rows.first.map { $0.json } ?? ["num_rows": .int(Int64(count))] }
    }

    @Test func theOutcomeIsRecordedInTheWriteTransaction() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable("films", columns: [.init("id", .int), .init("title", .string), .computed("shout", "title.upper()")], primaryKey: ["id"])
            let jobs = JobRecords(catalog: cat, service: "svc")
            for id in ["ins", "dup", "upd", "missing", "del", "none"] { try await jobs.create(id: id, route: "POST /x") }

            try await t.insert([["id": 1, "title": "Alien"]], job: outcome("ins"))
            let ins = try #require(try await jobs.get("ins"))
            #expect(ins.status == "done")
            #expect(ins.result == ["id": 1, "title": "Alien", "shout": "ALIEN"])

            // A write that fails leaves the job pending, for the runner to record the error.
            await #expect(throws: PixeltableError.self) { try await t.insert([["id": 1, "title": "Again"]], job: outcome("dup")) }
            #expect(try await jobs.get("dup")?.status == "pending")

            try await t.batchUpdate([["id": 1, "title": "Heat"]], job: outcome("upd"))
            #expect(try await jobs.get("upd")?.result?["shout"] == "HEAT")
            // No row changed: nothing recorded.
            try await t.batchUpdate([["id": 9, "title": "None"]], ifNotExists: .ignore, job: outcome("missing"))
            #expect(try await jobs.get("missing")?.status == "pending")

            try await t.delete(matching: ["id": 1], job: outcome("del"))
            #expect(try await jobs.get("del")?.result == ["num_rows": 1])
            try await t.delete(matching: ["id": 1], job: outcome("none"))
            #expect(try await jobs.get("none")?.status == "pending")

            // The runner's later record does not overwrite the one made with the write.
            try await jobs.finish(id: "ins", outcome: .failed("late"))
            #expect(try await jobs.get("ins")?.status == "done")
            try await jobs.finish(id: "dup", outcome: .failed("409: duplicate"))
            #expect(try await jobs.get("dup")?.error == "409: duplicate")
        }
    }
}
