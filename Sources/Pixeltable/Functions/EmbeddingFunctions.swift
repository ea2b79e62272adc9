/// Embedding functions that need no model weights.
enum EmbeddingFunctions {
    static let all: [ExpressionFunction] = [
        ExpressionFunction(
            "text.embed_hash", [.init("self", .string), .init("dims", .int, default: .int(256))],
            returnType: { args in .array([nil], .float32, nullable: args[0].nullable) }
        ) { a in
            let dims = Int(try BuiltinFunctions.int(a[1]))
            guard dims > 0 && dims <= 65_536 else { throw FunctionError("ValueError", "dims must be between 1 and 65536, got \(dims)") }
            return .array(NDArray(embedHash(BuiltinFunctions.str(a[0]), dims: dims)))
        },
        ExpressionFunction(
            "array.cosine", [.init("self", .array), .init("other", .array)],
            returnType: { args in ColumnType(.float, nullable: args.contains { $0.nullable }) }
        ) { a in
            guard case .array(let x) = a[0], case .array(let y) = a[1], let xs = x.floats, let ys = y.floats else {
                throw FunctionError("TypeError", "cosine() expects two numeric arrays")
            }
            guard xs.count == ys.count else { throw FunctionError("ValueError", "cosine() of arrays of sizes \(xs.count) and \(ys.count)") }
            return .float(Double(cosine(xs, ys)))
        },
    ]

    /// Feature hashing of lower-cased word tokens and character trigrams into `dims` buckets,
    /// L2-normalized: deterministic, offline, and similar texts get similar vectors.
    static func embedHash(_ text: String, dims: Int) -> [Float] {
        var v = [Float](repeating: 0, count: dims)
        let lower = text.lowercased()
        func add(_ s: Substring, weight: Float) {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            let bucket = Int(h % UInt64(dims))
            v[bucket] += (h >> 63) == 0 ? weight : -weight
        }
        let words = lower.split { !$0.isLetter && !$0.isNumber }
        for w in words {
            add(w, weight: 1)
            let chars = Array(" " + w + " ")
            if chars.count >= 3 {
                for i in 0...(chars.count - 3) { add(Substring(String(chars[i..<(i + 3)])), weight: 0.5) }
            }
        }
        var norm: Float = 0
        for x in v { norm += x * x }
        norm = norm.squareRoot()
        if norm > 0 { for i in 0..<dims { v[i] /= norm } }
        return v
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in VectorMetric.cosine.score(pa, pb) } }
    }
}
