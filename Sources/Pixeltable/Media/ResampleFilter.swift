import Foundation

/// A resampling filter, numbered as Pillow's `Image.Resampling`.
public enum ResampleFilter: Int, Sendable, Hashable, CaseIterable {
    case nearest = 0
    case lanczos = 1
    case bilinear = 2
    case bicubic = 3
    case box = 4
    case hamming = 5

    /// How far the filter reaches, in source pixels at scale 1.
    var support: Double {
        switch self {
        case .nearest: return 0
        case .box: return 0.5
        case .bilinear, .hamming: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// The kernel's weight at distance `x`, as Pillow's `Resample.c` defines it.
    func weight(_ x: Double) -> Double {
        switch self {
        case .nearest, .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let a = abs(x)
            return a < 1 ? 1 - a : 0
        case .hamming:
            let a = abs(x)
            if a == 0 { return 1 }
            if a >= 1 { return 0 }
            let p = a * .pi
            return sin(p) / p * (0.54 + 0.46 * cos(p))
        case .bicubic:
            let a = abs(x)
            let k = -0.5
            if a < 1 { return ((k + 2) * a - (k + 3)) * a * a + 1 }
            if a < 2 { return (((a - 5) * a + 8) * a - 4) * k }
            return 0
        case .lanczos:
            guard x >= -3 && x < 3 else { return 0 }
            return Self.sinc(x) * Self.sinc(x / 3)
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let p = x * .pi
        return sin(p) / p
    }

    /// Parses Pillow's names (`'lanczos'`, `'BICUBIC'`) or numbers.
    public init?(name: String) {
        switch name.lowercased() {
        case "nearest": self = .nearest
        case "lanczos", "antialias": self = .lanczos
        case "bilinear", "linear": self = .bilinear
        case "bicubic", "cubic": self = .bicubic
        case "box": self = .box
        case "hamming": self = .hamming
        default:
            guard let n = Int(name), let f = ResampleFilter(rawValue: n) else { return nil }
            self = f
        }
    }
}
