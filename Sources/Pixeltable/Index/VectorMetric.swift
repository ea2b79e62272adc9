/// How an embedding index compares vectors, with Pixeltable's meaning of `similarity()`:
/// cosine similarity for `cosine`, the inner product for `ip`, and `1 / (1 + distance)` for
/// `l2` — larger is always closer, so "most similar first" is a descending order for all three.
public enum VectorMetric: String, Sendable, Hashable, CaseIterable {
    case cosine, ip, l2

    /// The metric named `name` (`cosine`, `ip` or `l2`), or an error listing the choices.
    public init(name: String) throws(PixeltableError) {
        guard let m = VectorMetric(rawValue: name.lowercased()) else {
            throw PixeltableError(.invalidArgument, "metric must be cosine, ip or l2, not '\(name)'")
        }
        self = m
    }

    /// `similarity()` of two vectors of the same length.
    public func score(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        switch self {
        case .cosine:
            var dot: Float = 0, na: Float = 0, nb: Float = 0
            for i in 0..<a.count {
                dot += a[i] * b[i]
                na += a[i] * a[i]
                nb += b[i] * b[i]
            }
            let d = (na * nb).squareRoot()
            return d > 0 ? dot / d : 0
        case .ip:
            var dot: Float = 0
            for i in 0..<a.count { dot += a[i] * b[i] }
            return dot
        case .l2:
            var s: Float = 0
            for i in 0..<a.count {
                let d = a[i] - b[i]
                s += d * d
            }
            return 1 / (1 + s.squareRoot())
        }
    }

    /// `similarity()` of two arrays of the same length.
    public func score(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in score(x, y) } }
    }
}
