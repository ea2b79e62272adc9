import Foundation

/// The image operations behind the `image.*` functions, with Pillow's semantics.
public enum ImageTransforms {
    /// Pillow's `convert(mode)`: luma with ITU-R 601-2 weights (`L = R*299/1000 + G*587/1000 +
    /// B*114/1000`, in Pillow's fixed point), alpha 255 where none was, alpha dropped without
    /// compositing.
    public static func convert(_ image: PixelImage, to mode: ImageMode) -> PixelImage {
        if mode == image.mode { return image }
        let n = image.width * image.height
        let sc = image.mode.channels, dc = mode.channels
        var out = [UInt8](repeating: 0, count: n * dc)
        image.pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    let p = i * sc, q = i * dc
                    let gray = sc <= 2
                    let alpha: UInt8 = image.mode.hasAlpha ? s[p + sc - 1] : 255
                    switch mode {
                    case .l, .la:
                        if gray {
                            o[q] = s[p]
                        } else {
                            let l = (Int(s[p]) * 19595 + Int(s[p + 1]) * 38470 + Int(s[p + 2]) * 7471 + 0x8000) >> 16
                            o[q] = UInt8(l)
                        }
                        if mode == .la { o[q + 1] = alpha }
                    case .rgb, .rgba:
                        if gray {
                            o[q] = s[p]; o[q + 1] = s[p]; o[q + 2] = s[p]
                        } else {
                            o[q] = s[p]; o[q + 1] = s[p + 1]; o[q + 2] = s[p + 2]
                        }
                        if mode == .rgba { o[q + 3] = alpha }
                    }
                }
            }
        }
        return image.derived(width: image.width, height: image.height, mode: mode, pixels: out)
    }

    /// Pillow's `crop((left, upper, right, lower))`: the box may reach outside the image, which
    /// reads as zeros.
    public static func crop(_ image: PixelImage, left: Int, top: Int, right: Int, bottom: Int) throws(FunctionError) -> PixelImage {
        guard right >= left else { throw FunctionError("ValueError", "Coordinate 'right' is less than 'left'") }
        guard bottom >= top else { throw FunctionError("ValueError", "Coordinate 'lower' is less than 'upper'") }
        let w = right - left, h = bottom - top
        let ch = image.mode.channels
        guard w * h <= 178_956_970 else { throw FunctionError("ValueError", "crop box (\(w)x\(h)) is too large") }
        var out = [UInt8](repeating: 0, count: w * h * ch)
        let x0 = max(0, left), x1 = min(image.width, right)
        if x1 > x0 {
            for y in max(0, top)..<max(max(0, top), min(image.height, bottom)) {
                let s = (y * image.width + x0) * ch
                let d = ((y - top) * w + (x0 - left)) * ch
                out.replaceSubrange(d..<(d + (x1 - x0) * ch), with: image.pixels[s..<(s + (x1 - x0) * ch)])
            }
        }
        return image.derived(width: w, height: h, mode: image.mode, pixels: out)
    }

    /// Pillow's `transpose(method)`: 0 FLIP_LEFT_RIGHT, 1 FLIP_TOP_BOTTOM, 2 ROTATE_90,
    /// 3 ROTATE_180, 4 ROTATE_270, 5 TRANSPOSE, 6 TRANSVERSE (rotations counter-clockwise).
    public static func transpose(_ image: PixelImage, _ method: Int) throws(FunctionError) -> PixelImage {
        let w = image.width, h = image.height, ch = image.mode.channels
        let swaps = method == 2 || method == 4 || method == 5 || method == 6
        let ow = swaps ? h : w, oh = swaps ? w : h
        // Source coordinates of output pixel (X, Y).
        let source: (Int, Int) -> (Int, Int)
        switch method {
        case 0: source = { x, y in (w - 1 - x, y) }
        case 1: source = { x, y in (x, h - 1 - y) }
        case 2: source = { x, y in (w - 1 - y, x) }
        case 3: source = { x, y in (w - 1 - x, h - 1 - y) }
        case 4: source = { x, y in (y, h - 1 - x) }
        case 5: source = { x, y in (y, x) }
        case 6: source = { x, y in (w - 1 - y, h - 1 - x) }
        default: throw FunctionError("ValueError", "Unknown transpose type \(method)")
        }
        var out = [UInt8](repeating: 0, count: ow * oh * ch)
        image.pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for y in 0..<oh {
                    for x in 0..<ow {
                        let (sx, sy) = source(x, y)
                        let p = (sy * w + sx) * ch, q = (y * ow + x) * ch
                        for c in 0..<ch { o[q + c] = s[p + c] }
                    }
                }
            }
        }
        return image.derived(width: ow, height: oh, mode: image.mode, pixels: out)
    }

    /// Pillow's `rotate(angle)`: counter-clockwise about the center, same size, nearest
    /// neighbour, black where nothing maps; multiples of 90 degrees are exact transposes where
    /// the size allows.
    public static func rotate(_ image: PixelImage, degrees: Double) throws(FunctionError) -> PixelImage {
        guard degrees.isFinite else { throw FunctionError("ValueError", "angle must be a finite number") }
        var angle = degrees.truncatingRemainder(dividingBy: 360)
        if angle < 0 { angle += 360 }
        if angle == 0 { return image }
        if angle == 180 { return try transpose(image, 3) }
        if (angle == 90 || angle == 270) && image.width == image.height { return try transpose(image, angle == 90 ? 2 : 4) }
        let w = image.width, h = image.height, ch = image.mode.channels
        let r = -angle * .pi / 180
        func round15(_ v: Double) -> Double { (v * 1e15).rounded() / 1e15 }
        let a = round15(cos(r)), b = round15(sin(r)), d = round15(-sin(r)), e = round15(cos(r))
        let cx = Double(w) / 2, cy = Double(h) / 2
        let c = a * -cx + b * -cy + cx
        let f = d * -cx + e * -cy + cy
        var out = [UInt8](repeating: 0, count: w * h * ch)
        image.pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for y in 0..<h {
                    for x in 0..<w {
                        let fx = Double(x) + 0.5, fy = Double(y) + 0.5
                        let xin = a * fx + b * fy + c, yin = d * fx + e * fy + f
                        guard xin >= 0, yin >= 0 else { continue }
                        let sx = Int(xin), sy = Int(yin)
                        guard sx < w, sy < h else { continue }
                        let p = (sy * w + sx) * ch, q = (y * w + x) * ch
                        for k in 0..<ch { o[q + k] = s[p + k] }
                    }
                }
            }
        }
        return image.derived(width: w, height: h, mode: image.mode, pixels: out)
    }

    /// Pillow's `getpixel((x, y))`: an int for single-band images, a list of bands otherwise;
    /// negative coordinates count from the end.
    public static func pixel(_ image: PixelImage, x: Int, y: Int) throws(FunctionError) -> JSONValue {
        let xx = x < 0 ? x + image.width : x, yy = y < 0 ? y + image.height : y
        guard xx >= 0, yy >= 0, xx < image.width, yy < image.height else { throw FunctionError("IndexError", "image index out of range") }
        let ch = image.mode.channels
        let p = (yy * image.width + xx) * ch
        if ch == 1 { return .int(Int64(image.pixels[p])) }
        return .array((0..<ch).map { .int(Int64(image.pixels[p + $0])) })
    }

    /// Pillow's `histogram()`: 256 counts per band, bands one after another.
    public static func histogram(_ image: PixelImage) -> [Int] {
        let ch = image.mode.channels
        var counts = [Int](repeating: 0, count: 256 * ch)
        image.pixels.withUnsafeBufferPointer { s in
            counts.withUnsafeMutableBufferPointer { h in
                var i = 0
                while i < s.count {
                    for c in 0..<ch { h[c * 256 + Int(s[i + c])] += 1 }
                    i += ch
                }
            }
        }
        return counts
    }

    /// The size Pillow's `thumbnail((w, h))` gives: the largest size within the box that keeps the
    /// aspect ratio, rounded the way that keeps it best; `nil` when the image already fits.
    public static func thumbnailSize(width: Int, height: Int, box: (Int, Int)) -> (Int, Int)? {
        var (x, y) = box
        if x >= width && y >= height { return nil }
        let aspect = Double(width) / Double(height)
        func roundAspect(_ number: Double, _ key: (Int) -> Double) -> Int {
            let lo = Int(floor(number)), hi = Int(ceil(number))
            return max(key(lo) <= key(hi) ? lo : hi, 1)
        }
        if Double(x) / Double(y) >= aspect {
            let yy = Double(y)
            x = roundAspect(yy * aspect) { n in abs(aspect - Double(n) / yy) }
        } else {
            let xx = Double(x)
            y = roundAspect(xx / aspect) { n in n == 0 ? 0 : abs(aspect - xx / Double(n)) }
        }
        return (x, y)
    }

    /// Pillow's `resize()` after a JPEG `draft`, with its `reducing_gap`: a box average by an
    /// integer factor first when the reduction is large, then the filter.
    static func resizeReducing(_ image: PixelImage, width: Int, height: Int, filter: ResampleFilter, box: (Double, Double, Double, Double), reducingGap: Double?) -> PixelImage {
        var src = image
        var b = box
        if let gap = reducingGap, filter != .nearest {
            let fx = max(1, Int((b.2 - b.0) / Double(width) / gap))
            let fy = max(1, Int((b.3 - b.1) / Double(height) / gap))
            if fx > 1 || fy > 1 {
                src = Resampler.reduce(image, factorX: fx, factorY: fy)
                b = (b.0 / Double(fx), b.1 / Double(fy), b.2 / Double(fx), b.3 / Double(fy))
            }
        }
        return Resampler.resize(src, width: width, height: height, filter: filter, box: b)
    }
}
