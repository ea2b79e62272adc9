import Foundation

/// Resizes images by separable convolution, as Pillow's `Resample.c` does: the filter widens
/// with the reduction factor (so downscaling averages rather than skips pixels), weights are
/// normalized per output pixel and applied in 22-bit fixed point, the horizontal pass runs first
/// over only the rows the vertical pass needs, and images with alpha are resampled
/// premultiplied. The results match Pillow's to within rounding.
enum Resampler {
    /// Fixed-point fraction bits for 8-bit samples: 32 - 8 - 2, as Pillow.
    static let precisionBits = 22

    /// Per-output-pixel source ranges and weights along one axis.
    struct Coefficients {
        /// Taps per output pixel.
        let taps: Int
        /// For output pixel i: first source index and count.
        var bounds: [(start: Int, count: Int)]
        /// `taps` fixed-point weights per output pixel.
        var weights: [Int32]
    }

    /// The weights resampling source range `[from, to)` of an axis of `inSize` pixels onto
    /// `outSize` pixels.
    static func coefficients(inSize: Int, from: Double, to: Double, outSize: Int, filter: ResampleFilter) -> Coefficients {
        let scale = (to - from) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let taps = Int(ceil(support)) * 2 + 1
        var bounds: [(Int, Int)] = []
        bounds.reserveCapacity(outSize)
        var weights = [Int32](repeating: 0, count: outSize * taps)
        var k = [Double](repeating: 0, count: taps)
        let inverse = 1 / filterScale
        for i in 0..<outSize {
            let center = from + (Double(i) + 0.5) * scale
            var lo = Int(center - support + 0.5)
            if lo < 0 { lo = 0 }
            var hi = Int(center + support + 0.5)
            if hi > inSize { hi = inSize }
            let n = max(0, min(hi - lo, taps))
            var total = 0.0
            for x in 0..<n {
                let w = filter.weight((Double(x + lo) - center + 0.5) * inverse)
                k[x] = w
                total += w
            }
            let one = Double(1 << precisionBits)
            for x in 0..<n {
                let w = total != 0 ? k[x] / total : k[x]
                weights[i * taps + x] = Int32(w < 0 ? -0.5 + w * one : 0.5 + w * one)
            }
            bounds.append((lo, n))
        }
        return Coefficients(taps: taps, bounds: bounds, weights: weights)
    }

    @inline(__always) static func clip8(_ v: Int32) -> UInt8 {
        if v >= Int32(1 << (precisionBits + 8)) { return 255 }
        if v <= 0 { return 0 }
        return UInt8(truncatingIfNeeded: v >> Int32(precisionBits))
    }

    /// Resizes `image` to `width` x `height`, reading the source box `box` (default: all of it,
    /// fractional edges allowed).
    static func resize(
        _ image: PixelImage, width: Int, height: Int, filter: ResampleFilter, box: (Double, Double, Double, Double)? = nil
    ) -> PixelImage {
        let b = box ?? (0, 0, Double(image.width), Double(image.height))
        if width == image.width && height == image.height && b == (0, 0, Double(image.width), Double(image.height)) { return image }
        if filter == .nearest { return nearest(image, width: width, height: height, box: b) }
        if image.mode.hasAlpha {
            let pre = premultiplied(image)
            return unpremultiplied(convolve(pre, width: width, height: height, filter: filter, box: b))
        }
        return convolve(image, width: width, height: height, filter: filter, box: b)
    }

    static func convolve(_ image: PixelImage, width: Int, height: Int, filter: ResampleFilter, box b: (Double, Double, Double, Double)) -> PixelImage {
        let ch = image.mode.channels
        let needH = width != image.width || b.0 != 0 || b.2 != Double(width)
        let needV = height != image.height || b.1 != 0 || b.3 != Double(height)
        let horizontal = coefficients(inSize: image.width, from: b.0, to: b.2, outSize: width, filter: filter)
        var vertical = coefficients(inSize: image.height, from: b.1, to: b.3, outSize: height, filter: filter)
        var src = image.pixels
        var srcW = image.width
        var srcH = image.height
        if needH {
            // Only the rows the vertical pass reads.
            let first = vertical.bounds.first?.start ?? 0
            let last = vertical.bounds.last.map { $0.start + $0.count } ?? srcH
            for i in vertical.bounds.indices { vertical.bounds[i].start -= first }
            let rows = max(0, last - first)
            var out = [UInt8](repeating: 0, count: width * rows * ch)
            // Locals, not the captured `var`s: closures reading a captured var check exclusive
            // access on every read.
            let taps = horizontal.taps
            let hBounds = horizontal.bounds
            let hWeights = horizontal.weights
            src.withUnsafeBufferPointer { s in
                hWeights.withUnsafeBufferPointer { wts in
                    out.withUnsafeMutableBufferPointer { o in
                        for y in 0..<rows {
                            let rowBase = (y + first) * srcW * ch
                            for x in 0..<width {
                                let (start, count) = hBounds[x]
                                horizontalPixel(s, rowBase + start * ch, wts, x * taps, count, ch, o, (y * width + x) * ch)
                            }
                        }
                    }
                }
            }
            src = out
            srcW = width
            srcH = rows
        }
        if needV {
            var out = [UInt8](repeating: 0, count: srcW * height * ch)
            let taps = vertical.taps
            let stride = srcW * ch
            let vBounds = vertical.bounds
            let vWeights = vertical.weights
            src.withUnsafeBufferPointer { s in
                vWeights.withUnsafeBufferPointer { wts in
                    out.withUnsafeMutableBufferPointer { o in
                        // Row by row: each tap adds a whole source row, a contiguous loop the
                        // compiler vectorizes.
                        let acc = UnsafeMutableBufferPointer<Int32>.allocate(capacity: stride)
                        defer { acc.deallocate() }
                        for y in 0..<height {
                            let (start, count) = vBounds[y]
                            let k = y * taps
                            acc.initialize(repeating: Int32(1 << (precisionBits - 1)))
                            for t in 0..<count {
                                let wt = wts[k + t]
                                let row = (start + t) * stride
                                for i in 0..<stride { acc[i] &+= Int32(s[row + i]) &* wt }
                            }
                            let dst = y * stride
                            for i in 0..<stride { o[dst + i] = clip8(acc[i]) }
                        }
                    }
                }
            }
            src = out
            srcH = height
        }
        return image.derived(width: srcW, height: srcH, mode: image.mode, pixels: src)
    }

    /// One output pixel of the horizontal pass: every channel accumulated in one walk over the
    /// taps (the common channel counts unrolled), as Pillow's 8-bit loop does.
    @inline(__always)
    static func horizontalPixel(
        _ s: UnsafeBufferPointer<UInt8>, _ base: Int, _ w: UnsafeBufferPointer<Int32>, _ k: Int, _ count: Int, _ ch: Int,
        _ o: UnsafeMutableBufferPointer<UInt8>, _ dst: Int
    ) {
        let half = Int32(1 << (precisionBits - 1))
        switch ch {
        case 1:
            var a = half
            for t in 0..<count { a &+= Int32(s[base + t]) &* w[k + t] }
            o[dst] = clip8(a)
        case 3:
            var a = half, b = half, c = half
            var p = base
            for t in 0..<count {
                let wt = w[k + t]
                a &+= Int32(s[p]) &* wt
                b &+= Int32(s[p + 1]) &* wt
                c &+= Int32(s[p + 2]) &* wt
                p += 3
            }
            o[dst] = clip8(a); o[dst + 1] = clip8(b); o[dst + 2] = clip8(c)
        case 4:
            var a = half, b = half, c = half, d = half
            var p = base
            for t in 0..<count {
                let wt = w[k + t]
                a &+= Int32(s[p]) &* wt
                b &+= Int32(s[p + 1]) &* wt
                c &+= Int32(s[p + 2]) &* wt
                d &+= Int32(s[p + 3]) &* wt
                p += 4
            }
            o[dst] = clip8(a); o[dst + 1] = clip8(b); o[dst + 2] = clip8(c); o[dst + 3] = clip8(d)
        default:
            for c in 0..<ch {
                var a = half
                var p = base + c
                for t in 0..<count {
                    a &+= Int32(s[p]) &* w[k + t]
                    p += ch
                }
                o[dst + c] = clip8(a)
            }
        }
    }

    /// Nearest-neighbour sampling at output pixel centers (Pillow's affine NEAREST).
    static func nearest(_ image: PixelImage, width: Int, height: Int, box b: (Double, Double, Double, Double)) -> PixelImage {
        let ch = image.mode.channels
        let sx = (b.2 - b.0) / Double(width), sy = (b.3 - b.1) / Double(height)
        var out = [UInt8](repeating: 0, count: width * height * ch)
        let xs = (0..<width).map { x in min(image.width - 1, max(0, Int(b.0 + (Double(x) + 0.5) * sx))) }
        for y in 0..<height {
            let yy = min(image.height - 1, max(0, Int(b.1 + (Double(y) + 0.5) * sy)))
            for x in 0..<width {
                let s = (yy * image.width + xs[x]) * ch
                let d = (y * width + x) * ch
                for c in 0..<ch { out[d + c] = image.pixels[s + c] }
            }
        }
        return image.derived(width: width, height: height, mode: image.mode, pixels: out)
    }

    /// Box-averages `factorX` x `factorY` blocks (Pillow's `reduce`); edge blocks average the
    /// pixels they have.
    static func reduce(_ image: PixelImage, factorX: Int, factorY: Int) -> PixelImage {
        let ch = image.mode.channels
        let w = (image.width + factorX - 1) / factorX
        let h = (image.height + factorY - 1) / factorY
        var out = [UInt8](repeating: 0, count: w * h * ch)
        image.pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                var sums = [Int](repeating: 0, count: w * ch)
                for oy in 0..<h {
                    for i in sums.indices { sums[i] = 0 }
                    let y0 = oy * factorY, y1 = min(image.height, y0 + factorY)
                    for y in y0..<y1 {
                        let row = y * image.width * ch
                        for x in 0..<image.width {
                            let ox = x / factorX
                            for c in 0..<ch { sums[ox * ch + c] += Int(s[row + x * ch + c]) }
                        }
                    }
                    let rowsHere = y1 - y0
                    for ox in 0..<w {
                        let cols = min(image.width, (ox + 1) * factorX) - ox * factorX
                        let n = cols * rowsHere
                        for c in 0..<ch {
                            o[(oy * w + ox) * ch + c] = UInt8((sums[ox * ch + c] + n / 2) / n)
                        }
                    }
                }
            }
        }
        return image.derived(width: w, height: h, mode: image.mode, pixels: out)
    }

    /// Color channels multiplied by alpha (Pillow's `RGBa`/`La`), so that transparent pixels do
    /// not bleed their color into their neighbours.
    static func premultiplied(_ image: PixelImage) -> PixelImage {
        let ch = image.mode.channels
        var p = image.pixels
        let n = image.width * image.height
        for i in 0..<n {
            let a = Int(p[i * ch + ch - 1])
            if a == 255 { continue }
            for c in 0..<(ch - 1) {
                let t = Int(p[i * ch + c]) * a + 128
                p[i * ch + c] = UInt8(((t >> 8) + t) >> 8)
            }
        }
        return image.derived(width: image.width, height: image.height, mode: image.mode, pixels: p)
    }

    static func unpremultiplied(_ image: PixelImage) -> PixelImage {
        let ch = image.mode.channels
        var p = image.pixels
        let n = image.width * image.height
        for i in 0..<n {
            let a = Int(p[i * ch + ch - 1])
            if a == 255 || a == 0 { continue }
            for c in 0..<(ch - 1) {
                p[i * ch + c] = UInt8(min(255, 255 * Int(p[i * ch + c]) / a))
            }
        }
        return image.derived(width: image.width, height: image.height, mode: image.mode, pixels: p)
    }
}
