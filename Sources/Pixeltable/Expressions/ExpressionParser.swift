import Foundation

/// Parses the expression language of MODULES.md into ``Syntax`` trees.
///
/// Errors are ``ExpressionError``s that carry the 0-based offset of the problem, which callers
/// turn into a file, line and column.
public struct ExpressionParser {
    enum Token: Equatable {
        case ident(String)
        case int(Int64)
        case float(Double)
        case string(String)
        case param(String)
        case op(String)
        case end
    }

    private var tokens: [(token: Token, offset: Int)] = []
    private var i = 0
    private let source: String
    /// Levels of the tree above the node being parsed: each sub-expression, operator of a
    /// chain, call, index and prefix adds one.
    private var depth = 0
    /// The deepest expression accepted. The parser, the binder and the evaluator recurse once
    /// per level, so this bounds their stack: `(` × 10,000 or `id + 1` × 10,000 in a module file
    /// is an error, not a crash of the daemon.
    public static let maxDepth = 100

    private init(source: String) { self.source = source }

    /// Parses one expression; `allowAlias` accepts a trailing `as name` (select items).
    public static func parse(_ text: String, allowAlias: Bool = false) throws(ExpressionError) -> Syntax {
        var p = ExpressionParser(source: text)
        try p.tokenize()
        let e = try p.parseAlias(allowAlias: allowAlias)
        if case .end = p.peek { return e }
        throw p.error("unexpected \(p.describe(p.peek))", at: p.offset)
    }

    /// Parses an `order_by` item: an expression followed by an optional `asc` or `desc`.
    public static func parseOrderItem(_ text: String) throws(ExpressionError) -> (Syntax, ascending: Bool) {
        var p = ExpressionParser(source: text)
        try p.tokenize()
        let e = try p.parseOr()
        var ascending = true
        if case .ident(let w) = p.peek, w.lowercased() == "desc" || w.lowercased() == "asc" {
            ascending = w.lowercased() == "asc"
            p.i += 1
        }
        if case .end = p.peek { return (e, ascending) }
        throw p.error("unexpected \(p.describe(p.peek)); expected 'asc' or 'desc'", at: p.offset)
    }

    // MARK: tokens

    private var peek: Token { tokens[i].token }
    private var offset: Int { tokens[i].offset }

    /// One level deeper; an error past ``maxDepth``. Callers restore `depth` when they return.
    private mutating func deeper() throws(ExpressionError) {
        depth += 1
        if depth > Self.maxDepth { throw error("expression nested deeper than \(Self.maxDepth) levels", at: offset) }
    }

    private func error(_ message: String, at offset: Int) -> ExpressionError {
        ExpressionError(message: message, offset: offset, source: source)
    }

    private func describe(_ t: Token) -> String {
        switch t {
        case .ident(let s): return "name '\(s)'"
        case .int(let v): return "number \(v)"
        case .float(let v): return "number \(v)"
        case .string: return "string"
        case .param(let p): return "parameter ':\(p)'"
        case .op(let o): return "'\(o)'"
        case .end: return "end of expression"
        }
    }

    private mutating func tokenize() throws(ExpressionError) {
        let chars = Array(source)
        var k = 0
        func isIdentStart(_ c: Character) -> Bool { c == "_" || c.isLetter }
        func isIdent(_ c: Character) -> Bool { c == "_" || c.isLetter || c.isNumber }
        while k < chars.count {
            let c = chars[k]
            if c.isWhitespace { k += 1; continue }
            let start = k
            if isIdentStart(c) {
                while k < chars.count && isIdent(chars[k]) { k += 1 }
                tokens.append((.ident(String(chars[start..<k])), start))
                continue
            }
            if c.isASCII && c.isNumber || (c == "." && k + 1 < chars.count && chars[k + 1].isASCII && chars[k + 1].isNumber) {
                var isFloat = false
                while k < chars.count && (chars[k].isASCII && chars[k].isNumber || chars[k] == "_") { k += 1 }
                if k < chars.count && chars[k] == "." && !(k + 1 < chars.count && isIdentStart(chars[k + 1])) {
                    isFloat = true
                    k += 1
                    while k < chars.count && chars[k].isASCII && chars[k].isNumber { k += 1 }
                }
                if k < chars.count && (chars[k] == "e" || chars[k] == "E") {
                    var j = k + 1
                    if j < chars.count && (chars[j] == "+" || chars[j] == "-") { j += 1 }
                    if j < chars.count && chars[j].isASCII && chars[j].isNumber {
                        isFloat = true
                        k = j
                        while k < chars.count && chars[k].isASCII && chars[k].isNumber { k += 1 }
                    }
                }
                let text = String(chars[start..<k]).replacingOccurrences(of: "_", with: "")
                if isFloat {
                    guard let d = Double(text) else { throw error("invalid number '\(text)'", at: start) }
                    tokens.append((.float(d), start))
                } else {
                    guard let v = Int64(text) else { throw error("invalid integer '\(text)'", at: start) }
                    tokens.append((.int(v), start))
                }
                continue
            }
            if c == "'" || c == "\"" {
                k += 1
                var s = ""
                var closed = false
                while k < chars.count {
                    let d = chars[k]
                    if d == c { closed = true; k += 1; break }
                    if d == "\\" && k + 1 < chars.count {
                        let e = chars[k + 1]
                        switch e {
                        case "n": s.append("\n")
                        case "t": s.append("\t")
                        case "r": s.append("\r")
                        case "0": s.append("\0")
                        case "\\", "'", "\"": s.append(e)
                        default: s.append("\\"); s.append(e)
                        }
                        k += 2
                        continue
                    }
                    s.append(d)
                    k += 1
                }
                if !closed { throw error("unterminated string", at: start) }
                tokens.append((.string(s), start))
                continue
            }
            if c == ":" && k + 1 < chars.count && isIdentStart(chars[k + 1]) {
                k += 1
                let s = k
                while k < chars.count && isIdent(chars[k]) { k += 1 }
                tokens.append((.param(String(chars[s..<k])), start))
                continue
            }
            let two = k + 1 < chars.count ? String(chars[k...k + 1]) : ""
            if ["==", "!=", "<=", ">=", "//", "<>"].contains(two) {
                tokens.append((.op(two == "<>" ? "!=" : two), start))
                k += 2
                continue
            }
            if "+-*/%<>()[]{},.:=".contains(c) {
                tokens.append((.op(String(c)), start))
                k += 1
                continue
            }
            throw error("unexpected character '\(c)'", at: start)
        }
        tokens.append((.end, chars.count))
    }

    private mutating func expect(_ op: String) throws(ExpressionError) {
        guard case .op(let o) = peek, o == op else {
            throw error("expected '\(op)' but found \(describe(peek))", at: offset)
        }
        i += 1
    }

    private func isKeyword(_ word: String) -> Bool {
        if case .ident(let w) = peek { return w == word }
        return false
    }

    private func isOp(_ op: String) -> Bool {
        if case .op(let o) = peek { return o == op }
        return false
    }

    // MARK: grammar

    private mutating func parseAlias(allowAlias: Bool) throws(ExpressionError) -> Syntax {
        let start = offset
        let e = try parseOr()
        if isKeyword("as") {
            let asOffset = offset
            guard allowAlias else { throw error("'as' is only allowed in a select list", at: asOffset) }
            i += 1
            guard case .ident(let name) = peek else { throw error("expected a name after 'as'", at: offset) }
            i += 1
            return Syntax(.alias(e, name), at: start)
        }
        return e
    }

    private mutating func parseOr() throws(ExpressionError) -> Syntax {
        let saved = depth
        defer { depth = saved }
        try deeper()
        var left = try parseAnd()
        while isKeyword("or") {
            let o = offset
            try deeper()
            i += 1
            let right = try parseAnd()
            left = Syntax(.binary(.or, left, right), at: o)
        }
        return left
    }

    private mutating func parseAnd() throws(ExpressionError) -> Syntax {
        let saved = depth
        defer { depth = saved }
        var left = try parseNot()
        while isKeyword("and") {
            let o = offset
            try deeper()
            i += 1
            let right = try parseNot()
            left = Syntax(.binary(.and, left, right), at: o)
        }
        return left
    }

    private mutating func parseNot() throws(ExpressionError) -> Syntax {
        let saved = depth
        defer { depth = saved }
        if isKeyword("not") {
            let o = offset
            try deeper()
            i += 1
            return Syntax(.unary(.not, try parseNot()), at: o)
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(ExpressionError) -> Syntax {
        let left = try parseAdditive()
        let o = offset
        if case .op(let op) = peek, let bop = BinaryOperator(rawValue: op), bop.isComparison {
            i += 1
            let right = try parseAdditive()
            return Syntax(.binary(bop, left, right), at: o)
        }
        if isOp("=") {
            throw error("'=' is not a comparison; use '=='", at: o)
        }
        if isKeyword("is") {
            i += 1
            var negated = false
            if isKeyword("not") { negated = true; i += 1 }
            guard isKeyword("null") || isKeyword("None") else {
                throw error("expected 'null' after 'is\(negated ? " not" : "")'", at: offset)
            }
            i += 1
            return Syntax(.isNull(left, negated: negated), at: o)
        }
        if isKeyword("in") {
            i += 1
            return Syntax(.inList(left, try parseAdditive(), negated: false), at: o)
        }
        if isKeyword("not"), i + 1 < tokens.count, tokens[i + 1].token == .ident("in") {
            i += 2
            return Syntax(.inList(left, try parseAdditive(), negated: true), at: o)
        }
        return left
    }

    private mutating func parseAdditive() throws(ExpressionError) -> Syntax {
        let saved = depth
        defer { depth = saved }
        var left = try parseMultiplicative()
        while case .op(let op) = peek, op == "+" || op == "-" {
            let o = offset
            try deeper()
            i += 1
            let right = try parseMultiplicative()
            left = Syntax(.binary(op == "+" ? .add : .subtract, left, right), at: o)
        }
        return left
    }

    private mutating func parseMultiplicative() throws(ExpressionError) -> Syntax {
        let saved = depth
        defer { depth = saved }
        var left = try parseUnary()
        while case .op(let op) = peek, let bop = BinaryOperator(rawValue: op),
            [.multiply, .divide, .floorDivide, .modulo].contains(bop)
        {
            let o = offset
            try deeper()
            i += 1
            let right = try parseUnary()
            left = Syntax(.binary(bop, left, right), at: o)
        }
        return left
    }

    private mutating func parseUnary() throws(ExpressionError) -> Syntax {
        let saved = depth
        defer { depth = saved }
        if isOp("-") {
            let o = offset
            try deeper()
            i += 1
            let operand = try parseUnary()
            // Fold negative literals so that `-1` is a literal, as users expect in defaults.
            if case .literal(.int(let v)) = operand.kind { return Syntax(.literal(.int(-v)), at: o) }
            if case .literal(.float(let v)) = operand.kind { return Syntax(.literal(.float(-v)), at: o) }
            return Syntax(.unary(.negate, operand), at: o)
        }
        if isOp("+") {
            try deeper()
            i += 1
            return try parseUnary()
        }
        return try parsePostfix()
    }

    private mutating func parsePostfix() throws(ExpressionError) -> Syntax {
        let saved = depth
        defer { depth = saved }
        var e = try parsePrimary()
        while true {
            if isOp(".") || isOp("[") || isOp("(") { try deeper() }
            if isOp(".") {
                i += 1
                guard case .ident(let name) = peek else {
                    throw error("expected a name after '.'", at: offset)
                }
                let o = offset
                i += 1
                e = Syntax(.member(e, name), at: e.offset == o ? o : e.offset)
                e.nameOffset = o
            } else if isOp("[") {
                i += 1
                let idx = try parseOr()
                try expect("]")
                e = Syntax(.index(e, idx), at: e.offset)
            } else if isOp("(") {
                i += 1
                let (args, kwargs) = try parseArguments()
                e = Syntax(.call(e, args, kwargs), at: e.offset)
            } else {
                return e
            }
        }
    }

    private mutating func parseArguments() throws(ExpressionError) -> ([Syntax], [Syntax.KeywordArgument]) {
        var args: [Syntax] = []
        var kwargs: [Syntax.KeywordArgument] = []
        if isOp(")") { i += 1; return (args, kwargs) }
        while true {
            if case .ident(let name) = peek, i + 1 < tokens.count, tokens[i + 1].token == .op("=") {
                i += 2
                kwargs.append(.init(name: name, value: try parseOr()))
            } else {
                if !kwargs.isEmpty { throw error("positional argument after keyword argument", at: offset) }
                args.append(try parseOr())
            }
            if isOp(",") { i += 1; if isOp(")") { i += 1; break }; continue }
            try expect(")")
            break
        }
        return (args, kwargs)
    }

    private mutating func parsePrimary() throws(ExpressionError) -> Syntax {
        let o = offset
        switch peek {
        case .int(let v): i += 1; return Syntax(.literal(.int(v)), at: o)
        case .float(let v): i += 1; return Syntax(.literal(.float(v)), at: o)
        case .string(let s): i += 1; return Syntax(.literal(.string(s)), at: o)
        case .param(let p): i += 1; return Syntax(.param(p), at: o)
        case .ident(let name):
            i += 1
            switch name {
            case "true", "True": return Syntax(.literal(.bool(true)), at: o)
            case "false", "False": return Syntax(.literal(.bool(false)), at: o)
            case "null", "None": return Syntax(.literal(.null), at: o)
            case "and", "or", "not", "in", "is", "as":
                throw error("unexpected keyword '\(name)'", at: o)
            default: return Syntax(.name(name), at: o)
            }
        case .op("("):
            // A parenthesized expression, or a tuple literal such as `(32, 32)` (a list, as
            // Pixeltable stores tuples in JSON).
            i += 1
            if isOp(")") { i += 1; return Syntax(.list([]), at: o) }
            let e = try parseOr()
            guard isOp(",") else {
                try expect(")")
                return e
            }
            var items = [e]
            while isOp(",") {
                i += 1
                if isOp(")") { break }
                items.append(try parseOr())
            }
            try expect(")")
            return Syntax(.list(items), at: o)
        case .op("["):
            i += 1
            var items: [Syntax] = []
            if isOp("]") { i += 1; return Syntax(.list(items), at: o) }
            while true {
                items.append(try parseOr())
                if isOp(",") { i += 1; if isOp("]") { i += 1; break }; continue }
                try expect("]")
                break
            }
            return Syntax(.list(items), at: o)
        case .op("{"):
            i += 1
            var entries: [Syntax.DictEntry] = []
            if isOp("}") { i += 1; return Syntax(.dict(entries), at: o) }
            while true {
                guard case .string(let key) = peek else { throw error("dict keys must be strings", at: offset) }
                i += 1
                try expect(":")
                entries.append(.init(key: key, value: try parseOr()))
                if isOp(",") { i += 1; if isOp("}") { i += 1; break }; continue }
                try expect("}")
                break
            }
            return Syntax(.dict(entries), at: o)
        case .end:
            throw error(tokens.count == 1 ? "empty expression" : "unexpected end of expression", at: o)
        default:
            throw error("unexpected \(describe(peek))", at: o)
        }
    }
}

/// A parse or type error in an expression, with the 0-based offset where it was found.
public struct ExpressionError: Error, Sendable, CustomStringConvertible {
    /// What was wrong.
    public var message: String
    /// Where, as a 0-based character offset into ``source``.
    public var offset: Int
    /// The expression text.
    public var source: String

    /// The 1-based column of the problem within the expression.
    public var column: Int { offset + 1 }

    public var description: String { "\(message) (at column \(column) of '\(source)')" }

    /// The error as a Pixeltable error.
    public var pixeltableError: PixeltableError {
        PixeltableError(.invalidExpression, "invalid expression '\(source)': \(message) at column \(column)")
    }
}
