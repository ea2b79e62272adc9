import Foundation

/// What a sentence-transformers model directory says about its BERT encoder and how to turn the
/// token vectors into a sentence embedding (`config.json`, `sentence_bert_config.json`,
/// `1_Pooling/config.json`, `modules.json`).
struct BertConfig: Sendable, Hashable {
    var hiddenSize: Int
    var layers: Int
    var heads: Int
    var intermediateSize: Int
    var maxPositions: Int
    var typeVocabSize: Int
    var vocabSize: Int
    var layerNormEps: Float
    /// Tokens kept per sentence, special tokens included (sentence-transformers' `max_seq_length`).
    var maxSequenceLength: Int
    /// Mean of the token vectors (the default) or the `[CLS]` vector.
    var pooling: Pooling
    /// Whether the model ends with a `Normalize` module (unit-length embeddings).
    var normalizes: Bool

    enum Pooling: String, Sendable, Hashable { case mean, cls, max }

    static func json(_ path: String) throws(ModelError) -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError("cannot read \(path)") }
        do { return try JSONParser.parse(bytes: [UInt8](data)) } catch { throw ModelError("\(path): \(error)") }
    }

    /// Reads the configuration files of the model in `directory`.
    static func load(_ directory: String) throws(ModelError) -> BertConfig {
        let c = try json(directory + "/config.json")
        let type = c["model_type"]?.stringValue ?? "bert"
        guard ["bert", "roberta", "xlm-roberta", "distilbert"].contains(type) || c["architectures"]?.arrayValue?.contains(.string("BertModel")) == true else {
            throw ModelError("\(directory): model_type '\(type)' is not a BERT-family encoder")
        }
        guard type == "bert" else { throw ModelError("\(directory): model_type '\(type)' is not supported yet (BERT is)") }
        func int(_ k: String) throws(ModelError) -> Int {
            guard let v = c[k]?.intValue else { throw ModelError("\(directory)/config.json: missing '\(k)'") }
            return Int(v)
        }
        if let act = c["hidden_act"]?.stringValue, act != "gelu" {
            throw ModelError("\(directory)/config.json: hidden_act '\(act)' is not supported (gelu is)")
        }
        var cfg = BertConfig(
            hiddenSize: try int("hidden_size"), layers: try int("num_hidden_layers"), heads: try int("num_attention_heads"),
            intermediateSize: try int("intermediate_size"), maxPositions: try int("max_position_embeddings"),
            typeVocabSize: Int(c["type_vocab_size"]?.intValue ?? 2), vocabSize: try int("vocab_size"),
            layerNormEps: Float(c["layer_norm_eps"]?.doubleValue ?? 1e-12), maxSequenceLength: 512, pooling: .mean, normalizes: false)
        guard cfg.hiddenSize % cfg.heads == 0 else { throw ModelError("\(directory)/config.json: hidden_size is not a multiple of num_attention_heads") }
        cfg.maxSequenceLength = cfg.maxPositions
        if FileManager.default.fileExists(atPath: directory + "/sentence_bert_config.json") {
            let s = try json(directory + "/sentence_bert_config.json")
            if let m = s["max_seq_length"]?.intValue { cfg.maxSequenceLength = min(Int(m), cfg.maxPositions) }
        }
        if FileManager.default.fileExists(atPath: directory + "/1_Pooling/config.json") {
            let p = try json(directory + "/1_Pooling/config.json")
            if p["pooling_mode_cls_token"]?.boolValue == true { cfg.pooling = .cls }
            if p["pooling_mode_max_tokens"]?.boolValue == true { cfg.pooling = .max }
            if p["pooling_mode_mean_tokens"]?.boolValue == true { cfg.pooling = .mean }
        }
        if FileManager.default.fileExists(atPath: directory + "/modules.json") {
            let m = try json(directory + "/modules.json")
            cfg.normalizes = m.arrayValue?.contains { $0["type"]?.stringValue?.hasSuffix("Normalize") == true } ?? false
        }
        return cfg
    }
}
