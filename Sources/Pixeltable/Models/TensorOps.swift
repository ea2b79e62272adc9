import CPxtBLAS
import Dispatch
import Foundation

/// A buffer of floats that parallel loops share; each loop writes disjoint rows of it.
struct SharedFloats: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    init(_ base: UnsafeMutablePointer<Float>) { self.base = base }
    subscript(_ i: Int) -> Float {
        @inline(__always) get { base[i] }
        @inline(__always) nonmutating set { base[i] = newValue }
    }
}

/// The element-wise parts of the encoder (layer norm, GELU, bias broadcast, residuals), split
/// over the machine's cores: between the matrix products they are memory-bound loops that one
/// core would leave the others idle for. The kernels are C (`pxt_blas.h`).
enum TensorOps {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` on the row ranges of `rows` rows, in parallel.
    static func parallelRows(_ rows: Int, minimumPerChunk: Int = 64, _ body: @Sendable (Range<Int>) -> Void) {
        let chunks = min(cores, max(1, rows / minimumPerChunk))
        if chunks <= 1 {
            body(0..<rows)
            return
        }
        let per = (rows + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * per, hi = min(rows, lo + per)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// OpenBLAS runs single-threaded: ``linear(_:rows:inWidth:_:outWidth:into:)`` splits each
    /// product's rows over the cores itself. OpenBLAS's own workers spin between calls, and
    /// would compete for the cores with the element-wise kernels that run between them.
    static let singleThreadedBLAS: Void = { pxt_blas_set_threads(1) }()

    /// `out += x W'` for `rows` rows: `x` is rows x inWidth, `W` is outWidth x inWidth (a linear
    /// layer's weight), each core taking a band of rows.
    static func linear(_ x: SharedFloats, rows: Int, inWidth: Int, _ w: [Float], outWidth: Int, into out: SharedFloats) {
        _ = singleThreadedBLAS
        w.withUnsafeBufferPointer { wp in
            let weights = SharedFloats(UnsafeMutablePointer(mutating: wp.baseAddress!))
            parallelRows(rows, minimumPerChunk: 128) { r in
                pxt_sgemm_nt(
                    Int32(r.count), Int32(outWidth), Int32(inWidth), 1, x.base + r.lowerBound * inWidth, Int32(inWidth), weights.base, Int32(inWidth), 1,
                    out.base + r.lowerBound * outWidth, Int32(outWidth))
            }
        }
    }

    /// Fills each of `rows` rows of `out` with `bias` (the start of `x W' + b`).
    static func broadcast(_ bias: [Float], rows: Int, into out: SharedFloats) {
        let w = bias.count
        parallelRows(rows, minimumPerChunk: 256) { r in
            bias.withUnsafeBufferPointer { b in pxt_broadcast_rows(out.base + r.lowerBound * w, b.baseAddress, r.count, Int32(w)) }
        }
    }

    /// `out += x` over `rows` rows of `width` floats (the residual connection).
    static func add(_ x: SharedFloats, into out: SharedFloats, rows: Int, width: Int) {
        parallelRows(rows, minimumPerChunk: 256) { r in
            pxt_add(out.base + r.lowerBound * width, x.base + r.lowerBound * width, r.count * width)
        }
    }

    /// Layer normalization of each row in place: (x - mean) / sqrt(var + eps) * gamma + beta.
    static func layerNorm(_ x: SharedFloats, rows: Int, width: Int, gamma: [Float], beta: [Float], eps: Float) {
        parallelRows(rows) { r in
            gamma.withUnsafeBufferPointer { g in
                beta.withUnsafeBufferPointer { b in
                    pxt_layer_norm(x.base + r.lowerBound * width, r.count, Int32(width), g.baseAddress, b.baseAddress, eps)
                }
            }
        }
    }

    /// GELU with the error function, `0.5 x (1 + erf(x / sqrt 2))`, in place; erf is accurate to
    /// a float's precision, so the result is what PyTorch's `gelu` gives.
    static func gelu(_ x: SharedFloats, count: Int) {
        parallelRows(count, minimumPerChunk: 16384) { r in pxt_gelu(x.base + r.lowerBound, r.count) }
    }

    /// `v` divided by its Euclidean length (by 1e-12 at least, as PyTorch's `F.normalize`).
    static func normalized(_ v: [Float]) -> [Float] {
        var norm: Float = 0
        for x in v { norm += x * x }
        let d = max(norm.squareRoot(), 1e-12)
        return v.map { $0 / d }
    }
}
