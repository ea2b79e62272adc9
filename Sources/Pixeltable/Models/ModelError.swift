/// Why a model could not be found, read or run.
public struct ModelError: Error, Sendable, CustomStringConvertible {
    /// What was wrong, naming the model or the file.
    public var message: String

    /// A new error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }

    /// The error as a function error, which a computed cell stores.
    var functionError: FunctionError { FunctionError("OSError", message) }
}
