import Foundation
import Synchronization

/// What a function parameter accepts.
public enum ParameterType: Sendable, Hashable, CustomStringConvertible {
    case any
    case string
    case int
    /// Int or Float (Bool is not a number here).
    case number
    case float
    case bool
    case json
    case timestamp
    case date
    case uuid
    case array
    case binary
    /// Any media type (Image, Video, Audio, Document).
    case media
    /// Exactly this kind.
    case kind(ColumnType.Kind)

    /// Whether an argument of type `t` may be passed; JSON arguments are checked when evaluated.
    public func accepts(_ t: ColumnType) -> Bool {
        if t.kind == .json { return true }
        switch self {
        case .any: return true
        case .string: return t.kind == .string
        case .int: return t.kind == .int
        case .number, .float: return t.kind == .int || t.kind == .float
        case .bool: return t.kind == .bool
        case .json: return true
        case .timestamp: return t.kind == .timestamp
        case .date: return t.kind == .date
        case .uuid: return t.kind == .uuid
        case .array: return t.kind == .array
        case .binary: return t.kind == .binary
        case .media: return t.isMedia
        case .kind(let k): return t.kind == k
        }
    }

    /// The column type values are converted to before the function sees them, if fixed.
    var conversionTarget: ColumnType? {
        switch self {
        case .string: return .string
        case .int: return .int
        case .float: return .float
        case .bool: return .bool
        case .timestamp: return .timestamp
        case .date: return .date
        case .uuid: return .uuid
        case .kind(let k) where k != .array: return ColumnType(k)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .any: return "any"
        case .string: return "String"
        case .int: return "Int"
        case .number: return "Int or Float"
        case .float: return "Float"
        case .bool: return "Bool"
        case .json: return "Json"
        case .timestamp: return "Timestamp"
        case .date: return "Date"
        case .uuid: return "UUID"
        case .array: return "Array"
        case .binary: return "Binary"
        case .media: return "a media type"
        case .kind(let k): return k.rawValue
        }
    }
}

/// One declared parameter of a function.
public struct FunctionParameter: Sendable {
    /// The parameter's name, usable as a keyword argument.
    public var name: String
    /// What it accepts.
    public var type: ParameterType
    /// The default used when the argument is omitted; `nil` makes it required.
    public var defaultValue: Value?

    /// A parameter.
    public init(_ name: String, _ type: ParameterType, default defaultValue: Value? = nil) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
    }
}

/// An error raised by a function while it runs; its `type` becomes a cell's `errortype`.
public struct FunctionError: Error, Sendable, CustomStringConvertible {
    /// The Python-style exception name, e.g. `ValueError`.
    public var type: String
    /// The message, which becomes a cell's `errormsg`.
    public var message: String

    /// A new error.
    public init(_ type: String = "ValueError", _ message: String) {
        self.type = type
        self.message = message
    }

    public var description: String { "\(type): \(message)" }
}

/// What a function may need from the catalog it runs in: where models and media are.
public struct FunctionContext: Sendable {
    /// The home directory (models are looked up in its `models/`), if known.
    public var home: HomeDirectory?
    /// The home's media files.
    public var media: MediaStore?
    /// The environment the catalog was opened with (provider credentials and endpoints).
    public var environment: [String: String]

    /// The process's environment, read once.
    public static let processEnvironment = ProcessInfo.processInfo.environment

    /// A context.
    public init(home: HomeDirectory? = nil, media: MediaStore? = nil, environment: [String: String] = FunctionContext.processEnvironment) {
        self.home = home ?? media?.home
        self.media = media
        self.environment = environment
    }
}

/// A function callable from expressions, e.g. `string.upper`.
public struct ExpressionFunction: Sendable {
    /// The qualified name, `namespace.name`.
    public let name: String
    /// The parameters, in order; the first is the receiver of the method form `x.f()`.
    public let parameters: [FunctionParameter]
    /// Further positional arguments of the last parameter's type are accepted.
    public let isVariadic: Bool
    /// The result type, given the argument types.
    public let returnType: @Sendable ([ColumnType]) -> ColumnType
    /// When false, a null argument does not short-circuit to a null result.
    public let propagatesNull: Bool
    /// Whether calls return the same value for the same arguments (false for `uuid4`).
    public let isDeterministic: Bool
    /// Whether the function is written as a property of its one argument, without parentheses
    /// (`photo.width`), as Pixeltable's `is_property=True` UDFs are.
    public let isProperty: Bool
    /// The implementation; arguments arrive converted to the declared types.
    public let implementation: @Sendable ([Value]) throws -> Value
    /// An implementation that needs the catalog's context (models, media), used instead of
    /// `implementation` when set.
    public var contextual: (@Sendable (FunctionContext, [Value]) throws -> Value)? = nil
    /// Evaluates many calls at once (a model runs a batch of rows in one pass); one result per
    /// argument list, in order. Used by writes and index builds when set.
    public var batch: (@Sendable (FunctionContext, [[Value]]) -> [Result<Value, FunctionError>])? = nil
    /// Checks literal arguments when an expression is created (a model that is not installed),
    /// returning what is wrong; `nil` entries are arguments that are not literals.
    public var check: (@Sendable (FunctionContext, [Value?]) -> String?)? = nil

    /// Calls the function with converted arguments.
    public func call(_ context: FunctionContext, _ args: [Value]) throws(FunctionError) -> Value {
        do {
            if let contextual { return try contextual(context, args) }
            return try implementation(args)
        } catch let e as FunctionError {
            throw e
        } catch {
            throw FunctionError(String(describing: type(of: error)), String(describing: error))
        }
    }

    /// A function with a fixed result type.
    public init(
        _ name: String, _ parameters: [FunctionParameter], returns: ColumnType, variadic: Bool = false,
        propagatesNull: Bool = true, deterministic: Bool = true, property: Bool = false,
        _ implementation: @escaping @Sendable ([Value]) throws -> Value
    ) {
        self.init(
            name, parameters, returnType: { _ in returns }, variadic: variadic, propagatesNull: propagatesNull,
            deterministic: deterministic, property: property, implementation)
    }

    /// A function whose result type depends on its argument types.
    public init(
        _ name: String, _ parameters: [FunctionParameter], returnType: @escaping @Sendable ([ColumnType]) -> ColumnType,
        variadic: Bool = false, propagatesNull: Bool = true, deterministic: Bool = true, property: Bool = false,
        _ implementation: @escaping @Sendable ([Value]) throws -> Value
    ) {
        self.isProperty = property
        self.name = name
        self.parameters = parameters
        self.returnType = returnType
        self.isVariadic = variadic
        self.propagatesNull = propagatesNull
        self.isDeterministic = deterministic
        self.implementation = implementation
    }

    /// The namespace part of the name (`string` for `string.upper`).
    public var namespace: String {
        guard let dot = name.lastIndex(of: ".") else { return "" }
        return String(name[..<dot])
    }

    /// The leaf part of the name (`upper` for `string.upper`).
    public var leafName: String {
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[name.index(after: dot)...])
    }

    /// A signature for messages: `string.replace(self: String, old: String, new: String)`.
    public var signatureDescription: String {
        name + "(" + parameters.map { "\($0.name): \($0.type)" }.joined(separator: ", ") + (isVariadic ? ", ..." : "") + ")"
    }
}

/// The functions expressions can call: the built-ins, plus any a Swift program registers.
public final class FunctionRegistry: Sendable {
    private let functions: Mutex<[String: ExpressionFunction]>

    /// A registry holding the built-in functions.
    public init() {
        var table: [String: ExpressionFunction] = [:]
        for f in BuiltinFunctions.all { table[f.name] = f }
        functions = Mutex(table)
    }

    /// Adds or replaces a function. Its name must be `namespace.name`.
    public func register(_ function: ExpressionFunction) throws(PixeltableError) {
        let parts = function.name.split(separator: ".")
        guard parts.count >= 2, parts.allSatisfy({ $0.first.map { $0.isLetter || $0 == "_" } ?? false }) else {
            throw PixeltableError(.invalidArgument, "function name '\(function.name)' must be 'namespace.name'")
        }
        functions.withLock { $0[function.name] = function }
    }

    /// The function with this qualified name.
    public func function(named name: String) -> ExpressionFunction? {
        functions.withLock { $0[name] }
    }

    /// Every function whose leaf name is `leaf`.
    func candidates(leaf: String) -> [ExpressionFunction] {
        functions.withLock { table in table.values.filter { $0.leafName == leaf } }.sorted { $0.name < $1.name }
    }

    /// Whether any function lives in `namespace`.
    func hasNamespace(_ namespace: String) -> Bool {
        functions.withLock { table in table.values.contains { $0.namespace == namespace } }
    }

    /// All qualified names, sorted.
    public var names: [String] { functions.withLock { Array($0.keys) }.sorted() }
}
