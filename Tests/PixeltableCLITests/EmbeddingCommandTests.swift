import Foundation
import Testing
@testable import Pixeltable

/// The all-MiniLM-L6-v2 snapshot in the Hugging Face cache, if `scripts/fetch-models.sh` put it there.
private let cachedMiniLM: String? = try? ModelLocator(home: HomeDirectory(path: NSTemporaryDirectory() + "pxt-no-home")).locate("sentence-transformers/all-MiniLM-L6-v2")

private let searchModule = """
    [[table]]
    path = "docs"
    primary_key = ["id"]

    [table.columns]
    id = "Int"
    body = "String"

    [[table.embedding_index]]
    name = "body_st"
    column = "body"
    embedding = "huggingface.sentence_transformer(model_id='local/minilm')"

    [[query]]
    name = "search"
    table = "docs"
    params = { q = "String" }
    select = ["id", "body", "body.similarity(:q) as score"]
    order_by = ["body.similarity(:q) desc"]
    limit = 2
    """

@Suite("models ls/import, semantic search through the real binary, idxs --embedding",
    .enabled(if: cachedMiniLM != nil, "needs sentence-transformers/all-MiniLM-L6-v2 (scripts/fetch-models.sh; .ci/run runs it)"))
struct EmbeddingCommandTests {
    @Test func modelsAreListedImportedAndSearchedWith() {
        withCLI { env in
            let ls = env.run(["models", "ls"])
            #expect(ls.code == 0, "\(ls.transcript)")
            #expect(ls.lines.contains { $0.hasPrefix("sentence-transformers/all-MiniLM-L6-v2\t384\thuggingface\t") })
            let bad = env.run(["models", "import", env.workDir, "--model-id", "local/broken"])
            #expect(bad.code != 0 && bad.err.contains("not a model directory"))
            let imported = env.run(["models", "import", cachedMiniLM!, "--model-id", "local/minilm"])
            #expect(imported.code == 0, "\(imported.transcript)")
            #expect(FileManager.default.fileExists(atPath: env.home + "/models/local/minilm/model.safetensors"))
            let json = env.run(["models", "ls", "--json"]).objects
            #expect(json.contains { $0["model_id"] as? String == "local/minilm" && $0["source"] as? String == "home" && jsonInt($0["dimensions"]) == 384 })

            env.write("app/queries.toml", searchModule)
            env.apply("app.toml", searchModule)
            let rows = [
                "A kitten is sleeping on the warm windowsill.", "The central bank raised interest rates by half a point.",
                "Heavy rain flooded the streets downtown overnight.", "The striker scored twice in the final minutes.",
            ].enumerated().map { "{\"id\": \($0.offset), \"body\": \"\($0.element)\"}" }.joined(separator: "\n")
            #expect(env.run(["insert", "docs"], stdin: rows).code == 0)
            let q = env.run(["query", "app.queries.search", "--arg", "q=my cat naps in the sun", "--json"])
            #expect(q.code == 0, "\(q.transcript)")
            #expect(jsonInt(q.objects.first?["id"]) == 0)
            let idxs = env.run(["idxs", "docs", "--embedding"])
            #expect(idxs.code == 0, "\(idxs.transcript)")
            #expect(
                idxs.lines == [
                    "/docs\tbody_st\tembedding\tbody\tcosine\thuggingface.sentence_transformer(model_id='local/minilm')\tmodel=local/minilm\tdims=384\trows=4\tann=exact"
                ])
            let idxJSON = env.run(["idxs", "docs", "--embedding", "--json"]).objects.first
            #expect(idxJSON?["model"] as? String == "local/minilm" && jsonInt(idxJSON?["rows"]) == 4 && idxJSON?["ann"] as? String == "exact")
        }
    }

    @Test func aModuleNamingAMissingModelFailsAtSchemaTime() {
        withCLI { env in
            let r = env.run(["schema", "update", env.write("app.toml", searchModule.replacingOccurrences(of: "local/minilm", with: "nobody/nothing"))])
            #expect(r.code != 0)
            #expect(r.err.contains("app.toml") && r.err.contains("model 'nobody/nothing' not found") && r.err.contains(env.home + "/models/nobody/nothing"))
            #expect(env.run(["ls"]).out.contains("docs") == false)
        }
    }
}
