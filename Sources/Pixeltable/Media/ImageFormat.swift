import CPxtMedia

/// An encoded image format pxt reads and writes.
public enum ImageFormat: String, Sendable, Hashable, CaseIterable {
    case jpeg = "JPEG"
    case png = "PNG"
    case webp = "WEBP"

    /// The file extension written for this format, with the dot.
    public var fileExtension: String {
        switch self {
        case .jpeg: return ".jpg"
        case .png: return ".png"
        case .webp: return ".webp"
        }
    }

    /// The media type, e.g. `image/jpeg`.
    public var mimeType: String {
        switch self {
        case .jpeg: return "image/jpeg"
        case .png: return "image/png"
        case .webp: return "image/webp"
        }
    }

    /// The format named as Pillow names formats in `save()` and `b64_encode()`: `png`, `jpeg` or
    /// `jpg`, `webp` (any case).
    public init?(name: String) {
        switch name.lowercased() {
        case "jpeg", "jpg": self = .jpeg
        case "png": self = .png
        case "webp": self = .webp
        default: return nil
        }
    }

    /// Whether the format can hold an alpha channel.
    public var supportsAlpha: Bool { self != .jpeg }

    var cCode: Int32 {
        switch self {
        case .jpeg: return Int32(PXT_FORMAT_JPEG)
        case .png: return Int32(PXT_FORMAT_PNG)
        case .webp: return Int32(PXT_FORMAT_WEBP)
        }
    }

    init?(cCode: Int32) {
        switch cCode {
        case Int32(PXT_FORMAT_JPEG): self = .jpeg
        case Int32(PXT_FORMAT_PNG): self = .png
        case Int32(PXT_FORMAT_WEBP): self = .webp
        default: return nil
        }
    }
}
