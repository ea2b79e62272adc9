import Foundation
import Testing
@testable import Pixeltable

/// `huggingface.sentence_transformer` in tables: semantic search, batches equal to single
/// calls, and what a missing model does.
@Suite(.enabled(if: miniLM != nil, "needs sentence-transformers/all-MiniLM-L6-v2 (scripts/fetch-models.sh; .ci/run runs it)"))
struct ModelFunctionTests {
    static let model = "sentence-transformers/all-MiniLM-L6-v2"

    static let passages = [
        "A kitten is sleeping on the warm windowsill.", "The central bank raised interest rates by half a point.",
        "Heavy rain flooded the streets downtown overnight.", "The striker scored twice in the final minutes of the match.",
        "Bake the loaf at 220 degrees until the crust is golden.", "The spacecraft entered orbit around Mars after seven months.",
        "Symptoms include fever, a dry cough and tiredness.", "The violinist performed a Bach partita to a full hall.",
    ]

    func table(_ catalog: Catalog) async throws -> Table {
        let t = try await catalog.createTable("docs", columns: [.init("id", .int), .init("body", .string)], primaryKey: ["id"])
        try await t.createEmbeddingIndex(on: "body", name: "st", embedding: "huggingface.sentence_transformer(model_id='\(Self.model)')")
        _ = try await t.insert(Self.passages.enumerated().map { ["id": .int(Int64($0.offset)), "body": .string($0.element)] })
        return t
    }

    func best(_ t: Table, _ q: String) async throws -> String? {
        let r = try await t.query().select(["body", "body.similarity('\(q)') as s"]).orderBy(["body.similarity('\(q)') desc"]).limit(1).collect()
        if case .string(let s)? = r.rows.first?["body"] { return s }
        return nil
    }

    @Test func searchesFindPassagesThatShareNoWordWithTheQuery() async throws {
        try await withCatalog { catalog, _ in
            let t = try await table(catalog)
            #expect(try await best(t, "my cat naps in the sun") == Self.passages[0])
            #expect(try await best(t, "monetary policy tightening") == Self.passages[1])
            #expect(try await best(t, "football goal") == Self.passages[3])
            #expect(try await best(t, "recipe for bread") == Self.passages[4])
            #expect(try await best(t, "planetary exploration probe") == Self.passages[5])
            #expect(try await best(t, "flu illness signs") == Self.passages[6])
            let st = try await t.embeddingIndexStatus()
            #expect(st.first?.model == Self.model && st.first?.dimensions == 384 && st.first?.rows == 8)
        }
    }

    @Test func aBatchOfRowsGetsTheVectorsOfOneRowAtATime() async throws {
        try await withCatalog { catalog, _ in
            let t = try await catalog.createTable("docs", columns: [.init("id", .int), .init("body", .string)], primaryKey: ["id"])
            _ = try await t.addComputedColumn("v", expression: "huggingface.sentence_transformer(body, model_id='\(Self.model)')")
            let texts = (0..<40).map { i in Self.passages[i % 8] + String(repeating: " and more", count: i % 5) }
            _ = try await t.insert(texts.enumerated().map { ["id": .int(Int64($0.offset)), "body": .string($0.element)] })
            let model = try SentenceEmbedder.shared(miniLM!)
            let r = try await t.select(["id", "v"], orderBy: ["id"])
            for row in r.rows {
                guard case .int(let id)? = row["id"], case .array(let a)? = row["v"], let v = a.floats else {
                    Issue.record("row without a vector: \(row)")
                    continue
                }
                let one = model.embed([texts[Int(id)]])[0]
                #expect(EmbeddingFunctions.cosine(v, one) > 0.99999, "row \(id)")
            }
        }
    }

    @Test func aBulkInsertEmbedsBeforeItsTransactionAndIsStillAllOrNothing() async throws {
        try await withCatalog { catalog, _ in
            let t = try await table(catalog)
            let lines = (100..<130).map { #"{"id": \#($0), "body": "passage number \#($0) about the weather"}"# }
            let r = try await BulkInsert.run(table: t, body: Array(lines.joined(separator: "\n").utf8), format: .jsonl)
            #expect(r.rowCount == 30 && r.errorCount == 0)
            #expect(try await t.embeddingIndexStatus()[0].rows == 38)
            var bad = lines
            bad[20] = #"{"id": "not a number", "body": "x"}"#
            let failure = await #expect(throws: PixeltableError.self) {
                _ = try await BulkInsert.run(table: t, body: Array(bad.joined(separator: "\n").utf8), format: .jsonl)
            }
            #expect(failure?.message.contains("line 21") == true)
            #expect(try await t.count() == 38)
        }
    }

    @Test func aMissingModelIsAClearErrorThenPerCellErrorsAndNoLostRow() async throws {
        try await withCatalog { catalog, home in
            let t = try await catalog.createTable("docs", columns: [.init("id", .int), .init("body", .string)], primaryKey: ["id"])
            let failure = await #expect(throws: PixeltableError.self) {
                try await t.createEmbeddingIndex(on: "body", embedding: "huggingface.sentence_transformer(model_id='nobody/no-such-model')")
            }
            let message = failure?.message ?? ""
            #expect(message.contains("nobody/no-such-model") && message.contains(home.path + "/models/nobody/no-such-model") && message.contains("huggingface/hub"))
            // A model that was there when the index was made and went away later: rows still
            // go in, with the failure in their index cell.
            let linked = home.path + "/models/local/minilm"
            try FileManager.default.createDirectory(atPath: home.path + "/models/local", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: linked, withDestinationPath: miniLM!)
            try await t.createEmbeddingIndex(on: "body", name: "st", embedding: "huggingface.sentence_transformer(model_id='local/minilm')")
            _ = try await t.insert(["id": 1, "body": "a kitten asleep"])
            try FileManager.default.removeItem(atPath: linked)
            let w = try await t.insert([["id": 2, "body": "the bank raised rates"], ["id": 3, "body": "rain floods streets"]])
            #expect(w.errorCount == 2)
            #expect(try await t.count() == 3)
            let searched = await #expect(throws: PixeltableError.self) {
                _ = try await t.query().orderBy(["body.similarity('cat') desc"]).limit(2).collect()
            }
            #expect(searched?.message.contains("local/minilm") == true)
        }
    }
}
