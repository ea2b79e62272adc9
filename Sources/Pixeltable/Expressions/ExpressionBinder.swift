import Foundation

/// What names an expression can see: columns, query parameters, functions and embedding indexes.
public struct ExpressionScope: Sendable {
    /// A column visible to expressions.
    public struct Column: Sendable {
        public var id: Int
        public var name: String
        public var type: ColumnType
        public var isComputed: Bool
    }

    /// An embedding index an expression can search through `col.similarity(x)`.
    public struct EmbeddingIndex: Sendable {
        /// The index's name.
        public var name: String
        /// The indexed column.
        public var columnID: Int
        /// The hidden column holding the row's vectors.
        public var vectorColumnID: Int
        /// The embedding function; a query value is embedded with it.
        public var embed: ExpressionFunction
        /// Its arguments after the embedded value (`model_id=...`), all literals.
        public var arguments: [Value]
        /// How vectors are compared.
        public var metric: VectorMetric
    }

    var byName: [String: Column] = [:]
    var byID: [Int: Column] = [:]
    /// The parameters `:name` may refer to; `nil` when parameters are not allowed.
    var parameters: [String: ColumnType]?
    var functions: FunctionRegistry
    var embeddingIndexes: [EmbeddingIndex] = []
    /// Where functions check their literal arguments when an expression is created (a model
    /// that is not installed fails then, naming what was searched); `nil` skips the checks, so
    /// that stored expressions always bind and their rows get per-cell errors instead.
    var checkContext: FunctionContext? = nil

    /// A scope over the given columns.
    init(columns: [Column], parameters: [String: ColumnType]? = nil, functions: FunctionRegistry, embeddingIndexes: [EmbeddingIndex] = []) {
        for c in columns {
            byName[c.name] = c
            byID[c.id] = c
        }
        self.parameters = parameters
        self.functions = functions
        self.embeddingIndexes = embeddingIndexes
    }
}

/// Resolves names and checks types, turning ``Syntax`` into a ``TypedExpr``.
///
/// It also returns the syntax with column names replaced by column ids: the form stored in the
/// catalog, which survives column renames.
struct ExpressionBinder {
    let scope: ExpressionScope
    let source: String

    /// Binds `syntax`, returning the typed expression and the stored (id-based) syntax.
    func bind(_ syntax: Syntax) throws(ExpressionError) -> (TypedExpr, Syntax) {
        try bindNode(syntax)
    }

    private func error(_ message: String, _ s: Syntax) -> ExpressionError {
        ExpressionError(message: message, offset: s.offset, source: source)
    }

    /// An error about the name of a member access (`x.name`), placed at the name.
    private func nameError(_ message: String, _ s: Syntax) -> ExpressionError {
        ExpressionError(message: message, offset: s.nameOffset ?? s.offset, source: source)
    }

    private func columnRef(_ c: ExpressionScope.Column, _ s: Syntax) -> (TypedExpr, Syntax) {
        (TypedExpr(.column(c.id), c.type), Syntax(.columnID(c.id), at: s.offset))
    }

    private func bindNode(_ s: Syntax) throws(ExpressionError) -> (TypedExpr, Syntax) {
        switch s.kind {
        case .literal(let v):
            let t: ColumnType = v.isNull ? ColumnType(.json, nullable: true) : v.inferredType
            return (TypedExpr(.literal(v), t), s)
        case .name(let n):
            guard let c = scope.byName[n] else {
                throw error("unknown column '\(n)'\(suggestion(n))", s)
            }
            return columnRef(c, s)
        case .columnID(let id):
            guard let c = scope.byID[id] else { throw error("column #\(id) no longer exists", s) }
            return columnRef(c, s)
        case .param(let p):
            guard let params = scope.parameters else {
                throw error("parameter ':\(p)' is only allowed in queries", s)
            }
            guard let t = params[p] else {
                let known = params.keys.sorted().map { ":" + $0 }.joined(separator: ", ")
                throw error("unknown parameter ':\(p)'" + (known.isEmpty ? "; the query declares no parameters" : "; declared: \(known)"), s)
            }
            return (TypedExpr(.param(p), t), s)
        case .member(let base, let name):
            let (b, bs) = try bindNode(base)
            let out = Syntax(.member(bs, name), at: s.offset)
            if b.type.kind == .json {
                return (TypedExpr(.member(b, name), ColumnType(.json, nullable: true)), out)
            }
            // A property function of the receiver's type: `photo.width`, `photo.size`.
            if let ns = Self.namespaces(for: b.type).first, let f = scope.functions.function(named: "\(ns).\(name)"), f.isProperty {
                return (TypedExpr(.call(f, [b]), f.returnType([b.type])), out)
            }
            if let id = b.columnID, let prop = TypedExpr.ColumnProperty(rawValue: name) {
                switch prop {
                case .errortype, .errormsg:
                    return (TypedExpr(.property(id, prop), ColumnType(.string, nullable: true)), out)
                case .fileurl, .localpath:
                    guard b.type.isMedia else { throw error("'\(name)' applies to media columns only, not \(b.type.baseDescription)", s) }
                    return (TypedExpr(.property(id, prop), ColumnType(.string, nullable: b.type.nullable)), out)
                }
            }
            throw error("\(b.type.baseDescription) value has no attribute '\(name)'", s)
        case .index(let base, let idx):
            let (b, bs) = try bindNode(base)
            let (i, iss) = try bindNode(idx)
            let out = Syntax(.index(bs, iss), at: s.offset)
            switch b.type.kind {
            case .json:
                return (TypedExpr(.index(b, i), ColumnType(.json, nullable: true)), out)
            case .string:
                guard i.type.kind == .int || i.type.kind == .json else { throw error("string indexes must be Int, not \(i.type.baseDescription)", idx) }
                return (TypedExpr(.index(b, i), ColumnType(.string, nullable: true)), out)
            case .array:
                guard i.type.kind == .int || i.type.kind == .json else { throw error("array indexes must be Int, not \(i.type.baseDescription)", idx) }
                return (TypedExpr(.index(b, i), ColumnType(.json, nullable: true)), out)
            default:
                throw error("\(b.type.baseDescription) values cannot be indexed", s)
            }
        case .unary(let op, let operand):
            let (e, es) = try bindNode(operand)
            let out = Syntax(.unary(op, es), at: s.offset)
            switch op {
            case .negate:
                guard e.type.isNumeric || e.type.kind == .json else { throw error("cannot negate a \(e.type.baseDescription)", s) }
                return (TypedExpr(.unary(op, e), e.type), out)
            case .not:
                guard e.type.kind == .bool || e.type.kind == .json else { throw error("'not' needs a Bool, got \(e.type.baseDescription)", s) }
                return (TypedExpr(.unary(op, e), ColumnType(.bool, nullable: e.type.nullable)), out)
            }
        case .binary(let op, let l, let r):
            let (a, asx) = try bindNode(l)
            let (b, bsx) = try bindNode(r)
            let out = Syntax(.binary(op, asx, bsx), at: s.offset)
            return (TypedExpr(.binary(op, a, b), try binaryType(op, a.type, b.type, s)), out)
        case .isNull(let e, let negated):
            let (x, xs) = try bindNode(e)
            return (TypedExpr(.isNull(x, negated: negated), ColumnType(.bool, nullable: false)), Syntax(.isNull(xs, negated: negated), at: s.offset))
        case .inList(let e, let list, let negated):
            let (x, xs) = try bindNode(e)
            let (l, ls) = try bindNode(list)
            guard l.type.kind == .json else { throw error("'in' needs a list on its right, got \(l.type.baseDescription)", list) }
            if case .list(let items) = l.node {
                for item in items where !comparable(x.type, item.type) {
                    throw error("cannot compare \(x.type.baseDescription) with \(item.type.baseDescription) in 'in'", list)
                }
            }
            return (TypedExpr(.inList(x, l, negated: negated), ColumnType(.bool, nullable: x.type.nullable)), Syntax(.inList(xs, ls, negated: negated), at: s.offset))
        case .list(let items):
            var typed: [TypedExpr] = []
            var stored: [Syntax] = []
            for item in items {
                let (t, ts) = try bindNode(item)
                typed.append(t)
                stored.append(ts)
            }
            return (TypedExpr(.list(typed), ColumnType(.json, nullable: false)), Syntax(.list(stored), at: s.offset))
        case .dict(let entries):
            var typed: [(String, TypedExpr)] = []
            var stored: [Syntax.DictEntry] = []
            for e in entries {
                let (t, ts) = try bindNode(e.value)
                typed.append((e.key, t))
                stored.append(.init(key: e.key, value: ts))
            }
            return (TypedExpr(.dict(typed), ColumnType(.json, nullable: false)), Syntax(.dict(stored), at: s.offset))
        case .call(let callee, let args, let kwargs):
            return try bindCall(s, callee: callee, args: args, kwargs: kwargs)
        case .alias:
            throw error("'as' is only allowed at the top of a select item", s)
        }
    }

    private func suggestion(_ name: String) -> String {
        let lower = name.lowercased()
        let close = scope.byName.keys.filter { k in
            k.lowercased() == lower || editDistance(k.lowercased(), lower) <= max(2, lower.count / 3)
        }.sorted()
        guard let best = close.first else { return "" }
        return "; did you mean '\(best)'?"
    }

    func comparable(_ a: ColumnType, _ b: ColumnType) -> Bool {
        if a.kind == .json || b.kind == .json { return true }
        if a.isNumeric && b.isNumeric { return true }
        if a.kind == b.kind { return true }
        if a.isMedia && b.kind == .string || b.isMedia && a.kind == .string { return true }
        if (a.kind == .timestamp && b.kind == .date) || (a.kind == .date && b.kind == .timestamp) { return true }
        return false
    }

    private func binaryType(_ op: BinaryOperator, _ a: ColumnType, _ b: ColumnType, _ s: Syntax) throws(ExpressionError) -> ColumnType {
        let nullable = a.nullable || b.nullable
        let dynamic = a.kind == .json || b.kind == .json
        func bad() -> ExpressionError {
            error("operator '\(op.rawValue)' does not apply to \(a.baseDescription) and \(b.baseDescription)", s)
        }
        switch op {
        case .and, .or:
            guard (a.kind == .bool || a.kind == .json) && (b.kind == .bool || b.kind == .json) else { throw bad() }
            return ColumnType(.bool, nullable: nullable)
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard comparable(a, b) else { throw bad() }
            return ColumnType(.bool, nullable: nullable)
        case .add:
            if dynamic { return ColumnType(.json, nullable: true) }
            if a.kind == .string && b.kind == .string { return ColumnType(.string, nullable: nullable) }
            guard a.isNumeric && b.isNumeric else { throw bad() }
            return ColumnType(a.kind == .int && b.kind == .int ? .int : .float, nullable: nullable)
        case .subtract, .multiply, .floorDivide, .modulo:
            if dynamic { return ColumnType(.json, nullable: true) }
            guard a.isNumeric && b.isNumeric else { throw bad() }
            return ColumnType(a.kind == .int && b.kind == .int ? .int : .float, nullable: nullable)
        case .divide:
            if dynamic { return ColumnType(.json, nullable: true) }
            guard a.isNumeric && b.isNumeric else { throw bad() }
            return ColumnType(.float, nullable: nullable)
        }
    }

    // MARK: calls

    private func bindCall(_ s: Syntax, callee: Syntax, args: [Syntax], kwargs: [Syntax.KeywordArgument]) throws(ExpressionError) -> (TypedExpr, Syntax) {
        // `namespace.name(...)` where the first part is not a column: a function call.
        if let parts = callee.dottedName, parts.count >= 2, scope.byName[parts[0]] == nil {
            let ns = parts.dropLast().joined(separator: ".")
            let name = parts.joined(separator: ".")
            if let f = scope.functions.function(named: name) {
                return try bindFunction(f, s, callee: callee, receiver: nil, args: args, kwargs: kwargs)
            }
            if scope.functions.hasNamespace(ns) {
                throw nameError("unknown function '\(name)'", callee)
            }
            if parts.count == 2 {
                throw error("unknown column '\(parts[0])'\(suggestion(parts[0]))", callee)
            }
        }
        switch callee.kind {
        case .name(let fname) where scope.byName[fname] == nil || !args.isEmpty:
            // Unqualified call: pick by the first argument's type.
            guard let first = args.first else {
                let cands = scope.functions.candidates(leaf: fname).filter { $0.parameters.isEmpty }
                guard let f = cands.first else { throw error("unknown function '\(fname)'", callee) }
                return try bindFunction(f, s, callee: callee, receiver: nil, args: args, kwargs: kwargs)
            }
            let (r, _) = try bindNode(first)
            let f = try resolve(fname, receiverType: r.type, at: callee)
            return try bindFunction(f, s, callee: callee, receiver: nil, args: args, kwargs: kwargs)
        case .member(let receiver, let method):
            let (r, rs) = try bindNode(receiver)
            if method == "astype" { return try bindAsType(s, receiver: r, receiverSyntax: rs, args: args) }
            if method == "similarity" { return try bindSimilarity(s, receiver: r, receiverSyntax: rs, args: args, kwargs: kwargs) }
            let f = try resolve(method, receiverType: r.type, at: callee)
            return try bindFunction(f, s, callee: callee, receiver: (r, rs), args: args, kwargs: kwargs)
        default:
            throw error("this expression cannot be called", callee)
        }
    }

    private static func namespaces(for t: ColumnType) -> [String] {
        switch t.kind {
        case .string: return ["string", "text"]
        case .int, .float, .bool: return ["math"]
        case .json: return ["json", "string", "math"]
        case .timestamp: return ["timestamp"]
        case .date: return ["date"]
        case .uuid: return ["uuid"]
        case .array: return ["array"]
        case .image: return ["image"]
        case .video: return ["video"]
        case .audio: return ["audio"]
        case .document: return ["document"]
        case .binary: return ["binary"]
        }
    }

    private func resolve(_ leaf: String, receiverType: ColumnType, at s: Syntax) throws(ExpressionError) -> ExpressionFunction {
        let cands = scope.functions.candidates(leaf: leaf)
        guard !cands.isEmpty else { throw nameError("unknown function '\(leaf)'", s) }
        let fitting = cands.filter { $0.parameters.first.map { $0.type.accepts(receiverType) } ?? false }
        for ns in Self.namespaces(for: receiverType) {
            if let f = fitting.first(where: { $0.namespace == ns }) { return f }
        }
        if let f = fitting.first(where: { $0.namespace == "cast" }) ?? (fitting.count == 1 ? fitting.first : nil) { return f }
        let names = cands.map(\.name).joined(separator: ", ")
        throw nameError("no function '\(leaf)' applies to \(receiverType.baseDescription) (candidates: \(names))", s)
    }

    private func bindFunction(
        _ f: ExpressionFunction, _ s: Syntax, callee: Syntax, receiver: (TypedExpr, Syntax)?, args: [Syntax], kwargs: [Syntax.KeywordArgument]
    ) throws(ExpressionError) -> (TypedExpr, Syntax) {
        var positional: [(TypedExpr, Syntax)] = []
        if let receiver { positional.append(receiver) }
        for a in args { positional.append(try bindNode(a)) }
        let params = f.parameters
        if positional.count > params.count && !f.isVariadic {
            throw error("\(f.name)() takes \(params.count) argument\(params.count == 1 ? "" : "s") but \(positional.count) were given", s)
        }
        var bound: [TypedExpr?] = Array(repeating: nil, count: params.count)
        var extra: [TypedExpr] = []
        for (i, p) in positional.enumerated() {
            if i < params.count { bound[i] = p.0 } else { extra.append(p.0) }
        }
        var storedKwargs: [Syntax.KeywordArgument] = []
        for kw in kwargs {
            guard let i = params.firstIndex(where: { $0.name == kw.name }) else {
                throw error("\(f.name)() got an unexpected keyword argument '\(kw.name)'", kw.value)
            }
            if bound[i] != nil { throw error("\(f.name)() got multiple values for argument '\(kw.name)'", kw.value) }
            let (t, ts) = try bindNode(kw.value)
            bound[i] = t
            storedKwargs.append(.init(name: kw.name, value: ts))
        }
        var final: [TypedExpr] = []
        for (i, p) in params.enumerated() {
            if let b = bound[i] {
                guard p.type.accepts(b.type) else {
                    throw error("\(f.name)() argument '\(p.name)' must be \(p.type), not \(b.type.baseDescription)", s)
                }
                final.append(b)
            } else if let d = p.defaultValue {
                final.append(TypedExpr(.literal(d), d.isNull ? ColumnType(.json) : d.inferredType))
            } else {
                throw error("\(f.name)() missing required argument '\(p.name)'", s)
            }
        }
        if let last = params.last {
            for e in extra where !last.type.accepts(e.type) {
                throw error("\(f.name)() argument '\(last.name)' must be \(last.type), not \(e.type.baseDescription)", s)
            }
        }
        final += extra
        if let check = f.check, let context = scope.checkContext {
            let literals: [Value?] = final.map { e in
                if case .literal(let v) = e.node { return v }
                return nil
            }
            if let problem = check(context, literals) { throw error("\(f.name)(): \(problem)", s) }
        }
        // The stored form names the function fully, so that it resolves the same way later.
        let storedCallee: Syntax
        let storedArgs: [Syntax]
        if let receiver {
            storedCallee = Syntax(.member(receiver.1, f.leafName), at: callee.offset)
            storedArgs = positional.dropFirst().map(\.1)
        } else {
            storedCallee = Self.dotted(f.name, at: callee.offset)
            storedArgs = positional.map(\.1)
        }
        let type = f.returnType(final.map(\.type))
        return (TypedExpr(.call(f, final), type), Syntax(.call(storedCallee, storedArgs, storedKwargs), at: s.offset))
    }

    static func dotted(_ name: String, at offset: Int) -> Syntax {
        let parts = name.split(separator: ".").map(String.init)
        var s = Syntax(.name(parts[0]), at: offset)
        for p in parts.dropFirst() { s = Syntax(.member(s, p), at: offset) }
        return s
    }

    private func bindAsType(_ s: Syntax, receiver: TypedExpr, receiverSyntax: Syntax, args: [Syntax]) throws(ExpressionError) -> (TypedExpr, Syntax) {
        guard args.count == 1 else { throw error("astype() takes exactly one type", s) }
        let text: String
        switch args[0].kind {
        case .literal(.string(let t)): text = t
        case .name(let t): text = t
        default:
            if let d = args[0].dottedName { text = d.joined(separator: ".") } else { throw error("astype() needs a type name such as 'Int'", args[0]) }
        }
        var target: ColumnType
        do {
            target = try ColumnType.parse(text.replacingOccurrences(of: "pxt.", with: ""))
        } catch {
            throw self.error(error.message, args[0])
        }
        target.nullable = receiver.type.nullable
        let stored = Syntax(.call(Syntax(.member(receiverSyntax, "astype"), at: s.offset), [Syntax(.literal(.string(target.baseDescription)), at: args[0].offset)], []), at: s.offset)
        return (TypedExpr(.cast(receiver, target), target), stored)
    }

    private func bindSimilarity(_ s: Syntax, receiver: TypedExpr, receiverSyntax: Syntax, args: [Syntax], kwargs: [Syntax.KeywordArgument]) throws(ExpressionError) -> (TypedExpr, Syntax) {
        guard let id = receiver.columnID else { throw error("similarity() applies to a column with an embedding index", s) }
        var indexName: String? = nil
        for kw in kwargs {
            guard kw.name == "idx", case .literal(.string(let n)) = kw.value.kind else {
                throw error("similarity() takes one argument and an optional idx='name'", kw.value)
            }
            indexName = n
        }
        guard args.count == 1 else { throw error("similarity() takes exactly one argument", s) }
        let candidates = scope.embeddingIndexes.filter { $0.columnID == id && (indexName == nil || $0.name == indexName) }
        guard let idx = candidates.first else {
            let colName = scope.byID[id]?.name ?? "#\(id)"
            throw error("column '\(colName)' has no embedding index\(indexName.map { " named '\($0)'" } ?? "")", s)
        }
        if candidates.count > 1 { throw error("column has several embedding indexes; pass idx='name'", s) }
        let (q, qs) = try bindNode(args[0])
        if !q.columnIDs.isEmpty {
            throw error("similarity() compares with a value or a parameter, not with another column", args[0])
        }
        guard idx.embed.parameters.first?.type.accepts(q.type) ?? false else {
            throw error("similarity() query must be \(idx.embed.parameters.first?.type.description ?? "?"), not \(q.type.baseDescription)", args[0])
        }
        let stored = Syntax(.call(Syntax(.member(receiverSyntax, "similarity"), at: s.offset), [qs], [.init(name: "idx", value: Syntax(.literal(.string(idx.name)), at: s.offset))]), at: s.offset)
        return (TypedExpr(.similarity(column: id, index: idx, query: q), ColumnType(.float, nullable: true)), stored)
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    for i in 1...x.count {
        var cur = [i] + Array(repeating: 0, count: y.count)
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[y.count]
}
