import Foundation
import Pixeltable

/// `models ls` and `models import`: the embedding models `huggingface.sentence_transformer`
/// can use, found in the home's `models/` and the Hugging Face cache. They run in this process:
/// models are files, and the daemon finds a newly imported one on its next lookup.
enum ModelCommands {
    static let all: [PxtCommand] = [models]

    static let models = PxtCommand(
        spec: CommandSpec(
            name: "models", summary: "List the embedding models available (ls), or copy a model directory into the home (import).",
            positionals: [
                .init(name: "action", help: "ls or import"), .init(name: "dir", help: "for import: the model directory (config.json, model.safetensors, ...)", optional: true),
            ],
            options: [.value("model-id", metavar: "ID", help: "for import: the id to use in expressions, e.g. sentence-transformers/all-MiniLM-L6-v2")],
            examples: ["pxt models ls", "pxt models import ./all-MiniLM-L6-v2 --model-id sentence-transformers/all-MiniLM-L6-v2"], acceptsJSON: true),
        category: "Modules"
    ) { args, ctx in
        let locator = ModelLocator(home: ctx.home, environment: ctx.environment)
        switch args.positional("action")! {
        case "ls":
            let found = locator.list()
            if args.json {
                ctx.outJSON(
                    .array(
                        found.map {
                            ["model_id": .string($0.id), "dimensions": $0.dimensions.map { .int(Int64($0)) } ?? .null, "source": .string($0.source), "path": .string($0.directory)]
                        }))
                return 0
            }
            if found.isEmpty {
                ctx.out("no models in \(locator.modelsDirectory) or \(locator.hubCache) (see pxt models import, or scripts/fetch-models.sh)")
                return 0
            }
            for m in found { ctx.out("\(m.id)\t\(m.dimensions.map(String.init) ?? "-")\t\(m.source)\t\(m.directory)") }
            return 0
        case "import":
            guard let dir = args.positional("dir") else { throw args.usageError("import needs the model directory") }
            guard let id = args.value("model-id") else { throw args.usageError("import needs --model-id") }
            let target: String
            do throws(ModelError) { target = try locator.importModel(from: dir, id: id) } catch { throw CLIError(error.message) }
            if args.json {
                ctx.outJSON(["model_id": .string(id), "path": .string(target)])
            } else {
                ctx.out("imported \(id) into \(target)")
            }
            return 0
        case let other:
            throw args.usageError("argument action: invalid choice: '\(other)' (choose from 'ls', 'import')")
        }
    }
}
