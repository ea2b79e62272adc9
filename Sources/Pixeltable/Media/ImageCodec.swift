import CPxtMedia

/// What an image file's header says, read without decoding pixels.
public struct ImageHeader: Sendable, Hashable {
    /// The encoded format.
    public var format: ImageFormat
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// The mode a decode produces.
    public var mode: ImageMode
    /// False when the file ends before the image does (cut short in transfer, say).
    public var isComplete: Bool
}

/// Reads and writes JPEG, PNG and WebP through libjpeg-turbo, libpng and libwebp.
public enum ImageCodec {
    /// Reads the header of an encoded image.
    public static func probe(_ bytes: UnsafeRawBufferPointer) throws(ImageCodecError) -> ImageHeader {
        var info = pxt_image_info()
        var err = [CChar](repeating: 0, count: 256)
        let rc = pxt_image_probe(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &info, &err, err.count)
        guard rc == 0 else { throw error(err, unidentified: info.format == Int32(PXT_FORMAT_UNKNOWN)) }
        guard let format = ImageFormat(cCode: info.format), let mode = ImageMode(channels: Int(info.channels)) else {
            throw ImageCodecError(.unidentified, "cannot identify image file")
        }
        return ImageHeader(format: format, width: Int(info.width), height: Int(info.height), mode: mode, isComplete: info.complete != 0)
    }

    /// Reads the header of an encoded image held in an array.
    public static func probe(_ bytes: [UInt8]) throws(ImageCodecError) -> ImageHeader {
        try bytes.withUnsafeBytes { b in Result { () throws(ImageCodecError) -> ImageHeader in try probe(b) } }.get()
    }

    /// Decodes an image.
    ///
    /// - Parameter scaleDenominator: For JPEG, 2, 4 or 8 decode at that fraction of the size in
    ///   the DCT domain (Pillow's `draft`); ignored by other formats.
    public static func decode(_ bytes: UnsafeRawBufferPointer, scaleDenominator: Int = 1) throws(ImageCodecError) -> PixelImage {
        let header = try probe(bytes)
        var pixels: UnsafeMutablePointer<UInt8>? = nil
        var w: Int32 = 0, h: Int32 = 0, ch: Int32 = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = pxt_image_decode(
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, Int32(scaleDenominator), &pixels, &w, &h, &ch, &err, err.count)
        guard rc == 0, let pixels, let mode = ImageMode(channels: Int(ch)) else {
            if let pixels { pxt_image_free(pixels) }
            throw error(err, unidentified: false)
        }
        defer { pxt_image_free(pixels) }
        let n = Int(w) * Int(h) * Int(ch)
        let buf = [UInt8](UnsafeBufferPointer(start: pixels, count: n))
        return PixelImage(width: Int(w), height: Int(h), mode: mode, pixels: buf, sourceFormat: header.format)
    }

    /// Decodes an image held in an array.
    public static func decode(_ bytes: [UInt8], scaleDenominator: Int = 1) throws(ImageCodecError) -> PixelImage {
        try bytes.withUnsafeBytes { b in Result { () throws(ImageCodecError) -> PixelImage in try decode(b, scaleDenominator: scaleDenominator) } }.get()
    }

    /// Encodes an image. JPEG takes L and RGB (alpha is dropped, as Pillow refuses RGBA JPEGs
    /// only to have users drop it anyway); WebP takes RGB and RGBA (grayscale is expanded).
    ///
    /// - Parameter quality: 1-100 for JPEG and WebP; 0 asks for lossless WebP.
    public static func encode(_ image: PixelImage, as format: ImageFormat, quality: Int = 90) throws(ImageCodecError) -> [UInt8] {
        var source = image
        switch format {
        case .jpeg where image.mode == .la: source = ImageTransforms.convert(image, to: .l)
        case .jpeg where image.mode == .rgba: source = ImageTransforms.convert(image, to: .rgb)
        case .webp where image.mode == .l: source = ImageTransforms.convert(image, to: .rgb)
        case .webp where image.mode == .la: source = ImageTransforms.convert(image, to: .rgba)
        default: break
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = source.pixels.withUnsafeBufferPointer { p in
            pxt_image_encode(format.cCode, p.baseAddress, Int32(source.width), Int32(source.height), Int32(source.mode.channels), Int32(quality), &out, &size, &err, err.count)
        }
        guard rc == 0, let out else { throw error(err, unidentified: false) }
        defer { pxt_image_free(out) }
        return [UInt8](UnsafeBufferPointer(start: out, count: size))
    }

    /// Reads the header of the image file at `path`.
    public static func probe(file path: String) throws(ImageCodecError) -> ImageHeader {
        try map(path, populate: false).withBytes { (b: UnsafeRawBufferPointer) throws(ImageCodecError) -> ImageHeader in try probe(b) }
    }

    /// Decodes the image file at `path`.
    public static func decode(file path: String, scaleDenominator: Int = 1) throws(ImageCodecError) -> PixelImage {
        try map(path, populate: true).withBytes { (b: UnsafeRawBufferPointer) throws(ImageCodecError) -> PixelImage in
            try decode(b, scaleDenominator: scaleDenominator)
        }
    }

    private static func map(_ path: String, populate: Bool) throws(ImageCodecError) -> MappedFile {
        do { return try MappedFile(path: path, populate: populate) } catch { throw ImageCodecError(.broken, error.message) }
    }

    private static func error(_ buffer: [CChar], unidentified: Bool) -> ImageCodecError {
        let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if unidentified { return ImageCodecError(.unidentified, message.isEmpty ? "cannot identify image file" : message) }
        if message.contains("truncated") { return ImageCodecError(.truncated, message) }
        return ImageCodecError(.broken, message.isEmpty ? "cannot decode image" : message)
    }
}
