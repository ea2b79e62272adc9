import Foundation
import Pixeltable

/// Images the tests make themselves: deterministic, photo-like (smooth gradients, edges and a
/// little noise), in every mode, written in every format pxt reads.
public enum TestImages {
    /// A `width` x `height` image whose pixels depend only on their position.
    ///
    /// - Parameter detail: The noise amplitude; a photo's sensor noise and texture, which is
    ///   what makes a JPEG of a photo big and slow to decode, is around 16-24.
    public static func pattern(_ width: Int, _ height: Int, mode: ImageMode = .rgb, seed: UInt64 = 1, detail: Int = 4) -> PixelImage {
        var rng = seed &* 0x9E3779B97F4A7C15
        let span = UInt64(2 * detail + 1)
        func noise() -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % span) - detail
        }
        let ch = mode.channels
        var px = [UInt8](repeating: 0, count: width * height * ch)
        for y in 0..<height {
            for x in 0..<width {
                let fx = Double(x) / Double(max(1, width - 1)), fy = Double(y) / Double(max(1, height - 1))
                // A disc with a hard edge over two gradients, like an object against a sky.
                let dx = fx - 0.6, dy = fy - 0.45
                let inDisc = dx * dx + dy * dy < 0.06
                var r = inDisc ? 200 + 40 * fx : 40 + 180 * fy
                var g = inDisc ? 60 + 50 * fy : 90 + 120 * fx
                var b = inDisc ? 50 : 160 + 60 * sin(fx * 9)
                r += Double(noise()); g += Double(noise()); b += Double(noise())
                let rgb = [r, g, b].map { UInt8(max(0, min(255, $0.rounded()))) }
                let p = (y * width + x) * ch
                switch mode {
                case .l: px[p] = rgb[1]
                case .la: px[p] = rgb[1]; px[p + 1] = UInt8(x * 255 / max(1, width - 1))
                case .rgb: px[p] = rgb[0]; px[p + 1] = rgb[1]; px[p + 2] = rgb[2]
                case .rgba:
                    px[p] = rgb[0]; px[p + 1] = rgb[1]; px[p + 2] = rgb[2]
                    px[p + 3] = UInt8(y * 255 / max(1, height - 1))
                }
            }
        }
        return PixelImage(width: width, height: height, mode: mode, pixels: px)
    }

    /// Writes `image` as `format` into `directory`, returning the path.
    @discardableResult
    public static func write(_ image: PixelImage, as format: ImageFormat, to directory: String, name: String? = nil, quality: Int = 90) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + (name ?? "img-\(image.width)x\(image.height)-\(image.mode.rawValue)") + format.fileExtension
        let bytes = try ImageCodec.encode(image, as: format, quality: quality)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// The first `fraction` of a file, as a transfer cut short leaves it.
    public static func truncate(_ path: String, keeping fraction: Double, to target: String) -> String {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        _ = FileManager.default.createFile(atPath: target, contents: data.prefix(Int(Double(data.count) * fraction)))
        return target
    }

    /// Peak signal-to-noise ratio of two images of one size and mode, in dB.
    public static func psnr(_ a: PixelImage, _ b: PixelImage) -> Double {
        precondition(a.width == b.width && a.height == b.height && a.mode == b.mode)
        var se = 0.0
        for (x, y) in zip(a.pixels, b.pixels) {
            let d = Double(x) - Double(y)
            se += d * d
        }
        let mse = se / Double(a.pixels.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }
}
