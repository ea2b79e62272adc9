/// How an image's pixels are laid out, named as Pillow names its modes.
public enum ImageMode: String, Sendable, Hashable, CaseIterable {
    /// 8-bit grayscale.
    case l = "L"
    /// 8-bit grayscale with alpha.
    case la = "LA"
    /// 8-bit red, green, blue.
    case rgb = "RGB"
    /// 8-bit red, green, blue, alpha.
    case rgba = "RGBA"

    /// The number of interleaved bytes per pixel.
    public var channels: Int {
        switch self {
        case .l: return 1
        case .la: return 2
        case .rgb: return 3
        case .rgba: return 4
        }
    }

    /// Whether the last channel is alpha.
    public var hasAlpha: Bool { self == .la || self == .rgba }

    /// The mode with `channels` bytes per pixel.
    init?(channels: Int) {
        switch channels {
        case 1: self = .l
        case 2: self = .la
        case 3: self = .rgb
        case 4: self = .rgba
        default: return nil
        }
    }

    /// Parses a mode name as Pillow's `convert()` takes it (`'L'`, `'RGB'`, `'RGBA'`, `'LA'`).
    public init?(name: String) {
        guard let m = ImageMode(rawValue: name.uppercased()) else { return nil }
        self = m
    }
}
