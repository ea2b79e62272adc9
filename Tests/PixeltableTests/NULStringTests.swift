import Foundation
import Testing
@testable import Pixeltable

/// Strings with NUL characters round-trip exactly (issue #12, defect 1): they were cut at the
/// NUL, so `"nul\u{0}b"` was stored as `"nul"` and collided with it as a primary key.
@Suite struct NULStringTests {
    static let keys = ["nul", "nul\u{0}b", "nul\u{0}c", "\u{0}", "a\u{0}\u{0}z"]

    func table(_ cat: Catalog) async throws -> Table {
        try await cat.createTable("skus", columns: [.init("sku", .string), .init("note", .string), .init("n", .int)], primaryKey: ["sku"])
    }

    @Test func insertSelectFilterUpdateAndDeleteKeepEveryByte() async throws {
        try await withCatalog { cat, _ in
            let t = try await table(cat)
            _ = try await t.insert(Self.keys.enumerated().map { ["sku": .string($1), "note": .string("x\u{0}\($0)"), "n": .int(Int64($0))] })
            #expect(try await t.count() == Int64(Self.keys.count))
            let rows = try await t.select(["sku", "note"], orderBy: ["n"]).rows
            #expect(rows.map { $0.values[0] } == Self.keys.map { .string($0) })
            #expect(rows.map { $0.values[1] } == (0..<Self.keys.count).map { .string("x\u{0}\($0)") })
            // A key with a NUL is itself, not its prefix, in a filter and as a duplicate.
            let hit = try await t.select(["n"], where: "sku == 'nul\\0b'").rows
            #expect(hit.map(\.values) == [[.int(1)]])
            #expect(try await t.select(["n"], where: "sku == 'nul'").rows.map(\.values) == [[.int(0)]])
            await #expect(throws: PixeltableError.self) { _ = try await t.insert([["sku": "nul\u{0}b", "n": 9]]) }
            _ = try await t.batchUpdate([["sku": "nul\u{0}c", "n": 42]])
            #expect(try await t.select(["n"], where: "sku == 'nul\\0c'").rows.map(\.values) == [[.int(42)]])
            #expect(try await t.select(["n"], where: "sku == 'nul'").rows.map(\.values) == [[.int(0)]])
            _ = try await t.delete(where: "sku == 'nul\\0b'")
            #expect(try await t.count() == Int64(Self.keys.count - 1))
            #expect(try await t.select(["sku"], where: "sku == 'nul'").rows.count == 1)
        }
    }

    @Test func csvAndJSONLinesImportsKeepEveryByte() async throws {
        try await withCatalog { cat, _ in
            let t = try await table(cat)
            try await BulkInsert.run(table: t, body: Array("sku,n\nnul,1\n\"nul\u{0}b\",2\n".utf8), format: .csv)
            try await BulkInsert.run(table: t, body: Array(#"{"sku": "nul\u0000c", "n": 3}"#.utf8) + [0x0A], format: .jsonl)
            let rows = try await t.select(["sku"], orderBy: ["n"]).rows
            #expect(rows.map { $0.values[0] } == [.string("nul"), .string("nul\u{0}b"), .string("nul\u{0}c")])
            // What goes out as JSON escapes it.
            #expect(JSONWriter.compact.string(.string("nul\u{0}b")) == #""nul\u0000b""#)
        }
    }
}
