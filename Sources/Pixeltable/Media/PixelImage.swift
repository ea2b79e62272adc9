/// A decoded image: 8-bit interleaved pixels, row by row, top to bottom.
///
/// Operations return new images; none changes one in place. ``sourceFormat`` remembers the
/// format an image was decoded from through every operation, so that a thumbnail of a JPEG is
/// stored as a JPEG (when it has no alpha) and other computed images as PNG.
public struct PixelImage: Sendable, Hashable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// The pixel layout.
    public let mode: ImageMode
    /// `width * height * mode.channels` bytes.
    public let pixels: [UInt8]
    /// The format the pixels were decoded from, if they came from a file.
    public var sourceFormat: ImageFormat?

    /// An image from raw pixels.
    ///
    /// - Precondition: `pixels.count == width * height * mode.channels`.
    public init(width: Int, height: Int, mode: ImageMode, pixels: [UInt8], sourceFormat: ImageFormat? = nil) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * mode.channels, "pixel buffer does not match the image size")
        self.width = width
        self.height = height
        self.mode = mode
        self.pixels = pixels
        self.sourceFormat = sourceFormat
    }

    /// An image filled with one color (one value per channel; black by default).
    public init(width: Int, height: Int, mode: ImageMode, fill: [UInt8]? = nil) {
        let c = mode.channels
        let color = fill ?? Array(repeating: 0, count: c)
        precondition(color.count == c, "fill color must have one value per channel")
        var buf = [UInt8](repeating: 0, count: width * height * c)
        if color.contains(where: { $0 != 0 }) {
            for i in 0..<(width * height) { for k in 0..<c { buf[i * c + k] = color[k] } }
        }
        self.init(width: width, height: height, mode: mode, pixels: buf)
    }

    /// `(width, height)`.
    public var size: (width: Int, height: Int) { (width, height) }

    /// The format a computed image is stored in: JPEG when it came from a JPEG and has no
    /// alpha, PNG otherwise.
    var storageFormat: ImageFormat { sourceFormat == .jpeg && !mode.hasAlpha ? .jpeg : .png }

    /// The format Pixeltable uses for a temporary copy: WebP when the image has alpha, else JPEG.
    var temporaryFormat: ImageFormat { mode.hasAlpha ? .webp : .jpeg }

    /// The same pixels, remembering `format` as their origin.
    func derived(width: Int, height: Int, mode: ImageMode, pixels: [UInt8]) -> PixelImage {
        PixelImage(width: width, height: height, mode: mode, pixels: pixels, sourceFormat: sourceFormat)
    }

    /// Pillow's display form, `<Image 200x100 RGB>`.
    public var displayString: String { "<Image \(width)x\(height) \(mode.rawValue)>" }
}
