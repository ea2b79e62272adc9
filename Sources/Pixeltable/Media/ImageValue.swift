import Synchronization

/// An image as expressions see it: a file not decoded until its pixels are needed, or pixels
/// computed in memory.
///
/// Reading `width`, `height` or `mode` of a file only reads its header; a thumbnail of a JPEG
/// decodes it at a fraction of its size in the DCT domain, as Pillow's `draft` does.
public final class ImageValue: Sendable, Hashable, CustomStringConvertible {
    /// The local file the image comes from, unchanged; `nil` for computed images.
    public let path: String?
    private let memo: Mutex<Memo>

    private struct Memo {
        var header: ImageHeader?
        var image: PixelImage?
    }

    /// The image in the file at `path` (read when first used).
    public init(path: String) {
        self.path = path
        memo = Mutex(Memo())
    }

    /// An image from pixels.
    public init(_ image: PixelImage) {
        path = nil
        memo = Mutex(Memo(header: nil, image: image))
    }

    /// Width, height, mode and format, from the file's header or the pixels.
    public func header() throws(ImageCodecError) -> ImageHeader {
        if let h = memo.withLock({ $0.header }) { return h }
        if let img = memo.withLock({ $0.image }) {
            return ImageHeader(format: img.sourceFormat ?? .png, width: img.width, height: img.height, mode: img.mode, isComplete: true)
        }
        guard let path else { throw ImageCodecError(.broken, "image has no pixels") }
        let h = try ImageCodec.probe(file: path)
        memo.withLock { $0.header = h }
        return h
    }

    /// The decoded pixels.
    public func pixels() throws(ImageCodecError) -> PixelImage {
        if let img = memo.withLock({ $0.image }) { return img }
        guard let path else { throw ImageCodecError(.broken, "image has no pixels") }
        let img = try ImageCodec.decode(file: path)
        memo.withLock { $0.image = img }
        return img
    }

    /// Pixels decoded at a reduced size that is still at least `minimum` in both dimensions, and
    /// the region of them that the full image covers (fractional at the edges): Pillow's
    /// `draft`. Only JPEG files decode smaller; anything else comes back whole.
    func draft(minimum: (Int, Int)) throws(ImageCodecError) -> (PixelImage, box: (Double, Double, Double, Double)) {
        if memo.withLock({ $0.image }) == nil, let path {
            let h = try header()
            if h.format == .jpeg, minimum.0 > 0, minimum.1 > 0 {
                let scale = min(h.width / minimum.0, h.height / minimum.1)
                if let s = [8, 4, 2].first(where: { scale >= $0 }) {
                    let img = try ImageCodec.decode(file: path, scaleDenominator: s)
                    return (img, (0, 0, Double(h.width) / Double(s), Double(h.height) / Double(s)))
                }
            }
        }
        let img = try pixels()
        return (img, (0, 0, Double(img.width), Double(img.height)))
    }

    public var description: String {
        if let h = try? header() { return "<Image \(h.width)x\(h.height) \(h.mode.rawValue)>" }
        return "<Image>"
    }

    public static func == (a: ImageValue, b: ImageValue) -> Bool {
        if a === b { return true }
        if let p = a.path, let q = b.path { return p == q }
        guard a.path == nil, b.path == nil else { return false }
        return (try? a.pixels()) == (try? b.pixels())
    }

    public func hash(into h: inout Hasher) {
        if let path {
            h.combine(path)
        } else if let img = try? pixels() {
            h.combine(img.width)
            h.combine(img.height)
        }
    }
}
