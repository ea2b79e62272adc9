/// An expression as written, before names are resolved: the parser's output.
///
/// Every node carries the 0-based character offset where it starts, so that type errors can
/// point at the place in the source text.
public struct Syntax: Sendable, Hashable {
    /// What the node is.
    public indirect enum Kind: Sendable, Hashable {
        case literal(Value)
        case name(String)
        /// A column by its catalog id: the stored form of a column reference.
        case columnID(Int)
        case param(String)
        case member(Syntax, String)
        case index(Syntax, Syntax)
        case unary(UnaryOperator, Syntax)
        case binary(BinaryOperator, Syntax, Syntax)
        case isNull(Syntax, negated: Bool)
        case inList(Syntax, Syntax, negated: Bool)
        case call(Syntax, [Syntax], [KeywordArgument])
        case list([Syntax])
        case dict([DictEntry])
        case alias(Syntax, String)
    }

    /// A `name=value` argument.
    public struct KeywordArgument: Sendable, Hashable {
        public var name: String
        public var value: Syntax
    }

    /// A `"key": value` entry of a dict literal.
    public struct DictEntry: Sendable, Hashable {
        public var key: String
        public var value: Syntax
    }

    /// The node.
    public var kind: Kind
    /// Where the node starts in the source, as a 0-based character offset.
    public var offset: Int
    /// For a member access `x.name`, where `name` starts: an unknown method is reported there
    /// rather than at `x`. Not stored with the catalog's trees, which are checked already.
    var nameOffset: Int?

    init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    /// For a dotted name such as `string.upper` or `meta.key`, the parts; `nil` otherwise.
    var dottedName: [String]? {
        switch kind {
        case .name(let n): return [n]
        case .member(let base, let m): return base.dottedName.map { $0 + [m] }
        default: return nil
        }
    }
}

/// A prefix operator.
public enum UnaryOperator: String, Sendable, Hashable, Codable {
    case negate = "-"
    case not = "not"
}

/// An infix operator.
public enum BinaryOperator: String, Sendable, Hashable, Codable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%"
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case and, or

    /// Whether the operator compares its operands.
    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: return true
        default: return false
        }
    }

    /// Binding strength, loosest first, as MODULES.md lists it.
    var precedence: Int {
        switch self {
        case .or: return 1
        case .and: return 2
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: return 4
        case .add, .subtract: return 5
        case .multiply, .divide, .floorDivide, .modulo: return 6
        }
    }
}
