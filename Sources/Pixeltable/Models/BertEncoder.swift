import CPxtBLAS
import Dispatch
import Foundation

/// A BERT encoder and the pooling of sentence-transformers: token ids in, one vector per
/// sentence out.
///
/// Sentences are packed, not padded: the tokens of a whole batch are the rows of one matrix, so
/// every linear layer is one matrix product (OpenBLAS, on every core) with no padding rows;
/// attention runs per sentence and head over its own rows, which is what the attention mask of
/// a padded batch achieves. Biases are broadcast into the output before the product and
/// residuals added in the same buffer, so each layer touches its activations few times.
final class BertEncoder: Sendable {
    struct Layer: Sendable {
        /// Query, key and value projections stacked: 3H x H, and their biases.
        var qkvW: [Float], qkvB: [Float]
        var attnOutW: [Float], attnOutB: [Float]
        var ln1W: [Float], ln1B: [Float]
        var interW: [Float], interB: [Float]
        var outW: [Float], outB: [Float]
        var ln2W: [Float], ln2B: [Float]
    }

    let config: BertConfig
    let wordEmbeddings: [Float]
    let positionEmbeddings: [Float]
    let typeEmbeddings: [Float]
    let embLNW: [Float], embLNB: [Float]
    let layers: [Layer]

    /// Reads the weights of `model.safetensors` in `directory`.
    init(directory: String, config: BertConfig) throws(ModelError) {
        self.config = config
        let path = directory + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelError("\(directory): no model.safetensors (other weight formats are not read)")
        }
        let f = try SafetensorsFile(path: path)
        let h = config.hiddenSize, i = config.intermediateSize
        wordEmbeddings = try f.floats("embeddings.word_embeddings.weight", shape: [config.vocabSize, h])
        positionEmbeddings = try f.floats("embeddings.position_embeddings.weight", shape: [config.maxPositions, h])
        typeEmbeddings = try f.floats("embeddings.token_type_embeddings.weight", shape: [config.typeVocabSize, h])
        embLNW = try f.floats("embeddings.LayerNorm.weight", shape: [h])
        embLNB = try f.floats("embeddings.LayerNorm.bias", shape: [h])
        var ls: [Layer] = []
        for l in 0..<config.layers {
            let p = "encoder.layer.\(l)."
            let q = try f.floats(p + "attention.self.query.weight", shape: [h, h])
            let k = try f.floats(p + "attention.self.key.weight", shape: [h, h])
            let v = try f.floats(p + "attention.self.value.weight", shape: [h, h])
            let qb = try f.floats(p + "attention.self.query.bias", shape: [h])
            let kb = try f.floats(p + "attention.self.key.bias", shape: [h])
            let vb = try f.floats(p + "attention.self.value.bias", shape: [h])
            ls.append(
                Layer(
                    qkvW: q + k + v, qkvB: qb + kb + vb,
                    attnOutW: try f.floats(p + "attention.output.dense.weight", shape: [h, h]),
                    attnOutB: try f.floats(p + "attention.output.dense.bias", shape: [h]),
                    ln1W: try f.floats(p + "attention.output.LayerNorm.weight", shape: [h]),
                    ln1B: try f.floats(p + "attention.output.LayerNorm.bias", shape: [h]),
                    interW: try f.floats(p + "intermediate.dense.weight", shape: [i, h]),
                    interB: try f.floats(p + "intermediate.dense.bias", shape: [i]),
                    outW: try f.floats(p + "output.dense.weight", shape: [h, i]),
                    outB: try f.floats(p + "output.dense.bias", shape: [h]),
                    ln2W: try f.floats(p + "output.LayerNorm.weight", shape: [h]),
                    ln2B: try f.floats(p + "output.LayerNorm.bias", shape: [h])))
        }
        layers = ls
    }

    /// The pooled (and, if the model normalizes, unit-length) embedding of each sentence.
    func embed(_ sentences: [[Int32]]) -> [[Float]] {
        let h = config.hiddenSize, inter = config.intermediateSize
        var offsets: [Int] = []
        var total = 0
        for s in sentences {
            offsets.append(total)
            total += s.count
        }
        if total == 0 { return sentences.map { _ in [Float](repeating: 0, count: h) } }
        let x = UnsafeMutablePointer<Float>.allocate(capacity: total * h)
        let x1 = UnsafeMutablePointer<Float>.allocate(capacity: total * h)
        let qkv = UnsafeMutablePointer<Float>.allocate(capacity: total * 3 * h)
        let ctx = UnsafeMutablePointer<Float>.allocate(capacity: total * h)
        let mid = UnsafeMutablePointer<Float>.allocate(capacity: total * inter)
        defer {
            x.deallocate(); x1.deallocate(); qkv.deallocate(); ctx.deallocate(); mid.deallocate()
        }
        let X = SharedFloats(x), X1 = SharedFloats(x1), QKV = SharedFloats(qkv), CTX = SharedFloats(ctx), MID = SharedFloats(mid)

        // Embeddings: word + position + token type 0, then layer norm.
        let ids = sentences.flatMap { $0 }
        let positions = sentences.flatMap { s in (0..<s.count).map { Int32($0) } }
        let words = wordEmbeddings, pos = positionEmbeddings, type = typeEmbeddings, vocab = config.vocabSize
        TensorOps.parallelRows(total, minimumPerChunk: 256) { r in
            words.withUnsafeBufferPointer { w in
                pos.withUnsafeBufferPointer { p in
                    type.withUnsafeBufferPointer { t in
                        for row in r {
                            let id = min(max(0, Int(ids[row])), vocab - 1)
                            let wr = w.baseAddress! + id * h, pr = p.baseAddress! + Int(positions[row]) * h
                            let out = X.base + row * h
                            for j in 0..<h { out[j] = wr[j] + pr[j] + t[j] }
                        }
                    }
                }
            }
        }
        TensorOps.layerNorm(X, rows: total, width: h, gamma: embLNW, beta: embLNB, eps: config.layerNormEps)

        for layer in layers {
            // Q, K, V for every token in one product.
            TensorOps.broadcast(layer.qkvB, rows: total, into: QKV)
            TensorOps.linear(X, rows: total, inWidth: h, layer.qkvW, outWidth: 3 * h, into: QKV)
            attention(QKV, into: CTX, offsets: offsets, lengths: sentences.map(\.count))
            // Output projection, bias and residual in one buffer, then layer norm.
            TensorOps.broadcast(layer.attnOutB, rows: total, into: X1)
            TensorOps.add(X, into: X1, rows: total, width: h)
            TensorOps.linear(CTX, rows: total, inWidth: h, layer.attnOutW, outWidth: h, into: X1)
            TensorOps.layerNorm(X1, rows: total, width: h, gamma: layer.ln1W, beta: layer.ln1B, eps: config.layerNormEps)
            // Feed-forward: intermediate with GELU, output with bias and residual, layer norm.
            TensorOps.broadcast(layer.interB, rows: total, into: MID)
            TensorOps.linear(X1, rows: total, inWidth: h, layer.interW, outWidth: inter, into: MID)
            TensorOps.gelu(MID, count: total * inter)
            TensorOps.broadcast(layer.outB, rows: total, into: X)
            TensorOps.add(X1, into: X, rows: total, width: h)
            TensorOps.linear(MID, rows: total, inWidth: inter, layer.outW, outWidth: h, into: X)
            TensorOps.layerNorm(X, rows: total, width: h, gamma: layer.ln2W, beta: layer.ln2B, eps: config.layerNormEps)
        }
        return pool(X, offsets: offsets, lengths: sentences.map(\.count))
    }

    /// Scaled dot-product attention of each sentence's tokens among themselves, head by head,
    /// sentences and heads spread over the cores.
    private func attention(_ qkv: SharedFloats, into ctx: SharedFloats, offsets: [Int], lengths: [Int]) {
        let h = config.hiddenSize, heads = config.heads
        let work = offsets.count * heads
        let longest = lengths.max() ?? 0
        let workers = min(TensorOps.cores, work)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, pxt_attention_scratch(Int32(longest), Int32(h), Int32(heads))))
            defer { scratch.deallocate() }
            var item = worker
            while item < work {
                let s = item / heads
                pxt_attention(qkv.base, ctx.base, offsets[s], Int32(lengths[s]), Int32(h), Int32(heads), Int32(item % heads), scratch)
                item += workers
            }
        }
    }

    /// Mean (or CLS, or max) of each sentence's token vectors, then unit length if the model
    /// normalizes.
    private func pool(_ x: SharedFloats, offsets: [Int], lengths: [Int]) -> [[Float]] {
        let h = config.hiddenSize
        var out: [[Float]] = []
        out.reserveCapacity(offsets.count)
        for (o, n) in zip(offsets, lengths) {
            var v = [Float](repeating: 0, count: h)
            switch config.pooling {
            case .cls:
                for j in 0..<h { v[j] = x[o * h + j] }
            case .max:
                for j in 0..<h { v[j] = -Float.infinity }
                for t in 0..<n { for j in 0..<h { v[j] = max(v[j], x[(o + t) * h + j]) } }
            case .mean:
                for t in 0..<n { for j in 0..<h { v[j] += x[(o + t) * h + j] } }
                let inv = 1 / Float(max(1, n))
                for j in 0..<h { v[j] *= inv }
            }
            out.append(config.normalizes ? TensorOps.normalized(v) : v)
        }
        return out
    }
}
