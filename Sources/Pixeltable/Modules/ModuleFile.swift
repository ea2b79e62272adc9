import Foundation

/// Where a declaration or an expression is in a module file.
public struct FileLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file's path as given.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, or 0 when unknown.
    public var column: Int

    /// A location.
    public init(file: String, line: Int, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { column > 0 ? "\(file):\(line):\(column)" : "\(file):\(line)" }
}

/// An expression written in a module file, with where its text starts.
public struct SourceExpression: Sendable, Hashable {
    /// The expression text.
    public var text: String
    /// Where the first character of the text is.
    public var location: FileLocation
    /// The file column of each character of the text (and of the closing quote), when escapes
    /// in a one-line basic string make them differ from the text's offsets.
    var columns: [Int]? = nil

    /// The location of the character at `offset` within the text (which may span lines, when
    /// written as a multi-line string).
    func location(at offset: Int) -> FileLocation {
        var l = location
        guard l.column > 0 else { return l }
        if let columns, !columns.isEmpty {
            l.column = columns[min(max(0, offset), columns.count - 1)]
            return l
        }
        let before = text.prefix(max(0, offset))
        if let lastNewline = before.lastIndex(of: "\n") {
            l.line += before.reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
            l.column = before.distance(from: before.index(after: lastNewline), to: before.endIndex) + 1
        } else {
            l.column += offset
        }
        return l
    }

    /// A parse or type error of this expression as a Pixeltable error naming file, line, column.
    func error(_ e: ExpressionError, _ what: String) -> PixeltableError {
        PixeltableError(.invalidExpression, "\(location(at: e.offset)): \(what): \(e.message) in '\(text)'")
    }
}

/// A module file: the directories, tables, views and queries a TOML file declares (MODULES.md).
public struct ModuleFile: Sendable {
    /// A `[[dir]]`.
    public struct DirectoryDecl: Sendable, Hashable {
        public var path: CatalogPath
        public var location: FileLocation
    }

    /// A stored column in `[table.columns]`.
    public struct ColumnDecl: Sendable, Hashable {
        public var name: String
        public var type: ColumnType
        public var comment: String?
        public var location: FileLocation
    }

    /// A `[[table.computed]]`.
    public struct ComputedDecl: Sendable, Hashable {
        public var name: String
        public var expression: SourceExpression
        public var stored: Bool
        public var onError: OnError
        public var comment: String?
        public var type: ColumnType?
        public var location: FileLocation
    }

    /// A `[[table.index]]`.
    public struct IndexDecl: Sendable, Hashable {
        public var column: String
        public var name: String?
        public var location: FileLocation
    }

    /// A `[[table.embedding_index]]`.
    public struct EmbeddingIndexDecl: Sendable, Hashable {
        public var name: String?
        public var column: String
        public var embedding: String
        public var metric: String
        public var location: FileLocation
    }

    /// A `[[table]]`.
    public struct TableDecl: Sendable, Hashable {
        public var path: CatalogPath
        public var primaryKey: [String]
        public var comment: String?
        public var columns: [ColumnDecl]
        public var computed: [ComputedDecl]
        public var indexes: [IndexDecl]
        public var embeddingIndexes: [EmbeddingIndexDecl]
        public var location: FileLocation
    }

    /// A `[[view]]`: a filter view (`where`) or a component view (`iterator`), with the
    /// computed columns and embedding indexes a component view adds (`[[view.computed]]`,
    /// `[[view.embedding_index]]`).
    public struct ViewDecl: Sendable, Hashable {
        public var path: CatalogPath
        public var base: CatalogPath
        public var filter: SourceExpression?
        public var comment: String?
        public var location: FileLocation
        /// The iterator call of a component view.
        public var iterator: SourceExpression? = nil
        public var computed: [ComputedDecl] = []
        public var embeddingIndexes: [EmbeddingIndexDecl] = []
    }

    /// The file's path as given.
    public var path: String
    public var directories: [DirectoryDecl] = []
    public var tables: [TableDecl] = []
    public var views: [ViewDecl] = []
    public var queries: [QueryDefinition] = []

    /// Reads and parses a module file.
    public static func load(_ path: String) throws(PixeltableError) -> ModuleFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PixeltableError(.pathNotFound, "cannot read module file '\(path)'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PixeltableError(.invalidConfiguration, "\(path): not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// Parses module-file text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(PixeltableError) -> ModuleFile {
        let root: TOMLTable
        do {
            root = try TOMLParser.parse(text, file: file)
        } catch {
            throw PixeltableError(.invalidConfiguration, "\(file):\(error.line):\(error.column): \(error.message)")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let top = TOMLReader(root, file: file, context: "the module file", line: 1)
        try top.checkKeys(["dir", "table", "view", "query"])
        var m = ModuleFile(path: file)
        func loc(_ line: Int, _ column: Int = 0) -> FileLocation { FileLocation(file: file, line: line, column: column) }
        func expr(_ r: TOMLReader, _ key: String) throws(PixeltableError) -> SourceExpression? {
            guard let n = r.table[key] else { return nil }
            guard case .string(let s) = n.value else { throw r.typeError(key, n, "an expression string") }
            return sourceExpression(s, file, lines, n)
        }
        func path(_ r: TOMLReader, _ key: String) throws(PixeltableError) -> CatalogPath {
            let s = try r.string(key, required: true)!
            do { return try CatalogPath(s) } catch { throw r.error("\(key) '\(s)': \(error.message)", line: r.table[key]?.line) }
        }

        for d in try top.tables("dir", context: { "[[dir]] #\($0 + 1)" }) {
            try d.checkKeys(["path"])
            m.directories.append(DirectoryDecl(path: try path(d, "path"), location: loc(d.line)))
        }
        for t in try top.tables("table", context: { "[[table]] #\($0 + 1)" }) {
            try t.checkKeys(["path", "primary_key", "comment", "columns", "computed", "index", "embedding_index"])
            let tpath = try path(t, "path")
            let ctx = "[[table]] '\(tpath)'"
            var decl = TableDecl(
                path: tpath, primaryKey: try t.stringList("primary_key") ?? [], comment: try t.string("comment"), columns: [], computed: [],
                indexes: [], embeddingIndexes: [], location: loc(t.line))
            if let cols = try t.subtable("columns", context: "\(ctx) columns") {
                for (name, node) in cols.table.entries {
                    var typeText: String
                    var comment: String? = nil
                    switch node.value {
                    case .string(let s): typeText = s
                    case .table(let spec):
                        let r = TOMLReader(spec, file: file, context: "column '\(name)' of \(ctx)", line: node.line)
                        try r.checkKeys(["type", "comment"])
                        typeText = try r.string("type", required: true)!
                        comment = try r.string("comment")
                    default:
                        throw cols.typeError(name, node, "a type string or { type = ..., comment = ... }")
                    }
                    guard CatalogPath.isValidName(name) else { throw cols.error("invalid column name '\(name)' in \(ctx)", line: node.line) }
                    let type: ColumnType
                    do { type = try ColumnType.parse(typeText) } catch {
                        throw cols.error("column '\(name)' of \(ctx): \(error.message)", line: node.line)
                    }
                    decl.columns.append(ColumnDecl(name: name, type: type, comment: comment, location: loc(node.line, node.column)))
                }
            }
            decl.computed = try computedColumns(t, "table", ctx)
            for i in try t.tables("index", context: { "[[table.index]] #\($0 + 1) of \(ctx)" }) {
                try i.checkKeys(["column", "name"])
                decl.indexes.append(IndexDecl(column: try i.string("column", required: true)!, name: try i.string("name"), location: loc(i.line)))
            }
            decl.embeddingIndexes = try embeddingIndexes(t, "table", ctx)
            m.tables.append(decl)
        }
        func computedColumns(_ t: TOMLReader, _ kind: String, _ ctx: String) throws(PixeltableError) -> [ComputedDecl] {
            var out: [ComputedDecl] = []
            for c in try t.tables("computed", context: { "[[\(kind).computed]] #\($0 + 1) of \(ctx)" }) {
                try c.checkKeys(["name", "expr", "stored", "on_error", "comment", "type"])
                let name = try c.string("name", required: true)!
                guard CatalogPath.isValidName(name) else { throw c.error("invalid column name '\(name)' in \(ctx)", line: c.table["name"]?.line) }
                guard let e = try expr(c, "expr") else { throw c.error("missing required key 'expr' in \(c.context)") }
                let onErrorText = try c.string("on_error") ?? "abort"
                guard let onError = OnError(rawValue: onErrorText) else {
                    throw c.error("on_error of computed column '\(name)' must be \"abort\" or \"ignore\", not \"\(onErrorText)\"", line: c.table["on_error"]?.line)
                }
                var type: ColumnType? = nil
                if let tt = try c.string("type") {
                    do { type = try ColumnType.parse(tt) } catch { throw c.error("computed column '\(name)': \(error.message)", line: c.table["type"]?.line) }
                }
                out.append(
                    ComputedDecl(name: name, expression: e, stored: try c.bool("stored") ?? true, onError: onError, comment: try c.string("comment"), type: type, location: loc(c.line)))
            }
            return out
        }
        func embeddingIndexes(_ t: TOMLReader, _ kind: String, _ ctx: String) throws(PixeltableError) -> [EmbeddingIndexDecl] {
            var out: [EmbeddingIndexDecl] = []
            for i in try t.tables("embedding_index", context: { "[[\(kind).embedding_index]] #\($0 + 1) of \(ctx)" }) {
                try i.checkKeys(["name", "column", "embedding", "metric"])
                let metric = try i.string("metric") ?? "cosine"
                guard ["cosine", "ip", "l2"].contains(metric) else {
                    throw i.error("metric must be cosine, ip or l2, not '\(metric)'", line: i.table["metric"]?.line)
                }
                out.append(
                    EmbeddingIndexDecl(name: try i.string("name"), column: try i.string("column", required: true)!, embedding: try i.string("embedding", required: true)!, metric: metric, location: loc(i.line)))
            }
            return out
        }
        for v in try top.tables("view", context: { "[[view]] #\($0 + 1)" }) {
            try v.checkKeys(["path", "base", "where", "comment", "iterator", "computed", "embedding_index"])
            let vpath = try path(v, "path")
            var decl = ViewDecl(path: vpath, base: try path(v, "base"), filter: try expr(v, "where"), comment: try v.string("comment"), location: loc(v.line))
            decl.iterator = try expr(v, "iterator")
            if decl.iterator != nil && decl.filter != nil {
                throw v.error("[[view]] '\(vpath)': a view has either 'where' (a filter view) or 'iterator' (a component view), not both")
            }
            decl.computed = try computedColumns(v, "view", "[[view]] '\(vpath)'")
            decl.embeddingIndexes = try embeddingIndexes(v, "view", "[[view]] '\(vpath)'")
            if decl.iterator == nil && !(decl.computed.isEmpty && decl.embeddingIndexes.isEmpty) {
                throw v.error("[[view]] '\(vpath)': computed columns and embedding indexes need a component view (an 'iterator'); a filter view shows its base's columns")
            }
            m.views.append(decl)
        }
        for q in try top.tables("query", context: { "[[query]] #\($0 + 1)" }) {
            m.queries.append(try QueryDefinition.parse(q, lines: lines))
        }
        var seen = Set<String>()
        for q in m.queries where !seen.insert(q.name).inserted {
            throw PixeltableError(.invalidConfiguration, "\(q.location): duplicate query name '\(q.name)'")
        }
        return m
    }

    /// An expression written as the string value `n`, located in the file.
    static func sourceExpression(_ text: String, _ file: String, _ lines: [String], _ n: TOMLNode) -> SourceExpression {
        var e = SourceExpression(text: text, location: valueLocation(file, lines, n))
        guard e.location.column > 1, e.location.line == n.line, n.line <= lines.count else { return e }
        let chars = Array(lines[n.line - 1])
        let open = e.location.column - 2
        guard open < chars.count, chars[open] == "\"" else { return e }
        var columns: [Int] = []
        var j = open + 1
        var escaped = false
        while j < chars.count, chars[j] != "\"" {
            columns.append(j + 1)
            if chars[j] == "\\" {
                escaped = true
                j += chars.indices.contains(j + 1) && chars[j + 1] == "u" ? 6 : chars.indices.contains(j + 1) && chars[j + 1] == "U" ? 10 : 2
            } else {
                j += 1
            }
        }
        columns.append(j + 1)
        if escaped && columns.count == text.count + 1 { e.columns = columns }
        return e
    }

    /// Where a key's string value (or an array item's text) starts: just inside its opening
    /// quote, or, for a multi-line string whose delimiter ends the line, at the next line.
    static func valueLocation(_ file: String, _ lines: [String], _ n: TOMLNode) -> FileLocation {
        guard n.line >= 1 && n.line <= lines.count else { return FileLocation(file: file, line: n.line) }
        let chars = Array(lines[n.line - 1])
        func isQuote(_ i: Int) -> Bool { i < chars.count && (chars[i] == "\"" || chars[i] == "'") }
        var i = max(0, n.column - 1)
        // An array item starts at its quote; a key is followed by `=` then the value.
        if !isQuote(i) {
            while i < chars.count, chars[i] != "=" { i += 1 }
            i += 1
            while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 }
        }
        guard isQuote(i) else { return FileLocation(file: file, line: n.line, column: i + 1) }
        let quote = chars[i]
        if i + 2 < chars.count, chars[i + 1] == quote, chars[i + 2] == quote {
            // A newline right after the opening delimiter is not part of the string.
            let rest = chars[(i + 3)...]
            if rest.allSatisfy({ $0 == "\r" }) { return FileLocation(file: file, line: n.line + 1, column: 1) }
            return FileLocation(file: file, line: n.line, column: i + 4)
        }
        return FileLocation(file: file, line: n.line, column: i + 2)
    }

    /// The query named `name`.
    public func query(named name: String) -> QueryDefinition? { queries.first { $0.name == name } }
}
