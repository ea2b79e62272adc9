/// A type-checked expression whose column references are resolved to column ids.
public struct TypedExpr: Sendable {
    /// A per-cell property of a column, read as `col.errortype`.
    public enum ColumnProperty: String, Sendable, Hashable {
        case errortype, errormsg, fileurl, localpath
    }

    indirect enum Node: Sendable {
        case literal(Value)
        case column(Int)
        case property(Int, ColumnProperty)
        case param(String)
        case member(TypedExpr, String)
        case index(TypedExpr, TypedExpr)
        case unary(UnaryOperator, TypedExpr)
        case binary(BinaryOperator, TypedExpr, TypedExpr)
        case isNull(TypedExpr, negated: Bool)
        case inList(TypedExpr, TypedExpr, negated: Bool)
        case call(ExpressionFunction, [TypedExpr])
        case cast(TypedExpr, ColumnType)
        case list([TypedExpr])
        case dict([(String, TypedExpr)])
        /// Similarity of a column's embedding (through an embedding index) to a query value.
        case similarity(column: Int, index: ExpressionScope.EmbeddingIndex, query: TypedExpr)
    }

    /// The result type.
    public let type: ColumnType
    let node: Node

    init(_ node: Node, _ type: ColumnType) {
        self.node = node
        self.type = type
    }

    /// The ids of the columns this expression reads.
    public var columnIDs: Set<Int> {
        var out = Set<Int>()
        visit { e in
            switch e.node {
            case .column(let id), .property(let id, _): out.insert(id)
            case .similarity(let id, _, _): out.insert(id)
            default: break
            }
        }
        return out
    }

    /// The names of the query parameters this expression reads.
    public var parameterNames: Set<String> {
        var out = Set<String>()
        visit { e in if case .param(let p) = e.node { out.insert(p) } }
        return out
    }

    /// Whether the same inputs always give the same result.
    public var isDeterministic: Bool {
        var ok = true
        visit { e in if case .call(let f, _) = e.node, !f.isDeterministic { ok = false } }
        return ok
    }

    /// Whether this is a bare column reference, and which.
    public var columnID: Int? {
        if case .column(let id) = node { return id }
        return nil
    }

    func visit(_ f: (TypedExpr) -> Void) {
        f(self)
        switch node {
        case .literal, .column, .property, .param: break
        case .member(let e, _), .unary(_, let e), .isNull(let e, _), .cast(let e, _): e.visit(f)
        case .index(let a, let b), .binary(_, let a, let b), .inList(let a, let b, _):
            a.visit(f)
            b.visit(f)
        case .call(_, let args), .list(let args): for a in args { a.visit(f) }
        case .dict(let entries): for (_, e) in entries { e.visit(f) }
        case .similarity(_, _, let q): q.visit(f)
        }
    }
}
