import Foundation
import Synchronization

/// A sentence-transformers model loaded for use: its tokenizer, its BERT encoder and its
/// pooling. Loaded once per process and shared (``shared(_:)``).
public final class SentenceEmbedder: Sendable {
    /// The model directory.
    public let directory: String
    let config: BertConfig
    let tokenizer: WordPieceTokenizer
    let encoder: BertEncoder

    /// Tokens per batch: enough rows for the matrix products to run near the machine's peak,
    /// few enough that the activations stay in a few tens of megabytes.
    static let tokensPerBatch = 8192

    /// Loads the model in `directory`.
    public init(directory: String) throws(ModelError) {
        self.directory = directory
        config = try BertConfig.load(directory)
        tokenizer = try WordPieceTokenizer.load(directory)
        encoder = try BertEncoder(directory: directory, config: config)
    }

    /// The embedding size.
    public var dimensions: Int { config.hiddenSize }

    /// Token ids as the model sees them (`[CLS] … [SEP]`, truncated to its sequence length).
    public func tokenize(_ text: String) -> [Int32] {
        tokenizer.encode(text, maxLength: config.maxSequenceLength)
    }

    /// The embeddings of `texts`, in order. Texts are batched by length, so that each batch's
    /// matrix products are large.
    public func embed(_ texts: [String]) -> [[Float]] {
        let ids = texts.map(tokenize)
        let order = ids.indices.sorted { ids[$0].count < ids[$1].count }
        var out = [[Float]](repeating: [], count: texts.count)
        var batch: [Int] = []
        var tokens = 0
        func flush() {
            guard !batch.isEmpty else { return }
            let vectors = encoder.embed(batch.map { ids[$0] })
            for (i, v) in zip(batch, vectors) { out[i] = v }
            batch = []
            tokens = 0
        }
        for i in order {
            if tokens + ids[i].count > Self.tokensPerBatch { flush() }
            batch.append(i)
            tokens += ids[i].count
        }
        flush()
        return out
    }

    private static let loaded = Mutex<[String: SentenceEmbedder]>([:])

    /// The model in `directory`, loaded on first use and kept for the process.
    public static func shared(_ directory: String) throws(ModelError) -> SentenceEmbedder {
        if let m = loaded.withLock({ $0[directory] }) { return m }
        let m = try SentenceEmbedder(directory: directory)
        return loaded.withLock { table in
            if let existing = table[directory] { return existing }
            table[directory] = m
            return m
        }
    }
}
