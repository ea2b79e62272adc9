import Foundation
import Synchronization

/// `huggingface.*`: embeddings computed in process by models read from disk
/// (`pixeltable.functions.huggingface`).
///
/// `huggingface.sentence_transformer(text, model_id='sentence-transformers/all-MiniLM-L6-v2')`
/// runs the BERT-family model found by ``ModelLocator`` (the home's `models/`, then the Hugging
/// Face cache). Writes call it through ``ExpressionFunction/batch`` so that a batch of rows
/// becomes a few large matrix products; a query calls it once for its parameter.
enum ModelFunctions {
    static let all: [ExpressionFunction] = [sentenceTransformer, OpenAIEmbeddings.function]

    static let sentenceTransformer: ExpressionFunction = {
        var f = ExpressionFunction(
            "huggingface.sentence_transformer",
            [.init("sentence", .string), .init("model_id", .string), .init("normalize_embeddings", .bool, default: .bool(false))],
            returnType: { args in .array([nil], .float32, nullable: args[0].nullable) }
        ) { _ in
            throw FunctionError("RuntimeError", "huggingface.sentence_transformer needs a catalog to find its model")
        }
        f.contextual = { context, a in
            let results = embed(context, [a])
            return try results[0].get()
        }
        f.batch = { context, calls in embed(context, calls) }
        f.check = { context, literals in
            guard literals.count > 1, case .string(let id)? = literals[1] else { return nil }
            do throws(ModelError) {
                _ = try locate(context, id)
                return nil
            } catch {
                return error.message
            }
        }
        return f
    }()

    /// Embeds each call's sentence with its model; calls are grouped by model and normalization
    /// so that each group is one ``SentenceEmbedder/embed(_:)``.
    static func embed(_ context: FunctionContext, _ calls: [[Value]]) -> [Result<Value, FunctionError>] {
        var out = [Result<Value, FunctionError>](repeating: .success(.null), count: calls.count)
        var groups: [Pair: [Int]] = [:]
        var order: [Pair] = []
        for (i, a) in calls.enumerated() {
            guard case .string = a[0], case .string(let id) = a[1] else {
                out[i] = .failure(FunctionError("TypeError", "sentence_transformer() expects a string sentence and model_id"))
                continue
            }
            let key = Pair(model: id, normalize: a.count > 2 && a[2] == .bool(true))
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(i)
        }
        for key in order {
            let members = groups[key]!
            let model: SentenceEmbedder
            do {
                model = try SentenceEmbedder.shared(try locate(context, key.model))
            } catch {
                for i in members { out[i] = .failure(error.functionError) }
                continue
            }
            let texts = members.map { BuiltinFunctions.str(calls[$0][0]) }
            let vectors = model.embed(texts)
            for (i, v) in zip(members, vectors) {
                out[i] = .success(.array(NDArray(key.normalize ? TensorOps.normalized(v) : v)))
            }
        }
        return out
    }

    private struct Pair: Hashable {
        var model: String
        var normalize: Bool
    }

    /// Directories already found, by home and model id: a lookup touches the file system, and
    /// a query's embedding should not.
    private static let located = Mutex<[String: String]>([:])

    /// The directory of `id` for the context's home.
    static func locate(_ context: FunctionContext, _ id: String) throws(ModelError) -> String {
        let home = context.home ?? HomeDirectory(environment: context.environment)
        let key = home.path + "\u{0}" + id
        if let dir = located.withLock({ $0[key] }), FileManager.default.fileExists(atPath: dir + "/config.json") { return dir }
        let dir = try ModelLocator(home: home, environment: context.environment).locate(id)
        located.withLock { $0[key] = dir }
        return dir
    }
}
