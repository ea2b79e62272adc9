/// Why an image could not be read or written.
public struct ImageCodecError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, which decides the Python exception name a cell error shows.
    public enum Kind: Sendable, Hashable {
        /// Not an image format pxt knows (Pillow's `UnidentifiedImageError`).
        case unidentified
        /// The file ends before the image does.
        case truncated
        /// Recognized but broken, unsupported or too large.
        case broken
    }

    /// The kind of failure.
    public var kind: Kind
    /// What was wrong, e.g. `image file is truncated`.
    public var message: String

    /// A new error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The error as a function error, named as Pillow's exceptions are.
    var functionError: FunctionError {
        FunctionError(kind == .unidentified ? "UnidentifiedImageError" : "OSError", message)
    }
}
