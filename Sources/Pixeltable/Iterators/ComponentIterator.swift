import Foundation

/// One output column of a component view's iterator.
struct IteratorOutput: Sendable, Hashable {
    var name: String
    var type: ColumnType
}

/// What turns one base row into the rows of a component view: a video into frames, an audio
/// file into segments, a document into passages (Pixeltable's `ComponentIterator`).
///
/// An iterator is made from the literal arguments of its call (checked when the view is
/// created), and then asked for the components of each base row's input value; each component
/// is one view row, the values in ``outputs`` order. Errors are ``FunctionError``s: a file the
/// iterator cannot read fails the base row's write with the view, the row and the file named.
protocol ComponentIterator: Sendable {
    /// The output columns, in order.
    var outputs: [IteratorOutput] { get }
    /// The components of one input value; each inner array holds one value per output.
    func components(of input: Value, context: FunctionContext) throws(FunctionError) -> [[Value]]
}

/// A kind of iterator: its name as written in a view's `iterator` call, the type of its input
/// and its parameters (after the input), and how to make one from arguments.
struct IteratorKind: Sendable {
    /// The qualified name, e.g. `video.frame_iterator`.
    var name: String
    /// The input column's kind.
    var input: ColumnType.Kind
    /// Parameters after the input, with their defaults (`nil`: required).
    var parameters: [FunctionParameter]
    /// Makes an iterator from arguments by parameter name (defaults filled in).
    var make: @Sendable ([String: Value]) throws(FunctionError) -> any ComponentIterator

    /// Every iterator pxt knows, by name.
    static let all: [String: IteratorKind] = {
        var out: [String: IteratorKind] = [:]
        for k in [FrameIterator.kind, AudioSplitterIterator.kind, DocumentSplitterIterator.kind, StringSplitterIterator.kind] { out[k.name] = k }
        return out
    }()
}

/// A parsed iterator call such as `video.frame_iterator(video, fps=1)`: the iterator, the base
/// column it reads, and its literal arguments.
struct IteratorCall: Sendable {
    var kind: IteratorKind
    var inputColumn: String
    var arguments: [String: Value]
    /// The call as written.
    var text: String? = nil

    /// Parses and checks a call against the base's columns.
    ///
    /// - Throws: INVALID_ARGUMENT naming the problem: an unknown iterator (listing the known
    ///   ones), an input that is not a column of the base or of the wrong type, a non-literal or
    ///   unknown argument, a missing required one, or a value the iterator refuses.
    static func parse(_ text: String, base: TableSnapshot) throws(PixeltableError) -> (IteratorCall, any ComponentIterator) {
        let syntax: Syntax
        do { syntax = try ExpressionParser.parse(text) } catch { throw error.pixeltableError }
        guard case .call(let callee, let args, let kwargs) = syntax.kind, let name = callee.dottedName?.joined(separator: ".") else {
            throw PixeltableError(.invalidArgument, "iterator '\(text)' must be a call such as video.frame_iterator(video, fps=1)")
        }
        let qualified = IteratorKind.all[name] ?? IteratorKind.all.values.first { $0.name.hasSuffix("." + name) }
        guard let kind = qualified else {
            throw PixeltableError(
                .invalidArgument, "unknown iterator '\(name)' in '\(text)'; pxt has \(IteratorKind.all.keys.sorted().joined(separator: ", "))")
        }
        guard let first = args.first, case .name(let column) = first.kind else {
            throw PixeltableError(.invalidArgument, "\(kind.name)(): the first argument must be a column of '\(base.path)', as in \(kind.name)(\(kind.input.rawValue.lowercased()), ...)")
        }
        let c = try base.column(column)
        guard c.type.kind == kind.input else {
            throw PixeltableError(
                .typeMismatch, "\(kind.name)(): column '\(column)' of '\(base.path)' is \(c.type.baseDescription); the iterator takes \(kind.input.rawValue)")
        }
        var given: [String: Value] = [:]
        func literal(_ s: Syntax, _ param: String) throws(PixeltableError) -> Value {
            switch s.kind {
            case .literal(let v): return v
            case .unary(.negate, let inner):
                if case .literal(.int(let i)) = inner.kind { return .int(-i) }
                if case .literal(.float(let d)) = inner.kind { return .float(-d) }
            default: break
            }
            throw PixeltableError(.invalidArgument, "\(kind.name)(): argument '\(param)' must be a literal value")
        }
        let positional = Array(args.dropFirst())
        guard positional.count <= kind.parameters.count else {
            throw PixeltableError(.invalidArgument, "\(kind.name)() takes at most \(kind.parameters.count + 1) positional arguments")
        }
        for (p, a) in zip(kind.parameters, positional) { given[p.name] = try literal(a, p.name) }
        for kw in kwargs {
            guard kind.parameters.contains(where: { $0.name == kw.name }) else {
                throw PixeltableError(
                    .invalidArgument,
                    "\(kind.name)(): unknown argument '\(kw.name)'; it takes \(kind.parameters.map(\.name).joined(separator: ", "))")
            }
            guard given[kw.name] == nil else { throw PixeltableError(.invalidArgument, "\(kind.name)(): argument '\(kw.name)' given twice") }
            given[kw.name] = try literal(kw.value, kw.name)
        }
        var arguments: [String: Value] = [:]
        for p in kind.parameters {
            if let v = given[p.name] {
                arguments[p.name] = v
            } else if let d = p.defaultValue {
                arguments[p.name] = d
            } else {
                throw PixeltableError(.invalidArgument, "\(kind.name)(): missing required argument '\(p.name)'")
            }
        }
        let call = IteratorCall(kind: kind, inputColumn: column, arguments: arguments)
        return (call, try call.makeIterator())
    }

    /// The iterator these arguments make.
    func makeIterator() throws(PixeltableError) -> any ComponentIterator {
        do { return try kind.make(arguments) } catch { throw PixeltableError(.invalidArgument, "\(kind.name)(): \(error.message)") }
    }

    /// The call as text, arguments in parameter order (for `describe` and module diffs).
    func display(inputName: String) -> String {
        var parts = [inputName]
        for p in kind.parameters {
            guard let v = arguments[p.name], v != p.defaultValue else { continue }
            parts.append("\(p.name)=\(IteratorCall.literalText(v))")
        }
        return "\(kind.name)(\(parts.joined(separator: ", ")))"
    }

    static func literalText(_ v: Value) -> String {
        switch v {
        case .string(let s): return PythonRepr.string(s)
        case .bool(let b): return b ? "True" : "False"
        case .null: return "None"
        default: return v.displayString
        }
    }
}

/// Reading iterator arguments, which arrive as literals of any type.
enum IteratorArguments {
    static func double(_ a: [String: Value], _ name: String) throws(FunctionError) -> Double? {
        switch a[name] ?? .null {
        case .null: return nil
        case .int(let i): return Double(i)
        case .float(let d): return d
        default: throw FunctionError("TypeError", "'\(name)' must be a number")
        }
    }

    static func int(_ a: [String: Value], _ name: String) throws(FunctionError) -> Int? {
        switch a[name] ?? .null {
        case .null: return nil
        case .int(let i): return Int(clamping: i)
        case .float(let d) where d.rounded() == d && abs(d) < 1e15: return Int(d)
        default: throw FunctionError("TypeError", "'\(name)' must be an integer")
        }
    }

    static func bool(_ a: [String: Value], _ name: String) throws(FunctionError) -> Bool {
        switch a[name] ?? .null {
        case .null: return false
        case .bool(let b): return b
        default: throw FunctionError("TypeError", "'\(name)' must be True or False")
        }
    }

    static func string(_ a: [String: Value], _ name: String) throws(FunctionError) -> String? {
        switch a[name] ?? .null {
        case .null: return nil
        case .string(let s): return s
        default: throw FunctionError("TypeError", "'\(name)' must be a string")
        }
    }
}
