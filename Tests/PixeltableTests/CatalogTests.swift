import Foundation
import Testing
@testable import Pixeltable

@Suite struct CatalogTests {
    @Test func directoriesNestListMoveAndRemove() async throws {
        try await withCatalog { cat, _ in
            try await cat.createDirectory("a")
            try await cat.createDirectory("a/b/c", parents: true)
            await #expect(throws: PixeltableError.self) { try await cat.createDirectory("x/y") }
            await #expect(throws: PixeltableError.self) { try await cat.createDirectory("a") }
            try await cat.createDirectory("a", ifExists: .ignore)
            try await cat.createTable("a/b/t", columns: [.init("id", .int)])
            let top = try await cat.list()
            #expect(top.map(\.path.description) == ["a"])
            let all = try await cat.list("a", recursive: true)
            #expect(all.map(\.path.description) == ["a/b", "a/b/c", "a/b/t"])
            #expect(all.last?.kind == .table)
            do {
                _ = try await cat.list("a/b/t/x")
                Issue.record("listing below a table must fail")
            } catch let error as PixeltableError {
                #expect(error.message == "'a/b/t' is a table, not a directory")
            }
            do {
                _ = try await cat.list("nope")
            } catch let error as PixeltableError {
                #expect(error.message == "Path 'nope' does not exist.")
                #expect(error.code == .pathNotFound)
            }
            try await cat.move("a/b", to: "moved")
            #expect(try await cat.kind(of: "moved/t") == .table)
            #expect(try await cat.kind(of: "moved/c") == .directory)
            #expect(try await cat.kind(of: "a/b") == nil)
            await #expect(throws: PixeltableError.self) { try await cat.removeDirectory("moved") }
            try await cat.removeDirectory("moved", recursive: true)
            #expect(try await cat.kind(of: "moved/t") == nil)
            #expect(try await cat.list("a").isEmpty)
            // The legacy dotted form names the same path.
            try await cat.createTable("a.t2", columns: [.init("x", .int)])
            #expect(try await cat.kind(of: "a/t2") == .table)
        }
    }

    @Test func insertSelectGetCountAndPrimaryKeys() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable(
                "films", columns: [.init("id", .int), .init("title", .string.required), .init("year", .int), .init("meta", .json)],
                primaryKey: ["id"])
            let r = try await t.insert([
                ["id": 1, "title": "Alien", "year": 1979, "meta": .json(["genre": "horror"])],
                ["id": 2, "title": "Brazil", "year": 1985],
                ["id": 3, "title": "Clue"],
            ])
            #expect(r.rowCount == 3)
            #expect(r.rows[1]["meta"] == .null)
            #expect(try await t.count() == 3)
            let got = try #require(try await t.get([2]))
            #expect(got["title"] == "Brazil")
            #expect(try await t.get([99]) == nil)
            let q = try await t.query().where("year > 1980 or year is null").orderBy(["id desc"]).select(["id", "title.upper() as shout"]).collect()
            #expect(q.columns == ["id", "shout"])
            #expect(q.rows.map { $0["shout"] } == ["CLUE", "BRAZIL"])
            let j = try await t.query().where("meta.genre == 'horror'").collect()
            #expect(j.rows.map { $0["id"] } == [1])
            let limited = try await t.query().orderBy(["year"]).limit(2).collect()
            #expect(limited.rows.map { $0["id"] } == [1, 2])
            // Nulls sort last ascending, first descending.
            let desc = try await t.query().orderBy(["year desc"]).collect()
            #expect(desc.rows.map { $0["id"] } == [3, 2, 1])
        }
    }

    @Test func badWritesNameTableColumnAndRowAndChangeNothing() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable(
                "films", columns: [.init("id", .int), .init("title", .string.required), .init("year", .int)], primaryKey: ["id"])
            try await t.insert([["id": 1, "title": "Alien"]])
            do {
                try await t.insert([["id": 2, "title": "B"], ["id": 3, "title": "C", "year": "nineteen"]])
                Issue.record("wrong type accepted")
            } catch let error as PixeltableError {
                #expect(error.code == .typeMismatch)
                #expect(error.message.contains("Table 'films', column 'year', row 1"))
                #expect(error.message.contains("expected Int, got a String ('nineteen')"))
            }
            do {
                try await t.insert([["id": 4, "title": .null]])
                Issue.record("null accepted in a required column")
            } catch let error as PixeltableError {
                #expect(error.code == .missingRequired)
                #expect(error.message.contains("Table 'films', column 'title', row 0"))
            }
            do {
                try await t.insert([["id": 5, "title": "E"], ["id": 1, "title": "dup"]])
                Issue.record("duplicate key accepted")
            } catch let error as PixeltableError {
                #expect(error.code == .constraintViolation)
                #expect(error.message.contains("Table 'films', column 'id', row 1: duplicate primary key 1"))
            }
            do {
                try await t.insert([["id": 6, "title": "F"], ["id": 6, "title": "G"]])
                Issue.record("duplicate key within a batch accepted")
            } catch let error as PixeltableError {
                #expect(error.message.contains("row 1: duplicate primary key 6 (also in row 0)"))
            }
            do {
                try await t.insert([["id": 7, "titel": "typo"]])
                Issue.record("unknown column accepted")
            } catch let error as PixeltableError {
                #expect(error.code == .columnNotFound)
                #expect(error.message.contains("unknown column 'titel'"))
            }
            #expect(try await t.count() == 1)
            #expect(try await t.history().count == 2)
        }
    }

    @Test func updatesDeletesAndBatchUpdates() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable(
                "items", columns: [.init("id", .int), .init("name", .string), .init("n", .int), .computed("n2", "n * 2")], primaryKey: ["id"])
            try await t.insert((1...5).map { ["id": .int(Int64($0)), "name": .string("item\($0)"), "n": .int(Int64($0))] })
            let u = try await t.update(["name": "big"], where: "n >= 4")
            #expect(u.rowCount == 2)
            let e = try await t.update([:], expressions: ["n": "n + 10"], where: "id == 1")
            #expect(e.rows.first?["n2"] == .int(22))
            let b = try await t.batchUpdate([["id": 2, "n": 100], ["id": 42, "n": 1]], ifNotExists: .ignore)
            #expect(b.rowCount == 1)
            #expect(b.rows.first?["n2"] == .int(200))
            await #expect(throws: PixeltableError.self) { try await t.batchUpdate([["id": 42, "n": 1]]) }
            await #expect(throws: PixeltableError.self) { try await t.update(["id": 9]) }
            await #expect(throws: PixeltableError.self) { try await t.update(["n2": 9]) }
            let d = try await t.delete(where: "name == 'big'")
            #expect(d.rowCount == 2)
            let m = try await t.delete(matching: ["id": 3])
            #expect(m.rowCount == 1)
            #expect(try await t.count() == 2)
            let rows = try await t.select(orderBy: ["id"]).rows
            #expect(rows.map { $0["n2"] } == [.int(22), .int(200)])
            let history = try await t.history()
            #expect(history.map(\.changeType) == [.data, .data, .data, .data, .data, .data, .schema])
            #expect(history[0].deletes == 1 && history[1].deletes == 2 && history[2].updates == 1 && history[5].inserts == 5)
            #expect(history.last?.schemaChange == "Added: id, name, n, n2")
        }
    }

    /// Rows and schema at each version, to compare after reverts.
    func snapshotOf(_ t: Table) async throws -> ([ResultRow], JSONValue) {
        let rows = try await t.select(orderBy: ["id"]).rows
        var meta = try await t.metadata()
        if case .object(var o) = meta {
            o["version"] = nil
            o["version_created"] = nil
            o["schema_version"] = nil
            meta = .object(o)
        }
        return (rows, meta)
    }

    @Test func revertRestoresExactlyThePreviousRowsAndSchema() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable("r", columns: [.init("id", .int), .init("v", .string)], primaryKey: ["id"])
            var states: [([ResultRow], JSONValue)] = [try await snapshotOf(t)]
            try await t.insert([["id": 1, "v": "a"], ["id": 2, "v": "b"], ["id": 3, "v": "c"]])
            states.append(try await snapshotOf(t))
            try await t.update(["v": "B"], where: "id == 2")
            states.append(try await snapshotOf(t))
            try await t.delete(where: "id == 1")
            states.append(try await snapshotOf(t))
            try await t.addComputedColumn("vu", expression: "v.upper()")
            states.append(try await snapshotOf(t))
            try await t.addColumn("extra", .float)
            states.append(try await snapshotOf(t))
            try await t.renameColumn("v", to: "value")
            states.append(try await snapshotOf(t))
            try await t.dropColumn("extra")
            states.append(try await snapshotOf(t))
            try await t.createIndex(on: "value")
            states.append(try await snapshotOf(t))
            #expect(try await t.version() == states.count - 1)
            // Reading as of each older version gives what it was then.
            for (v, s) in states.enumerated() {
                let old = try await t.query().asOf(version: v).orderBy(["id"]).collect()
                #expect(old.rows == s.0, "as of version \(v)")
            }
            while states.count > 1 {
                states.removeLast()
                let (from, to) = try await t.revert()
                #expect(from == to + 1)
                let now = try await snapshotOf(t)
                #expect(now.0 == states.last!.0, "rows after reverting to version \(to)")
                #expect(now.1 == states.last!.1, "schema after reverting to version \(to)")
            }
            do {
                try await t.revert()
                Issue.record("reverting version 0 must fail")
            } catch let error as PixeltableError {
                #expect(error.message == "Cannot revert version 0")
            }
            // The table still works after all that.
            try await t.insert([["id": 9, "v": "z"]])
            #expect(try await t.count() == 1)
        }
    }

    @Test func computedColumnsComputeRecomputeAndRecordErrors() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable("c", columns: [.init("id", .int), .init("a", .int), .init("b", .int)], primaryKey: ["id"])
            try await t.insert([["id": 1, "a": 6, "b": 3], ["id": 2, "a": 1, "b": 0]])
            // Abort (the default) refuses when an existing row fails, and changes nothing.
            do {
                try await t.addComputedColumn("ratio", expression: "a / b")
                Issue.record("abort did not abort")
            } catch let error as PixeltableError {
                #expect(error.message.contains("column 'ratio', row 1"))
                #expect(error.message.contains("ZeroDivisionError: division by zero"))
            }
            #expect(try await t.metadata()["columns"]?["ratio"] == nil)
            try await t.addComputedColumn("ratio", expression: "a / b", onError: .ignore)
            try await t.addComputedColumn("double_ratio", expression: "ratio * 2", stored: false)
            var rows = try await t.select(["id", "ratio", "ratio.errortype", "ratio.errormsg", "double_ratio"], orderBy: ["id"]).rows
            #expect(rows[0].values == [1, 2.0, .null, .null, 4.0])
            #expect(rows[1].values == [2, .null, "ZeroDivisionError", "division by zero", .null])
            let errs = try await t.errors()
            #expect(errs.count == 1)
            #expect(errs[0].column == "ratio" && errs[0].errorType == "ZeroDivisionError")
            #expect(errs[0].primaryKey.map(\.1) == [2])
            // Updating a dependency recomputes, and clears the error.
            try await t.update(["b": 2], where: "id == 2")
            rows = try await t.select(["id", "ratio", "double_ratio"], orderBy: ["id"]).rows
            #expect(rows[1].values == [2, 0.5, 1.0])
            #expect(try await t.errors().isEmpty)
            // Abort on insert names column and row, stores nothing.
            try await t.addComputedColumn("strict", expression: "a // b")
            do {
                try await t.insert([["id": 3, "a": 1, "b": 1], ["id": 4, "a": 1, "b": 0]])
                Issue.record("abort did not abort")
            } catch let error as PixeltableError {
                #expect(error.code == .unsupportedOperation)
                #expect(error.message.contains("Table 'c', column 'strict', row 1"))
            }
            #expect(try await t.count() == 2)
            // Dropping a column others depend on is refused.
            await #expect(throws: PixeltableError.self) { try await t.dropColumn("ratio") }
            try await t.dropColumn("double_ratio")
            try await t.dropColumn("ratio")
            // Renaming keeps computed columns working.
            try await t.renameColumn("a", to: "alpha")
            try await t.insert([["id": 5, "alpha": 9, "b": 2]])
            #expect(try await t.get([5])?["strict"] == .int(4))
            let meta = try await t.metadata()
            #expect(meta["columns"]?["strict"]?["computed_with"] == .string("alpha // b"))
            #expect(meta["columns"]?["strict"]?["depends_on"] == [["c", "alpha"], ["c", "b"]])
        }
    }

    @Test func viewsFollowTheirBase() async throws {
        try await withCatalog { cat, _ in
            let t = try await cat.createTable("t", columns: [.init("id", .int), .init("n", .int)], primaryKey: ["id"])
            try await t.insert((1...10).map { ["id": .int(Int64($0)), "n": .int(Int64($0))] })
            let v = try await cat.createView("big", base: "t", filter: "n > 5")
            let vv = try await cat.createView("even_big", base: "big", filter: "n % 2 == 0")
            #expect(try await v.count() == 5)
            #expect(try await vv.count() == 3)
            try await t.insert([["id": 11, "n": 12]])
            #expect(try await vv.count() == 4)
            await #expect(throws: PixeltableError.self) { try await v.insert([["id": 99, "n": 1]]) }
            do {
                try await cat.drop("t")
                Issue.record("drop with dependent views must be refused")
            } catch let error as PixeltableError {
                #expect(error.message.contains("'big'"))
            }
            let meta = try await vv.metadata()
            #expect(meta["kind"] == "view")
            #expect(meta["base"] == "big")
            #expect(meta["view_filter"] == "n % 2 == 0")
            let dropped = try await cat.drop("t", cascade: true)
            #expect(dropped.map(\.description) == ["even_big", "big", "t"])
            #expect(try await cat.list().isEmpty)
        }
    }

    @Test func metadataHasPixeltableFields() async throws {
        try await withCatalog { cat, _ in
            try await cat.createDirectory("d")
            let t = try await cat.createTable(
                "d/t", columns: [.init("id", .int, comment: "the key"), .init("s", .string), .computed("u", "s.upper()")], primaryKey: ["id"],
                comment: "A table")
            let m = try await t.metadata()
            let keys = m.objectValue?.keys ?? []
            for k in [
                "id", "name", "path", "kind", "columns", "indexes", "is_data_versioned", "has_default_idxs", "is_view", "is_snapshot", "version",
                "version_created", "schema_version", "comment", "custom_metadata", "media_validation", "primary_key", "base", "view_filter",
                "view_sample", "iterator_call",
            ] {
                #expect(keys.contains(k), "missing \(k)")
            }
            #expect(m["path"] == "d/t")
            #expect(m["name"] == "t")
            #expect(m["primary_key"] == ["id"])
            #expect(m["comment"] == "A table")
            #expect(m["columns"]?["id"]?["type_"] == "Int")
            #expect(m["columns"]?["s"]?["type_"] == "String | None")
            #expect(m["columns"]?["id"]?["comment"] == "the key")
            #expect(m["columns"]?["u"]?["is_computed"] == true)
            #expect(m["indexes"]?["pk"]?["index_type"] == "btree")
        }
    }
}
