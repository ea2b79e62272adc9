import Testing
@testable import Pixeltable

/// Concurrent writes share transactions; a failing one must fail alone, and every acknowledged
/// one must be stored exactly once with its own version.
@Suite struct GroupCommitTests {
    @Test func concurrentInsertsShareTransactionsAndKeepOneVersionEach() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable("t", columns: [.init("id", .int), .init("note", .string)], primaryKey: ["id"])
            let tasks = 32, perTask = 20
            try await withThrowingTaskGroup(of: Void.self) { group in
                for k in 0..<tasks {
                    group.addTask {
                        for i in 0..<perTask {
                            let id = Int64(k * perTask + i)
                            try await t.insert([["id": .int(id), "note": .string("row \(id)")]])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await t.count() == tasks * perTask)
            let stats = cat.writeStatistics
            // Every insert is one operation; concurrent ones were committed together.
            #expect(stats.operations >= tasks * perTask)
            #expect(stats.transactions < stats.operations)
            // Each insert still made a version of its own, numbered without gaps.
            let versions = try await t.history().filter { $0.changeType == .data }.map(\.version).sorted()
            #expect(versions.count == tasks * perTask)
            #expect(Set(versions).count == versions.count)
            #expect(versions.last! - versions.first! == versions.count - 1)
        }
    }

    @Test func aDuplicateKeyFailsAloneInASharedTransaction() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable("t", columns: [.init("id", .int)], primaryKey: ["id"])
            try await t.insert([["id": .int(7)]])
            // Half the writers collide with an existing key, all at once, so that failing and
            // succeeding writes land in the same transactions.
            let outcomes = try await withThrowingTaskGroup(of: (Int64, PixeltableError?).self) { group in
                for k in 0..<64 {
                    group.addTask {
                        let id: Int64 = k.isMultiple(of: 2) ? 7 : Int64(100 + k)
                        do {
                            try await t.insert([["id": .int(id)]])
                            return (id, nil)
                        } catch {
                            return (id, error as? PixeltableError)
                        }
                    }
                }
                var all: [(Int64, PixeltableError?)] = []
                for try await o in group { all.append(o) }
                return all
            }
            for (id, error) in outcomes {
                if id == 7 {
                    #expect(error?.code == .constraintViolation)
                    #expect(error?.message.contains("duplicate primary key 7") == true)
                } else {
                    #expect(error == nil)
                }
            }
            let ids = try await t.query().select(["id"]).collect().rows.compactMap { $0.values[0].intValue }.sorted()
            #expect(ids == [7] + (0..<64).filter { !$0.isMultiple(of: 2) }.map { Int64(100 + $0) })
            // Failed inserts left no version behind.
            let data = try await t.history().filter { $0.changeType == .data }
            #expect(data.count == 1 + 32)
        }
    }
}
