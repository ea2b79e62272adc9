import GRDB
import Testing
@testable import Pixeltable

@Suite struct QueryPlanTests {
    /// SQLite's plan for the query a filter compiles to.
    func plan(_ cat: Catalog, _ table: String, _ filter: String) async throws -> String {
        let t = try await cat.table(table)
        let snap = try await t.snapshot()
        let (e, _) = try snap.bind(filter)
        let frag = try #require(SQLCompiler(snapshot: snap).compile(e))
        let sql = "EXPLAIN QUERY PLAN SELECT _rowid FROM \(snap.dataTableName) WHERE \(QueryExecutor.visibility(nil)) AND \(frag.sql)"
        let values = frag.values([:])
        return try await cat.pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(values)).map { $0["detail"] as String }.joined(separator: "; ")
        }
    }

    @Test func btreeIndexesServeEqualityAndRangeFilters() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable("t", columns: [.init("id", .int), .init("name", .string), .init("score", .float)], primaryKey: ["id"])
            try await t.createIndex(on: "score")
            try await t.insert((0..<200).map { ["id": .int(Int64($0)), "name": .string("n\($0)"), "score": .float(Double($0))] })
            #expect(try await plan(cat, "t", "id == 5").contains("idx_\(t.id)_pk"))
            #expect(try await plan(cat, "t", "score >= 10 and score < 20").contains("idx_\(t.id)_idx_score"))
            #expect(try await plan(cat, "t", "score == 3.0").contains("USING INDEX"))
            // Not indexed: a scan.
            #expect(try await plan(cat, "t", "name == 'n3'").contains("SCAN"))
            let idx = try await t.indexes()
            #expect(idx.map(\.name) == ["pk", "idx_score"])
            #expect(idx.map(\.kind) == ["btree", "btree"])
        }
    }

    @Test func pointLookupsOnRawConnectionsMatchTheGeneralPath() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable("films", columns: [.init("id", .int), .init("title", .string), .init("year", .int)], primaryKey: ["id"])
            try await t.insert((1...50).map { ["id": .int(Int64($0)), "title": .string("film \($0)"), "year": .int(Int64(1950 + $0))] })
            let module = try ModuleFile.parse(
                """
                [[query]]
                name = "lookup"
                table = "films"
                retrieval = ["id"]

                [[query]]
                name = "range"
                table = "films"
                params = { lo = "Int", k = { type = "Int", default = 3 } }
                select = ["id", "title"]
                where = "year >= :lo"
                order_by = ["year desc"]
                limit = ":k"

                [[query]]
                name = "computed"
                table = "films"
                params = { lo = "Int" }
                select = ["id", "title.upper() as shout"]
                where = "year >= :lo"
                order_by = ["id"]
                limit = 2
                """, file: "q.toml")
            for (name, args) in [("lookup", ["id": Value.int(7)]), ("range", ["lo": .int(1990), "k": .int(5)]), ("range", ["lo": .int(1960)]), ("computed", ["lo": .int(1990)])] {
                let q = try await module.query(named: name)!.compile(cat)
                let fast = try q.runNow(args)
                let slow = try await q.run(args)
                #expect(fast.rows == slow.rows, "\(name) \(args)")
                #expect(fast.columns == slow.columns)
            }
            let lookup = try await module.query(named: "lookup")!.compile(cat)
            #expect(try lookup.runNow(["id": .int(7)]).rows.first?["title"] == "film 7")
            // Writes after compilation are visible to the raw connections.
            try await t.insert([["id": 99, "title": "late", "year": 2099]])
            #expect(try lookup.runNow(["id": .int(99)]).rows.first?["title"] == "late")
            try await t.delete(where: "id == 99")
            #expect(try lookup.runNow(["id": .int(99)]).rows.isEmpty)
        }
    }

    @Test func lookupsThatPinThePrimaryKeyNeedNoSort() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable("pairs", columns: [.init("a", .int), .init("b", .string), .init("n", .int)], primaryKey: ["a", "b"])
            try await t.insert((0..<40).map { ["a": .int(Int64($0 % 4)), "b": .string("k\($0)"), "n": .int(Int64($0))] })
            let module = try ModuleFile.parse(
                """
                [[query]]
                name = "both"
                table = "pairs"
                params = { a = "Int", b = "String" }
                where = "a == :a and b == :b"

                [[query]]
                name = "half"
                table = "pairs"
                params = { a = "Int" }
                where = "a == :a"

                [[query]]
                name = "literal"
                table = "pairs"
                params = { b = "String" }
                where = ":b == b and 2 == a"
                """, file: "q.toml")
            func statement(_ name: String, _ args: [String: Value]) async throws -> (String, [ResultRow], [ResultRow]) {
                let q = try await module.query(named: name)!.compile(cat)
                let single = try #require(q.singleStatement(for: try q.resolvedPlan(try q.arguments(args))))
                return (single.sql, try q.runNow(args).rows, try await q.run(args).rows)
            }
            let (both, fastBoth, slowBoth) = try await statement("both", ["a": 2, "b": "k6"])
            #expect(!both.contains("ORDER BY"), "\(both)")
            #expect(fastBoth == slowBoth && fastBoth.count == 1)
            let (literal, fastLiteral, slowLiteral) = try await statement("literal", ["b": "k10"])
            #expect(!literal.contains("ORDER BY"), "\(literal)")
            #expect(fastLiteral == slowLiteral && fastLiteral.first?["n"] == .int(10))
            // Part of the key matches many rows: they keep their insertion order.
            let (half, fastHalf, slowHalf) = try await statement("half", ["a": 1])
            #expect(half.contains("ORDER BY _rowid"), "\(half)")
            #expect(fastHalf == slowHalf && fastHalf.compactMap { $0["n"]?.intValue } == [1, 5, 9, 13, 17, 21, 25, 29, 33, 37])
        }
    }
}
