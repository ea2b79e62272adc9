/// Binds select lists: expressions with optional `as name`, and the names of unnamed items.
enum SelectList {
    static func bind(_ items: [String], _ snap: TableSnapshot, parameters: [String: ColumnType]?) throws(PixeltableError) -> [(String, TypedExpr)] {
        var out: [(String, TypedExpr)] = []
        var used = Set<String>()
        for (i, text) in items.enumerated() {
            let syntax: Syntax
            do { syntax = try ExpressionParser.parse(text, allowAlias: true) } catch { throw error.pixeltableError }
            var inner = syntax
            var name: String? = nil
            if case .alias(let e, let n) = syntax.kind {
                inner = e
                name = n
            }
            var scope = snap.scope
            scope.parameters = parameters
            let typed: TypedExpr
            do { (typed, _) = try ExpressionBinder(scope: scope, source: text).bind(inner) } catch { throw error.pixeltableError }
            var n = name ?? defaultName(inner, index: i)
            if name != nil, used.contains(n) {
                throw PixeltableError(.invalidArgument, "duplicate select item name '\(n)'")
            }
            var k = 1
            let base = n
            while used.contains(n) {
                n = "\(base)_\(k)"
                k += 1
            }
            used.insert(n)
            out.append((n, typed))
        }
        return out
    }

    /// Pixeltable's default names: a column's name, a function's name, else `col_<i>`.
    static func defaultName(_ s: Syntax, index: Int) -> String {
        switch s.kind {
        case .name(let n): return n
        case .member(_, let m): return m
        case .call(let callee, _, _):
            if let parts = callee.dottedName { return parts.last ?? "col_\(index)" }
            if case .member(_, let m) = callee.kind { return m }
            return "col_\(index)"
        default: return "col_\(index)"
        }
    }
}
