import Foundation
import Pixeltable
import Testing

// Module files (MODULES.md): parsing, validation with file:line:column, plan/apply, named
// queries and module resolution.

/// The error `body` throws, or `nil` when it succeeds.
private func pxtError(_ body: () throws -> Void) -> PixeltableError? {
    do {
        try body()
        return nil
    } catch let e as PixeltableError {
        return e
    } catch {
        return PixeltableError(.internalError, "unexpected error: \(error)")
    }
}

/// The error an async `body` throws, or `nil` when it succeeds.
private func pxtErrorAsync(_ body: () async throws -> Void) async -> PixeltableError? {
    do {
        try await body()
        return nil
    } catch let e as PixeltableError {
        return e
    } catch {
        return PixeltableError(.internalError, "unexpected error: \(error)")
    }
}

/// The 1-based line and column of the `occurrence`-th `needle` in `text` (columns count
/// characters), so that tests state positions by what is there rather than by counting.
private func locate(_ needle: String, in text: String, occurrence: Int = 1) -> (line: Int, column: Int) {
    var seen = 0
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        var rest = Substring(line)
        var consumed = 0
        while let r = rest.range(of: needle) {
            seen += 1
            let column = consumed + rest.distance(from: rest.startIndex, to: r.lowerBound) + 1
            if seen == occurrence { return (i + 1, column) }
            consumed = column - 1 + needle.count
            rest = rest[r.upperBound...]
        }
    }
    Issue.record("'\(needle)' does not occur \(occurrence) time(s) in the text")
    return (0, 0)
}

/// A directory of its own under the temporary directory, removed by `remove()`.
private struct ScratchDirectory {
    let path = NSTemporaryDirectory() + "pxt-modules-" + UUID().uuidString

    init() {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `text` to `relative` (creating directories) and returns the absolute path.
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let file = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The example of MODULES.md, verbatim.
private let documentedExample = """
    [[dir]]
    path = "myapp"

    [[table]]
    path = "myapp/docs"
    primary_key = ["id"]
    comment = "Documents to search"

    [table.columns]
    id    = "Int"                                       # PK columns are always non-null
    title = "String"                                    # nullable by default
    body  = { type = "Required[String]", comment = "Full text" }
    meta  = "Json"
    photo = "Image"

    [[table.computed]]
    name     = "title_upper"
    expr     = "title.upper()"
    stored   = true          # default true; false = computed when read
    on_error = "ignore"      # "abort" (default) rejects the write; "ignore" stores the per-cell error

    [[table.index]]          # B-tree
    column = "title"

    [[table.embedding_index]]
    name      = "body_idx"
    column    = "body"
    embedding = "text.embed_hash(dims=256)"
    metric    = "cosine"     # cosine | ip | l2

    [[view]]
    path  = "myapp/long_docs"
    base  = "myapp/docs"
    where = "body.len() > 1000"

    [[query]]
    name     = "search_docs"
    table    = "myapp/docs"
    params   = { query_text = "String", k = { type = "Int", default = 5 } }
    select   = ["id", "title", "body.similarity(:query_text) as score"]
    where    = "title is not null"
    order_by = ["score desc"]
    limit    = ":k"

    [[query]]
    name      = "lookup_by_id"
    table     = "myapp/docs"
    retrieval = ["id"]       # like pxt.retrieval_udf: equality on these columns, all columns returned
    limit     = 10
    """

/// A small module: a films table with every kind of declaration, and queries over it.
private let filmsModule = """
    [[dir]]
    path = "app"

    [[table]]
    path = "app/films"
    primary_key = ["id"]
    comment = "Films"

    [table.columns]
    id     = "Int"
    title  = { type = "Required[String]", comment = "Film title" }
    year   = "Int"
    rating = "Float"

    [[table.computed]]
    name    = "title_upper"
    expr    = "title.upper()"
    comment = "Shouted"

    [[table.computed]]
    name     = "decade"
    expr     = "year // 10 * 10"
    type     = "Int"

    [[table.computed]]
    name     = "title_len"
    expr     = "title.len()"
    stored   = false

    [[table.computed]]
    name     = "half"
    expr     = "rating / 2"
    on_error = "ignore"

    [[table.index]]
    column = "year"

    [[table.index]]
    name   = "by_rating"
    column = "rating"

    [[table.embedding_index]]
    column    = "title"
    embedding = "text.embed_hash(dims=64)"
    metric    = "l2"

    [[view]]
    path    = "app/recent"
    base    = "app/films"
    where   = "year >= 1985"
    comment = "Newer films"

    [[query]]
    name        = "by_decade"
    table       = "app/films"
    description = "Films of a decade, best first"
    params      = { decade = "Int", k = { type = "Int", default = 2 } }
    select      = ["id", "title_upper as shout", "rating"]
    where       = "decade == :decade"
    order_by    = ["rating desc", "id"]
    limit       = ":k"

    [[query]]
    name      = "lookup"
    table     = "app/films"
    retrieval = ["id"]

    [[query]]
    name          = "titles"
    table         = "app/films"
    select        = ["title"]
    order_by      = ["id"]
    return_scalar = true

    [[query]]
    name     = "scored"
    table    = "app/films"
    params   = { min = { type = "Float", default = 0.0 }, flag = { type = "Bool", default = false }, tag = { type = "String", default = "x" } }
    select   = ["id", "rating * 10 as score"]
    where    = "rating >= :min"
    order_by = ["score desc"]
    limit    = 3

    [[query]]
    name     = "recent_titles"
    table    = "app/recent"
    select   = ["title"]
    order_by = ["year"]
    """

private let filmRows: [[String: Value]] = [
    ["id": 1, "title": "Alien", "year": 1979, "rating": 8.5],
    ["id": 2, "title": "Brazil", "year": 1985, "rating": 7.9],
    ["id": 3, "title": "Blade Runner", "year": 1982, "rating": 8.1],
    ["id": 4, "title": "Heat", "year": 1995, "rating": 8.3],
]

/// The films module with `old` replaced by `new` (which must occur once).
private func films(replacing old: String, with new: String) -> String {
    #expect(filmsModule.components(separatedBy: old).count == 2, "'\(old)' must occur once in the films module")
    return filmsModule.replacingOccurrences(of: old, with: new)
}

/// Applies the films module to a fresh catalog, inserts the rows and runs `body`.
private func withFilms<T>(_ body: (Catalog, Table) async throws -> T) async throws -> T {
    try await withCatalog { cat, _ in
        try await ModuleFile.parse(filmsModule, file: "films.toml").apply(cat)
        let t = try await cat.table("app/films")
        _ = try await t.insert(filmRows)
        return try await body(cat, t)
    }
}

@Suite struct ModuleFileParsingTests {
    @Test func parsesEveryDocumentedKey() throws {
        let m = try ModuleFile.parse(documentedExample, file: "myapp/docs.toml")
        #expect(m.path == "myapp/docs.toml")
        #expect(m.directories.map(\.path.description) == ["myapp"])
        #expect(m.directories[0].location == FileLocation(file: "myapp/docs.toml", line: 1))

        #expect(m.tables.count == 1)
        let t = m.tables[0]
        #expect(t.path.description == "myapp/docs")
        #expect(t.primaryKey == ["id"])
        #expect(t.comment == "Documents to search")
        #expect(t.location.line == locate("[[table]]", in: documentedExample).line)
        #expect(t.columns.map(\.name) == ["id", "title", "body", "meta", "photo"])
        #expect(t.columns.map(\.type) == [.int, .string, ColumnType.string.required, .json, .image])
        #expect(t.columns.map(\.comment) == [nil, nil, "Full text", nil, nil])
        #expect(t.columns[2].location.line == locate("body  =", in: documentedExample).line)

        #expect(t.computed.count == 1)
        let c = t.computed[0]
        #expect(c.name == "title_upper")
        #expect(c.expression.text == "title.upper()")
        #expect(c.stored)
        #expect(c.onError == .ignore)
        #expect(c.type == nil)
        // An expression's location is where its text starts inside the quotes.
        let exprAt = locate("title.upper()", in: documentedExample)
        #expect(c.expression.location == FileLocation(file: "myapp/docs.toml", line: exprAt.line, column: exprAt.column))

        #expect(t.indexes.map(\.column) == ["title"])
        #expect(t.indexes[0].name == nil)
        #expect(t.embeddingIndexes.count == 1)
        let e = t.embeddingIndexes[0]
        #expect(e.name == "body_idx")
        #expect(e.column == "body")
        #expect(e.embedding == "text.embed_hash(dims=256)")
        #expect(e.metric == "cosine")

        #expect(m.views.count == 1)
        let v = m.views[0]
        #expect(v.path.description == "myapp/long_docs")
        #expect(v.base.description == "myapp/docs")
        #expect(v.filter?.text == "body.len() > 1000")
        #expect(v.comment == nil)

        #expect(m.queries.map(\.name) == ["search_docs", "lookup_by_id"])
        let q = try #require(m.query(named: "search_docs"))
        #expect(q.table.description == "myapp/docs")
        #expect(q.parameters.map(\.name) == ["query_text", "k"])
        #expect(q.parameters.map(\.type) == [.string, .int])
        #expect(q.parameters[0].defaultValue == nil)
        #expect(q.parameters[1].defaultValue == .int(5))
        #expect(q.select.map(\.text) == ["id", "title", "body.similarity(:query_text) as score"])
        #expect(q.filter?.text == "title is not null")
        #expect(q.orderBy.map(\.text) == ["score desc"])
        #expect(q.limit == .parameter("k"))
        #expect(q.retrieval == nil)
        #expect(!q.returnScalar)
        // Select items are located one by one, each at its own text.
        let scoreAt = locate("body.similarity", in: documentedExample)
        #expect(q.select[2].location == FileLocation(file: "myapp/docs.toml", line: scoreAt.line, column: scoreAt.column))

        let r = try #require(m.query(named: "lookup_by_id"))
        #expect(r.retrieval == ["id"])
        #expect(r.limit == .value(10))
        #expect(r.parameters.isEmpty)
        #expect(m.query(named: "nope") == nil)
    }

    @Test func parsesTheOptionalKeysToo() throws {
        let m = try ModuleFile.parse(filmsModule, file: "films.toml")
        let t = m.tables[0]
        #expect(t.columns.first { $0.name == "title" }?.comment == "Film title")
        let computed = Dictionary(uniqueKeysWithValues: t.computed.map { ($0.name, $0) })
        #expect(computed["title_upper"]?.comment == "Shouted")
        #expect(computed["title_upper"]?.onError == .abort)
        #expect(computed["decade"]?.type == .int)
        #expect(computed["title_len"]?.stored == false)
        #expect(computed["half"]?.onError == .ignore)
        #expect(t.indexes.map(\.name) == [nil, "by_rating"])
        #expect(t.embeddingIndexes[0].name == nil)
        #expect(t.embeddingIndexes[0].metric == "l2")
        #expect(m.views[0].comment == "Newer films")
        let q = try #require(m.query(named: "by_decade"))
        #expect(q.description == "Films of a decade, best first")
        #expect(try #require(m.query(named: "titles")).returnScalar)
        // A retrieval query without a limit gets retrieval_udf's default of 10.
        #expect(try #require(m.query(named: "lookup")).limit == .value(10))
        let scored = try #require(m.query(named: "scored"))
        #expect(scored.limit == .value(3))
        #expect(scored.parameters.map(\.defaultValue) == [.float(0), .bool(false), .string("x")])
        // An empty file declares nothing.
        let empty = try ModuleFile.parse("# nothing here\n", file: "empty.toml")
        #expect(empty.tables.isEmpty && empty.views.isEmpty && empty.queries.isEmpty && empty.directories.isEmpty)
        // Paths accept the legacy dotted form.
        let dotted = try ModuleFile.parse("[[table]]\npath = \"a.b\"\n[table.columns]\nx = \"Int\"\n", file: "d.toml")
        #expect(dotted.tables[0].path.description == "a/b")
    }

    /// Files with one unknown key each, in every kind of section; the key is `bogus_key`.
    static let unknownKeyCases: [String] = [
        "bogus_key = 1\n",
        "[[dir]]\npath = \"a\"\nbogus_key = 1\n",
        "[[table]]\npath = \"a/t\"\nbogus_key = \"x\"\n",
        "[[table]]\npath = \"a/t\"\n[table.columns]\nid = { type = \"Int\", bogus_key = \"x\" }\n",
        "[[table]]\npath = \"a/t\"\n[table.columns]\nid = \"Int\"\n[[table.computed]]\nname = \"c\"\nexpr = \"id + 1\"\nbogus_key = true\n",
        "[[table]]\npath = \"a/t\"\n[table.columns]\nid = \"Int\"\n[[table.index]]\ncolumn = \"id\"\nbogus_key = 1\n",
        "[[table]]\npath = \"a/t\"\n[table.columns]\ns = \"String\"\n[[table.embedding_index]]\ncolumn = \"s\"\nembedding = \"text.embed_hash(dims=8)\"\nbogus_key = 1\n",
        "[[view]]\npath = \"a/v\"\nbase = \"a/t\"\nbogus_key = 1\n",
        "[[query]]\nname = \"q\"\ntable = \"a/t\"\nbogus_key = 1\n",
        "[[query]]\nname = \"q\"\ntable = \"a/t\"\nparams = { p = { type = \"Int\", bogus_key = 1 } }\n",
    ]

    @Test(arguments: unknownKeyCases)
    func unknownKeysNameTheKeyTheFileAndTheLine(_ text: String) throws {
        let e = try #require(pxtError { _ = try ModuleFile.parse(text, file: "mod/typo.toml") })
        #expect(e.code == .invalidConfiguration)
        let line = locate("bogus_key", in: text).line
        #expect(e.message.hasPrefix("mod/typo.toml:\(line):"), "\(e.message)")
        #expect(e.message.contains("unknown key 'bogus_key'"), "\(e.message)")
    }

    @Test func unknownKeysSuggestTheClosestKnownOne() throws {
        let text = "[[table]]\npath = \"a/t\"\nprimary_keys = [\"id\"]\n"
        let e = try #require(pxtError { _ = try ModuleFile.parse(text, file: "t.toml") })
        #expect(e.message.hasPrefix("t.toml:3: unknown key 'primary_keys'"), "\(e.message)")
        #expect(e.message.contains("did you mean 'primary_key'?"), "\(e.message)")
    }

    /// A bad value, the text of the error it gives, and the text on the line the error names.
    struct BadValue: Sendable, CustomTestStringConvertible {
        var text: String
        var message: String
        var lineOf: String
        var testDescription: String { message }
    }

    static let badValues: [BadValue] = [
        BadValue(text: "[[table]]\npath = \"a/t\"\nprimary_key = \"id\"\n", message: "'primary_key' in [[table]] #1 must be a list of strings, not", lineOf: "primary_key"),
        BadValue(text: "[[table]]\npath = \"a/t\"\ncomment = 5\n", message: "'comment' in [[table]] #1 must be a string", lineOf: "comment"),
        BadValue(text: "[[table]]\npath = \"a/t\"\n[table.columns]\nid = \"Strng\"\n", message: "column 'id' of [[table]] 'a/t'", lineOf: "Strng"),
        BadValue(text: "[[table]]\npath = \"a/t\"\n[table.columns]\nid = 5\n", message: "must be a type string or { type = ..., comment = ... }", lineOf: "id = 5"),
        BadValue(text: "[[table]]\npath = \"a/t\"\n[table.columns]\n2id = \"Int\"\n", message: "invalid column name '2id'", lineOf: "2id"),
        BadValue(text: "[[table]]\npath = \"a//t\"\n", message: "path 'a//t'", lineOf: "a//t"),
        BadValue(text: "[[dir]]\npath = \"my dir\"\n", message: "path 'my dir'", lineOf: "my dir"),
        BadValue(text: "[[view]]\npath = \"v\"\nbase = \"bad base\"\n", message: "base 'bad base'", lineOf: "bad base"),
        BadValue(text: "[[table]]\ncomment = \"x\"\n", message: "missing required key 'path'", lineOf: "[[table]]"),
        BadValue(
            text: "[[table]]\npath = \"a/t\"\n[table.columns]\nx = \"Int\"\n[[table.computed]]\nname = \"c\"\nexpr = \"x\"\non_error = \"skip\"\n",
            message: "on_error of computed column 'c' must be \"abort\" or \"ignore\", not \"skip\"", lineOf: "on_error"),
        BadValue(
            text: "[[table]]\npath = \"a/t\"\n[table.columns]\nx = \"Int\"\n[[table.computed]]\nname = \"c\"\nexpr = \"x\"\nstored = \"yes\"\n",
            message: "'stored' in [[table.computed]] #1 of [[table]] 'a/t' must be true or false", lineOf: "stored"),
        BadValue(
            text: "[[table]]\npath = \"a/t\"\n[table.columns]\nx = \"Int\"\n[[table.computed]]\nname = \"c\"\nexpr = 42\n",
            message: "'expr' in [[table.computed]] #1 of [[table]] 'a/t' must be an expression string", lineOf: "expr"),
        BadValue(
            text: "[[table]]\npath = \"a/t\"\n[table.columns]\nx = \"Int\"\n[[table.computed]]\nname = \"c\"\n",
            message: "missing required key 'expr'", lineOf: "[[table.computed]]"),
        BadValue(
            text: "[[table]]\npath = \"a/t\"\n[table.columns]\ns = \"String\"\n[[table.embedding_index]]\ncolumn = \"s\"\nembedding = \"text.embed_hash(dims=8)\"\nmetric = \"dot\"\n",
            message: "metric must be cosine, ip or l2, not 'dot'", lineOf: "metric"),
        BadValue(text: "[[query]]\nname = \"q\"\ntable = \"t\"\nlimit = -1\n", message: "'limit' in [[query]] #1 must be a non-negative integer or \":param\"", lineOf: "limit"),
        BadValue(text: "[[query]]\nname = \"q\"\ntable = \"t\"\nlimit = \":k\"\n", message: "limit of query 'q' names unknown parameter ':k'", lineOf: "limit"),
        BadValue(
            text: "[[query]]\nname = \"q\"\ntable = \"t\"\nparams = { k = \"String\" }\nlimit = \":k\"\n", message: "limit parameter ':k' of query 'q' must be Int, not String",
            lineOf: "limit"),
        BadValue(text: "[[query]]\nname = \"q\"\ntable = \"t\"\nparams = { k = \"Nope\" }\n", message: "parameter 'k' of query 'q'", lineOf: "params"),
        BadValue(
            text: "[[query]]\nname = \"q\"\ntable = \"t\"\nparams = { k = { type = \"Int\", default = \"five\" } }\n", message: "default of parameter 'k' of query 'q'",
            lineOf: "params"),
        BadValue(text: "[[query]]\nname = \"q\"\ntable = \"t\"\nretrieval = []\n", message: "Parameter list cannot be empty.", lineOf: "retrieval"),
        BadValue(
            text: "[[query]]\nname = \"q\"\ntable = \"t\"\nretrieval = [\"id\"]\nselect = [\"id\"]\n",
            message: "a retrieval query takes no params, select or where", lineOf: "[[query]]"),
        BadValue(text: "[[query]]\nname = \"q\"\ntable = \"t\"\nselect = \"id\"\n", message: "'select' in [[query]] #1 must be a list of expression strings", lineOf: "select"),
        BadValue(text: "[[query]]\nname = \"bad name\"\ntable = \"t\"\n", message: "invalid query name 'bad name'", lineOf: "bad name"),
        BadValue(text: "[[query]]\nname = \"q\"\n", message: "missing required key 'table'", lineOf: "[[query]]"),
        BadValue(text: "[[query]]\nname = \"q\"\ntable = \"t\"\n\n[[query]]  # again\nname = \"q\"\ntable = \"t\"\n", message: "duplicate query name 'q'", lineOf: "# again"),
        BadValue(text: "table = 5\n", message: "'table' in the module file must be an array of tables ([[table]])", lineOf: "table"),
        BadValue(text: "[[table]\npath = 1\n", message: "expected ']]'", lineOf: "[[table]"),
    ]

    @Test(arguments: badValues)
    func badValuesAreErrorsAtTheirLine(_ bad: BadValue) throws {
        let text = bad.text
        let e = try #require(pxtError { _ = try ModuleFile.parse(text, file: "bad.toml") })
        #expect(e.code == .invalidConfiguration)
        let line = locate(bad.lineOf, in: text).line
        #expect(e.message.hasPrefix("bad.toml:\(line):"), "\(e.message)")
        #expect(e.message.contains(bad.message), "\(e.message)")
    }
}

@Suite struct ModuleFilePlanTests {
    @Test func planOfAFreshCatalogCreatesEverythingAndChangesNothing() async throws {
        try await withCatalog { cat, _ in
            let m = try ModuleFile.parse(filmsModule, file: "films.toml")
            let plan = try await m.plan(cat)
            #expect(!plan.inAgreement)
            #expect(!plan.isDestructive)
            #expect(plan.file == "films.toml")
            #expect(plan.entries.map(\.path.description) == ["app", "app/films", "app/recent"])
            #expect(plan.entries.map(\.kind) == ["dir", "table", "view"])
            #expect(plan.entries.map(\.action) == ["create", "create", "create"])
            let targets = plan.entries[1].changes.map(\.target)
            #expect(targets.first == "table app/films")
            for t in ["column id", "column rating", "computed column title_upper", "computed column half", "index idx_year", "index by_rating", "embedding index title_embedding"] {
                #expect(targets.contains(t), "missing \(t) in \(targets)")
            }
            #expect(plan.extras.isEmpty)
            #expect(plan.text.contains("+ table app/films"))
            #expect(plan.json["in_agreement"] == false)
            #expect(plan.json["summary"]?["destructive"] == 0)
            // A plan only looks.
            #expect(try await cat.kind(of: "app") == nil)
            #expect(try await cat.kind(of: "app/films") == nil)
        }
    }

    @Test func applyThenPlanIsInAgreementAndApplyingTwiceWritesNothing() async throws {
        try await withCatalog { cat, _ in
            let m = try ModuleFile.parse(filmsModule, file: "films.toml")
            let applied = try await m.apply(cat)
            #expect(!applied.inAgreement)
            #expect(try await cat.kind(of: "app") == .directory)
            #expect(try await cat.kind(of: "app/films") == .table)
            #expect(try await cat.kind(of: "app/recent") == .view)
            let t = try await cat.table("app/films")
            let columns = try await t.columns()
            #expect(columns.map(\.name) == ["id", "title", "year", "rating", "title_upper", "decade", "title_len", "half"])
            #expect(columns.first { $0.name == "id" }?.isPrimaryKey == true)
            #expect(columns.first { $0.name == "id" }?.type.nullable == false)
            #expect(columns.first { $0.name == "title" }?.comment == "Film title")
            #expect(columns.first { $0.name == "title_len" }?.isStored == false)
            #expect(columns.first { $0.name == "half" }?.onError == .ignore)
            #expect(Set(try await t.indexes().map(\.name)).isSuperset(of: ["idx_year", "by_rating", "title_embedding"]))

            let again = try await m.plan(cat)
            #expect(again.inAgreement, "\(again.text)")
            #expect(again.changes.isEmpty)
            #expect(again.text.hasSuffix("In agreement: nothing to change."))
            #expect(again.json["in_agreement"] == true)

            let history = try await t.history()
            let version = try await t.version()
            let schemaVersion = try await t.schemaVersion()
            let second = try await m.apply(cat)
            #expect(second.inAgreement)
            #expect(try await t.history() == history)
            #expect(try await t.version() == version)
            #expect(try await t.schemaVersion() == schemaVersion)
            // Data does not disturb agreement.
            _ = try await t.insert(filmRows)
            #expect(try await m.plan(cat).inAgreement)
        }
    }

    @Test func addingColumnsComputedColumnsAndIndexesIsNonDestructive() async throws {
        try await withFilms { cat, t in
            let before = try await t.count()
            var text = films(replacing: "rating = \"Float\"\n", with: "rating = \"Float\"\nnotes  = { type = \"String\", comment = \"Free text\" }\n")
            text += """

                [[table]]
                path = "app/other"
                [table.columns]
                k = "String"
                """
            text = text.replacingOccurrences(
                of: "[[table.index]]\ncolumn = \"year\"",
                with: "[[table.computed]]\nname = \"next_year\"\nexpr = \"year + 1\"\n\n[[table.index]]\ncolumn = \"year\"\n\n[[table.index]]\ncolumn = \"title\"")
            let m = try ModuleFile.parse(text, file: "films.toml")
            let plan = try await m.plan(cat)
            #expect(!plan.inAgreement)
            #expect(!plan.isDestructive, "\(plan.text)")
            let films = try #require(plan.entries.first { $0.path.description == "app/films" })
            #expect(films.action == "alter")
            #expect(Set(films.changes.map(\.target)) == ["column notes", "computed column next_year", "index idx_title"])
            #expect(films.changes.allSatisfy { $0.op == "add" && !$0.isDestructive })
            #expect(plan.entries.first { $0.path.description == "app/other" }?.action == "create")

            try await m.apply(cat)
            #expect(try await t.count() == before)
            let rows = try await t.select(["id", "notes", "next_year"], orderBy: ["id"]).rows
            #expect(rows.map { $0["next_year"] } == [.int(1980), .int(1986), .int(1983), .int(1996)])
            #expect(rows.allSatisfy { $0["notes"] == .null })
            #expect(try await t.columns().first { $0.name == "notes" }?.comment == "Free text")
            #expect(try await t.indexes().contains { $0.name == "idx_title" })
            #expect(try await m.plan(cat).inAgreement)
        }
    }

    @Test func commentChangesAreNonDestructiveAlterations() async throws {
        try await withFilms { cat, t in
            var text = films(replacing: "comment = \"Films\"", with: "comment = \"All the films\"")
            text = text.replacingOccurrences(of: "comment = \"Film title\"", with: "comment = \"The title\"")
            let m = try ModuleFile.parse(text, file: "films.toml")
            let plan = try await m.plan(cat)
            #expect(!plan.isDestructive)
            #expect(Set(plan.changes.map(\.op)) == ["alter"])
            try await m.apply(cat)
            #expect(try await t.columns().first { $0.name == "title" }?.comment == "The title")
            #expect(try await t.metadata()["comment"] == "All the films")
            #expect(try await m.plan(cat).inAgreement)
        }
    }

    /// Changes that drop or alter stored data, each named by a target in the plan.
    static let destructiveEdits: [(String, String, String)] = [
        ("drop column", "rating = \"Float\"\n", ""),
        ("change computed expression", "expr    = \"title.upper()\"", "expr    = \"title.lower()\""),
        ("change column type", "year   = \"Int\"", "year   = \"Float\""),
        ("drop computed column", "[[table.computed]]\nname     = \"title_len\"\nexpr     = \"title.len()\"\nstored   = false\n", ""),
    ]

    @Test(arguments: 0..<4)
    func destructiveChangesNeedAllowDestructive(_ index: Int) async throws {
        let (what, old, new) = Self.destructiveEdits[index]
        try await withFilms { cat, t in
            var text = films(replacing: old, with: new)
            if what == "drop column" {
                // The computed column, index and query that use the column go with it.
                text = text.replacingOccurrences(of: "[[table.computed]]\nname     = \"half\"\nexpr     = \"rating / 2\"\non_error = \"ignore\"\n", with: "")
                text = text.replacingOccurrences(of: "[[table.index]]\nname   = \"by_rating\"\ncolumn = \"rating\"\n", with: "")
                text = text.replacingOccurrences(of: "\"rating\"]", with: "\"year\"]").replacingOccurrences(of: "rating desc", with: "year desc")
                text = text.replacingOccurrences(of: "\"rating * 10 as score\"", with: "\"year * 10 as score\"").replacingOccurrences(of: "rating >= :min", with: "year >= :min")
            }
            if what == "change column type" {
                // `year // 10 * 10` typed Float no longer fits the declared Int.
                text = text.replacingOccurrences(of: "type     = \"Int\"\n", with: "")
            }
            let m = try ModuleFile.parse(text, file: "films.toml")
            let plan = try await m.plan(cat)
            #expect(plan.isDestructive, "\(what): \(plan.text)")
            #expect(plan.text.contains("[destructive]"))
            let history = try await t.history()
            let columns = try await t.columns()
            let e = try #require(await pxtErrorAsync { try await m.apply(cat) })
            #expect(e.code == .destructiveSchemaChange)
            #expect(e.message.hasPrefix("films.toml: applying it would drop or alter stored data"), "\(e.message)")
            #expect(e.message.hasSuffix("rerun with --allow-destructive to apply"))
            // Nothing changed.
            #expect(try await t.history() == history)
            #expect(try await t.columns() == columns)

            let applied = try await m.apply(cat, allowDestructive: true)
            #expect(applied.isDestructive)
            #expect(try await m.plan(cat).inAgreement, "\(what)")
            #expect(try await t.count() == filmRows.count)
            let names = try await t.columns().map(\.name)
            switch what {
            case "drop column":
                #expect(!names.contains("rating"))
            case "change computed expression":
                let rows = try await t.select(["title_upper"], orderBy: ["id"]).rows
                #expect(rows.first?["title_upper"] == .string("alien"))
            case "change column type":
                // The computed column, index and view that use `year` are rebuilt around it.
                #expect(try await t.columns().first { $0.name == "year" }?.type.kind == .float)
                #expect(plan.entries.first { $0.path.description == "app/recent" }?.action == "replace")
                // A replaced column comes back empty.
                #expect(try await cat.table("app/recent").count() == 0)
                _ = try await t.batchUpdate([["id": 2, "year": 1985.0]])
                #expect(try await t.select(["decade"], orderBy: ["id"]).rows.map { $0["decade"] } == [.null, .float(1980), .null, .null])
                #expect(try await cat.table("app/recent").count() == 1)
                #expect(try await t.indexes().contains { $0.name == "idx_year" })
            default:
                #expect(!names.contains("title_len"))
            }
        }
    }

    static let chain = """
        [[table]]
        path = "t"
        primary_key = ["id"]
        [table.columns]
        id = "Int"
        a  = "Int"
        [[table.computed]]
        name = "b"
        expr = "a + 1"
        [[table.computed]]
        name = "c"
        expr = "b * 2"
        [[table.index]]
        column = "c"
        [[view]]
        path = "big"
        base = "t"
        where = "c > 4"
        """

    @Test func whatUsesAReplacedColumnIsRebuiltAroundIt() async throws {
        try await withCatalog { cat, _ in
            try await ModuleFile.parse(Self.chain, file: "chain.toml").apply(cat)
            let t = try await cat.table("t")
            _ = try await t.insert([["id": 1, "a": 1], ["id": 2, "a": 2], ["id": 3, "a": 3]])
            #expect(try await cat.table("big").count() == 2)
            // A new type for `a`: `a` comes back empty, and b, c, the index on c and the view
            // filtering on c are rebuilt around it.
            let retyped = Self.chain.replacingOccurrences(of: "a  = \"Int\"", with: "a  = \"Float\"")
            try await check(retyped, cat, t)
            #expect(try await t.select(["a", "c"], orderBy: ["id"]).rows.map { $0["c"] } == [.null, .null, .null])
            #expect(try await cat.table("big").count() == 0)
            _ = try await t.batchUpdate([["id": 1, "a": 1.0], ["id": 2, "a": 2.0], ["id": 3, "a": 3.0]])
            #expect(try await t.select(["c"], orderBy: ["id"]).rows.map { $0["c"] } == [.float(4), .float(6), .float(8)])
            #expect(try await cat.table("big").count() == 2)
            // A new expression for b: c is recomputed from it.
            try await check(retyped.replacingOccurrences(of: "expr = \"a + 1\"", with: "expr = \"a + 2\""), cat, t)
            #expect(try await t.select(["c"], orderBy: ["id"]).rows.map { $0["c"] } == [.float(6), .float(8), .float(10)])
            #expect(try await cat.table("big").count() == 3)
        }
    }

    /// Plans `text` (destructive, rebuilding b, c, idx_c and the view), is refused without
    /// allowDestructive, applies with it, and is in agreement afterwards.
    func check(_ text: String, _ cat: Catalog, _ t: Table) async throws {
        let m = try ModuleFile.parse(text, file: "chain.toml")
        let plan = try await m.plan(cat)
        #expect(plan.isDestructive)
        let targets = Set(plan.entries.first { $0.path.description == "t" }?.changes.map(\.target) ?? [])
        #expect(targets.isSuperset(of: ["computed column b", "computed column c", "index idx_c"]), "\(plan.text)")
        #expect(plan.entries.first { $0.path.description == "big" }?.action == "replace")
        let versions = try await t.history().count
        #expect(await pxtErrorAsync { try await m.apply(cat) }?.code == .destructiveSchemaChange)
        #expect(try await t.history().count == versions)
        try await m.apply(cat, allowDestructive: true)
        #expect(try await t.indexes().contains { $0.name == "idx_c" })
        let after = try await m.plan(cat)
        #expect(after.inAgreement, "\(after.text)")
    }

    @Test func aViewTheFileDoesNotDeclareBlocksDroppingItsColumn() async throws {
        try await withFilms { cat, t in
            _ = try await cat.createView("app/good", base: "app/films", filter: "rating > 8")
            let m = try ModuleFile.parse(films(replacing: "rating = \"Float\"", with: "rating = \"Int\""), file: "films.toml")
            let history = try await t.history()
            let e = try #require(await pxtErrorAsync { try await m.apply(cat, allowDestructive: true) })
            #expect(e.code == .schemaMismatch)
            #expect(e.message.contains("drops a column that view 'app/good' filters on"), "\(e.message)")
            #expect(try await t.history() == history)
            #expect(try await cat.table("app/good").count() == 3)
        }
    }

    @Test func aPrimaryKeyChangeIsRefused() async throws {
        try await withFilms { cat, t in
            let m = try ModuleFile.parse(films(replacing: "primary_key = [\"id\"]", with: "primary_key = [\"id\", \"year\"]"), file: "films.toml")
            let history = try await t.history()
            for allow in [false, true] {
                let e = try #require(await pxtErrorAsync { try await m.apply(cat, allowDestructive: allow) })
                #expect(e.code == .schemaMismatch)
                #expect(e.message.contains("No schema update can reconcile 'app/films'"), "\(e.message)")
                #expect(e.message.contains("[id] in the catalog and [id, year] in the file"), "\(e.message)")
                #expect(e.message.hasPrefix("films.toml:\(locate("[[table]]", in: filmsModule).line):"))
            }
            #expect(await pxtErrorAsync { _ = try await m.plan(cat) }?.code == .schemaMismatch)
            #expect(try await t.history() == history)
        }
    }

    @Test func aTableWhereTheFileDeclaresAViewIsRefused() async throws {
        try await withCatalog { cat, _ in
            _ = try await cat.createTable("v", columns: [.init("x", .int)])
            _ = try await cat.createTable("base", columns: [.init("x", .int)])
            let m = try ModuleFile.parse("[[view]]\npath = \"v\"\nbase = \"base\"\n", file: "v.toml")
            let e = try #require(await pxtErrorAsync { _ = try await m.plan(cat) })
            #expect(e.code == .schemaMismatch)
            #expect(e.message.hasPrefix("v.toml:1: No schema update can reconcile 'v'"), "\(e.message)")
        }
    }

    @Test func viewsAreCreatedQueriedAndReplacedWhenTheirFilterChanges() async throws {
        try await withFilms { cat, _ in
            let view = try await cat.table("app/recent")
            #expect(try await view.count() == 2)
            #expect(try await view.metadata()["comment"] == "Newer films")
            let m = try ModuleFile.parse(filmsModule, file: "films.toml")
            let q = try await #require(m.query(named: "recent_titles")).compile(cat)
            #expect(try await q.run().rows.map { $0["title"] } == [.string("Brazil"), .string("Heat")])

            let changed = try ModuleFile.parse(films(replacing: "where   = \"year >= 1985\"", with: "where   = \"year >= 1980\""), file: "films.toml")
            let plan = try await changed.plan(cat)
            let entry = try #require(plan.entries.first { $0.path.description == "app/recent" })
            #expect(entry.action == "replace")
            #expect(!plan.isDestructive)
            try await changed.apply(cat)
            #expect(try await cat.table("app/recent").count() == 3)
            #expect(try await changed.plan(cat).inAgreement)
            // A view of a table that is neither declared nor in the catalog.
            let orphan = try ModuleFile.parse("[[view]]\npath = \"w\"\nbase = \"nowhere\"\n", file: "w.toml")
            let e = try #require(await pxtErrorAsync { _ = try await orphan.plan(cat) })
            #expect(e.message == "w.toml:1: view 'w': base 'nowhere' is neither declared before it nor in the catalog")
        }
    }

    @Test func tablesUnderDeclaredDirectoriesButNotInTheFileAreExtras() async throws {
        try await withFilms { cat, _ in
            _ = try await cat.createTable("app/scratch", columns: [.init("x", .int)])
            let plan = try await ModuleFile.parse(filmsModule, file: "films.toml").plan(cat)
            #expect(plan.inAgreement)
            #expect(plan.extras.map(\.description) == ["app/scratch"])
            #expect(plan.text.contains("? app/scratch is not declared in the file (left as is)"))
        }
    }

    @Test func declarationErrorsAreFoundBeforeAnythingIsApplied() async throws {
        try await withCatalog { cat, _ in
            let cases: [(String, String)] = [
                ("[[table]]\npath = \"t\"\nprimary_key = [\"nope\"]\n[table.columns]\nx = \"Int\"\n", "primary key column 'nope' of table 't' is not declared in [table.columns]"),
                ("[[table]]\npath = \"t\"\n[table.columns]\nx = \"Int\"\n[[table.index]]\ncolumn = \"nope\"\n", "index on unknown column 'nope' of table 't'"),
                ("[[table]]\npath = \"t\"\n[table.columns]\nx = \"Json\"\n[[table.index]]\ncolumn = \"x\"\n", "cannot create a B-tree index on column 'x' of type Json"),
                (
                    "[[table]]\npath = \"t\"\n[table.columns]\nx = \"Int\"\n[[table.computed]]\nname = \"x\"\nexpr = \"x + 1\"\n",
                    "computed column 'x' of table 't' has the name of another column"
                ),
                (
                    "[[table]]\npath = \"t\"\n[table.columns]\nx = \"Int\"\n[[table.computed]]\nname = \"c\"\nexpr = \"x + 1\"\ntype = \"String\"\n",
                    "computed column 'c' of table 't' is declared String but its expression is Int"
                ),
                ("[[table]]\npath = \"t\"\n[table.columns]\nx = \"Int\"\n\n[[table]]\npath = \"t\"\n[table.columns]\nx = \"Int\"\n", "'t' is declared twice"),
                ("[[query]]\nname = \"q\"\ntable = \"nowhere\"\n", "query 'q': table 'nowhere' is neither declared in the file nor in the catalog"),
                ("[[table]]\npath = \"t\"\n[table.columns]\nx = \"Int\"\n[[query]]\nname = \"q\"\ntable = \"t\"\nretrieval = [\"y\"]\n", "The specified parameter 'y' is not a column of the table 't'"),
                ("[[table]]\npath = \"t\"\n[table.columns]\nx = \"Int\"\n[[query]]\nname = \"q\"\ntable = \"t\"\nselect = [\"x\", \"x + 1\"]\nreturn_scalar = true\n", "query 'q': return_scalar needs exactly one select item, not 2"),
            ]
            for (text, message) in cases {
                let m = try ModuleFile.parse(text, file: "decl.toml")
                let e = try #require(await pxtErrorAsync { try await m.apply(cat) }, "\(message)")
                #expect(e.message.hasPrefix("decl.toml:"), "\(e.message)")
                #expect(e.message.contains(message), "\(e.message)")
                #expect(try await cat.kind(of: "t") == nil, "\(message)")
            }
        }
    }
}

@Suite struct ModuleFileTypoTests {
    /// A module with `typo` somewhere in an expression; the error must point at the typo.
    struct Typo: Sendable, CustomTestStringConvertible {
        var what: String
        var text: String
        /// The text the error's column must point at (unique in `text`).
        var typo: String
        var testDescription: String { what }
    }

    static let base = """
        [[table]]
        path = "t"
        primary_key = ["id"]

        [table.columns]
        id    = "Int"
        title = "String"
        year  = "Int"

        """

    static let typos: [Typo] = [
        Typo(what: "computed column", text: base + "[[table.computed]]\nname = \"c\"\nexpr = \"title.upper() + yeer\"\n", typo: "yeer"),
        // An unknown method or namespaced function is reported at its name.
        Typo(what: "computed column function", text: base + "[[table.computed]]\nname     = \"c\"\nexpr     =   \"title.uppr()\"\n", typo: "uppr"),
        Typo(what: "computed column namespace function", text: base + "[[table.computed]]\nname = \"c\"\nexpr = \"year + math.rnd(year)\"\n", typo: "rnd"),
        Typo(what: "computed column literal string", text: base + "[[table.computed]]\nname = \"c\"\nexpr = 'year + titl'\n", typo: "titl'"),
        Typo(what: "computed column with a string literal", text: base + "[[table.computed]]\nname = \"c\"\nexpr = \"title + ' (' + yeer + ')'\"\n", typo: "yeer"),
        Typo(what: "computed column after escapes", text: base + "[[table.computed]]\nname = \"c\"\nexpr = \"title + \\\"\\u00e9\\\" + yeer\"\n", typo: "yeer"),
        Typo(what: "query where after escapes", text: base + "[[query]]\nname = \"q\"\ntable = \"t\"\nwhere = \"title == \\\"x\\\" and yaer > 1\"\n", typo: "yaer"),
        Typo(what: "computed column in a one-line multi-line string", text: base + "[[table.computed]]\nname = \"c\"\nexpr = \"\"\"title + yeer\"\"\"\n", typo: "yeer"),
        Typo(what: "view filter on its own lines", text: base + "[[view]]\npath = \"v\"\nbase = \"t\"\nwhere = \"\"\"\nyear > 1980 and\n    tilte is not null\n\"\"\"\n", typo: "tilte"),
        Typo(what: "query where in a literal multi-line string", text: base + "[[query]]\nname = \"q\"\ntable = \"t\"\nwhere = \'\'\'year > 1980 and\n  id > 0 and yaer < 2000\'\'\'\n", typo: "yaer"),
        Typo(what: "computed column syntax", text: base + "[[table.computed]]\nname = \"c\"\nexpr = \"year + * 2\"\n", typo: "* 2"),
        Typo(what: "view filter", text: base + "[[view]]\npath = \"v\"\nbase = \"t\"\nwhere = \"yer > 1980\"\n", typo: "yer"),
        Typo(what: "query select", text: base + "[[query]]\nname = \"q\"\ntable = \"t\"\nselect = [\"id\", \"titel\"]\n", typo: "titel"),
        Typo(what: "query select with as", text: base + "[[query]]\nname = \"q\"\ntable = \"t\"\nselect = [\"id\",\n  \"year + yaer as next\"]\n", typo: "yaer"),
        Typo(what: "query where", text: base + "[[query]]\nname = \"q\"\ntable = \"t\"\nwhere = \"year == :yeer\"\nparams = { year = \"Int\" }\n", typo: ":yeer"),
        Typo(what: "query where column", text: base + "[[query]]\nname = \"q\"\ntable = \"t\"\nwhere = \"id > 1 and tilte is null\"\n", typo: "tilte"),
        Typo(what: "query order_by", text: base + "[[query]]\nname = \"q\"\ntable = \"t\"\nselect = [\"id\"]\norder_by = [\"id\", \"yaer desc\"]\n", typo: "yaer"),
    ]

    @Test(arguments: typos)
    func typosPointAtTheirFileLineAndColumn(_ typo: Typo) async throws {
        try await withCatalog { cat, _ in
            let m = try ModuleFile.parse(typo.text, file: "app/typo.toml")
            let at = locate(typo.typo, in: typo.text)
            for attempt in 0..<2 {
                let e = try #require(await pxtErrorAsync {
                    if attempt == 0 { _ = try await m.plan(cat) } else { try await m.apply(cat) }
                })
                #expect(e.code == .invalidExpression || e.code == .typeMismatch, "\(e)")
                #expect(e.message.hasPrefix("app/typo.toml:\(at.line):\(at.column): "), "\(typo.what): \(e.message)")
            }
            // Nothing was applied.
            #expect(try await cat.kind(of: "t") == nil)
        }
    }

    @Test func aFilterThatIsNotBoolIsATypeMismatchAtItsPosition() async throws {
        try await withCatalog { cat, _ in
            let text = Self.base + "[[view]]\npath = \"v\"\nbase = \"t\"\nwhere = \"year + 1\"\n"
            let e = try #require(await pxtErrorAsync { _ = try await ModuleFile.parse(text, file: "f.toml").plan(cat) })
            let at = locate("year + 1", in: text)
            #expect(e.code == .typeMismatch)
            #expect(e.message == "f.toml:\(at.line):\(at.column): view 'v' where: 'year + 1' must be a Bool expression, not Int")
        }
    }

    @Test func expressionsOfQueriesOverExistingTablesAreCheckedToo() async throws {
        try await withCatalog { cat, _ in
            _ = try await cat.createTable("existing", columns: [.init("a", .int)])
            let text = "[[query]]\nname = \"q\"\ntable = \"existing\"\nselect = [\"a\", \"b\"]\n"
            let e = try #require(await pxtErrorAsync { _ = try await ModuleFile.parse(text, file: "q.toml").plan(cat) })
            let at = locate("b\"]", in: text)
            #expect(e.message.hasPrefix("q.toml:\(at.line):\(at.column): query 'q' select:"), "\(e.message)")
            // Compiling the query alone reports the same place.
            let e2 = try #require(await pxtErrorAsync { _ = try await ModuleFile.parse(text, file: "q.toml").queries[0].compile(cat) })
            #expect(e2.message.hasPrefix("q.toml:\(at.line):\(at.column): "), "\(e2.message)")
        }
    }
}

@Suite struct NamedQueryTests {
    func compiled(_ cat: Catalog, _ name: String) async throws -> CompiledQuery {
        let m = try ModuleFile.parse(filmsModule, file: "films.toml")
        return try await #require(m.query(named: name)).compile(cat)
    }

    @Test func parametersDefaultsLimitAliasesAndOrder() async throws {
        try await withFilms { cat, _ in
            let q = try await compiled(cat, "by_decade")
            #expect(q.columns == ["id", "shout", "rating"])
            #expect(q.types.map(\.kind) == [.int, .string, .float])
            #expect(q.parameters.map(\.name) == ["decade", "k"])
            // The default limit is k = 2; ordered by rating, best first.
            var r = try await q.run(["decade": 1980])
            #expect(r.columns == ["id", "shout", "rating"])
            #expect(r.rows.map(\.json) == [["id": 3, "shout": "BLADE RUNNER", "rating": 8.1], ["id": 2, "shout": "BRAZIL", "rating": 7.9]])
            r = try await q.run(["decade": 1980, "k": 1])
            #expect(r.rows.count == 1)
            r = try await q.run(["decade": 1980, "k": 0])
            #expect(r.rows.isEmpty)
            r = try await q.run(["decade": 2020])
            #expect(r.rows.isEmpty)
            // runNow gives the same answer.
            #expect(try q.runNow(["decade": 1970]).rows.map(\.json) == [["id": 1, "shout": "ALIEN", "rating": 8.5]])
            let negative = try #require(await pxtErrorAsync { _ = try await q.run(["decade": 1980, "k": -1]) })
            #expect(negative.message == "query 'by_decade': limit parameter 'k' must be >= 0, not -1")
        }
    }

    @Test func orderByASelectAlias() async throws {
        try await withFilms { cat, _ in
            let q = try await compiled(cat, "scored")
            #expect(q.columns == ["id", "score"])
            let r = try await q.run()
            // Highest score first, three rows at most.
            #expect(r.rows.map { $0["id"] } == [.int(1), .int(4), .int(3)])
            #expect(r.rows[0]["score"] == .float(85))
            #expect(try await q.run(["min": 8.2]).rows.count == 2)
        }
    }

    @Test func retrievalQueriesMatchByEqualityAndReturnEveryColumn() async throws {
        try await withFilms { cat, t in
            let q = try await compiled(cat, "lookup")
            #expect(q.parameters.map(\.name) == ["id"])
            #expect(q.parameters[0].type == ColumnType.int.required)
            #expect(q.parameters[0].defaultValue == nil)
            let names = try await t.columns().map(\.name)
            #expect(q.columns == names)
            let r = try await q.run(["id": 2])
            #expect(r.rows.count == 1)
            #expect(r.rows[0]["title"] == .string("Brazil"))
            #expect(r.rows[0]["title_upper"] == .string("BRAZIL"))
            #expect(r.rows[0]["title_len"] == .int(6))
            #expect(try await q.run(["id": 42]).rows.isEmpty)
        }
    }

    @Test func returnScalarQueriesSelectOneItem() async throws {
        try await withFilms { cat, _ in
            let q = try await compiled(cat, "titles")
            #expect(q.definition.returnScalar)
            #expect(q.columns == ["title"])
            #expect(try await q.run().rows.map { $0.values } == [[.string("Alien")], [.string("Brazil")], [.string("Blade Runner")], [.string("Heat")]])
        }
    }

    @Test func argumentsAreChecked() async throws {
        try await withFilms { cat, _ in
            let q = try await compiled(cat, "by_decade")
            var e = try #require(pxtError { _ = try q.arguments(["decade": 1980, "kk": 1]) })
            #expect(e.code == .invalidArgument)
            #expect(e.message == "query 'by_decade': unknown parameter 'kk' (parameters: decade, k)")
            e = try #require(pxtError { _ = try q.arguments(["k": 1]) })
            #expect(e.code == .missingRequired)
            #expect(e.message == "query 'by_decade': missing required parameter 'decade'")
            e = try #require(pxtError { _ = try q.arguments(["decade": "1980"]) })
            #expect(e.code == .typeMismatch)
            #expect(e.message.hasPrefix("query 'by_decade': parameter 'decade': expected Int"), "\(e.message)")
            // Types are nullable unless Required[...]: null is a value for them, as for columns.
            #expect(try q.arguments(["decade": .null])["decade"] == .null)
            let strict = try ModuleFile.parse(
                "[[query]]\nname = \"strict\"\ntable = \"app/films\"\nparams = { id = \"Required[Int]\" }\nwhere = \"id == :id\"\n", file: "s.toml")
            let sq = try await strict.queries[0].compile(cat)
            e = try #require(pxtError { _ = try sq.arguments(["id": .null]) })
            #expect(e.code == .missingRequired)
            #expect(e.message.hasPrefix("query 'strict': parameter 'id': "), "\(e.message)")
            #expect(try await sq.run(["id": 4]).rows.count == 1)
            e = try #require(pxtError { _ = try q.arguments(["decade": 1.5]) })
            #expect(e.code == .typeMismatch)
            // Strings are accepted for numbers and booleans only when lax (query strings, --arg).
            #expect(try q.arguments(["decade": "1980"], lax: true) == ["decade": .int(1980), "k": .int(2)])
            #expect(try q.arguments(["decade": 1980]) == ["decade": .int(1980), "k": .int(2)])
            // A parameter with a default may be given null.
            #expect(try q.arguments(["decade": 1980, "k": .null])["k"] == .null)
            let scored = try await compiled(cat, "scored")
            #expect(try scored.arguments(["min": "7.5", "flag": "true"], lax: true) == ["min": .float(7.5), "flag": .bool(true), "tag": .string("x")])
            #expect(pxtError { _ = try scored.arguments(["flag": "true"]) }?.code == .typeMismatch)
            #expect(try scored.arguments(["min": 8]) ["min"] == .float(8))
            // Lax strings still have to parse.
            e = try #require(pxtError { _ = try q.arguments(["decade": "abc"], lax: true) })
            #expect(e.code == .typeMismatch)
            let titles = try await compiled(cat, "titles")
            e = try #require(pxtError { _ = try titles.arguments(["x": 1]) })
            #expect(e.message == "query 'titles': unknown parameter 'x' (it takes none)")
        }
    }

    @Test func aQueryKeepsWorkingAfterColumnsAreAdded() async throws {
        try await withFilms { cat, t in
            let q = try await compiled(cat, "lookup")
            let columns = q.columns
            try await t.addColumn("extra", .string)
            let r = try await q.run(["id": 1])
            #expect(r.columns == columns)
            #expect(r.rows[0]["title"] == .string("Alien"))
            try await cat.drop("app/recent")
            try await cat.drop("app/films")
            let e = try #require(await pxtErrorAsync { _ = try await q.run(["id": 1]) })
            #expect(e.code == .tableNotFound)
        }
    }
}

@Suite struct ModuleResolverTests {
    @Test func splitsDottedAndColonReferences() throws {
        #expect(try ModuleResolver.split("a.b.c") == ("a.b", "c"))
        #expect(try ModuleResolver.split("a.b:c") == ("a.b", "c"))
        #expect(try ModuleResolver.split("a:c") == ("a", "c"))
        #expect(try ModuleResolver.split("a.c") == ("a", "c"))
        for bad in ["abc", "a.b.", ".c", "a:", ":c", "a:b:c", ""] {
            let e = try #require(pxtError { _ = try ModuleResolver.split(bad) }, "\(bad)")
            #expect(e.code == .invalidArgument)
            #expect(e.message.hasPrefix("invalid query reference '\(bad)': expected module"), "\(e.message)")
        }
    }

    @Test func findsModuleFilesInTheSearchDirectoriesInOrder() throws {
        let first = ScratchDirectory(), second = ScratchDirectory()
        defer {
            first.remove()
            second.remove()
        }
        let inSecond = try second.write("app/films.toml", filmsModule)
        let resolver = ModuleResolver(searchDirectories: [first.path, second.path])
        #expect(try resolver.moduleFile("app.films") == inSecond)
        let inFirst = try first.write("app/films.toml", filmsModule)
        #expect(try resolver.moduleFile("app.films") == inFirst)
        let top = try second.write("top.toml", "")
        #expect(try resolver.moduleFile("top") == top)

        let e = try #require(pxtError { _ = try resolver.moduleFile("app.missing") })
        #expect(e.code == .invalidConfiguration)
        #expect(e.message == "could not import module 'app.missing': no file \(first.path)/app/missing.toml or \(second.path)/app/missing.toml")
        for bad in ["app..films", "app.2films", "", "app/films"] {
            let e = try #require(pxtError { _ = try resolver.moduleFile(bad) }, "\(bad)")
            #expect(e.message.hasPrefix("invalid module name '\(bad)'"), "\(e.message)")
        }
        // Search directories are made absolute and kept once each.
        #expect(ModuleResolver(searchDirectories: [first.path, first.path]).searchDirectories == [first.path])
    }

    @Test func resolvesQueriesByDottedAndColonReferences() async throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let file = try dir.write("app/films.toml", filmsModule)
        let resolver = ModuleResolver(searchDirectories: [dir.path])
        let (m, q) = try resolver.query("app.films.by_decade")
        #expect(m.path == file)
        #expect(q.name == "by_decade")
        #expect(q.location.file == file)
        let (_, q2) = try resolver.query("app.films:lookup")
        #expect(q2.retrieval == ["id"])

        var e = try #require(pxtError { _ = try resolver.query("app.films.nope") })
        #expect(e.code == .invalidConfiguration)
        #expect(e.message == "'app.films.nope': module 'app.films' has no query 'nope' (it has: by_decade, lookup, titles, scored, recent_titles)")
        e = try #require(pxtError { _ = try resolver.query("app.other:q") })
        #expect(e.message.hasPrefix("could not import module 'app.other': no file "), "\(e.message)")
        e = try #require(pxtError { _ = try resolver.query("nodots") })
        #expect(e.message.hasPrefix("invalid query reference 'nodots'"))
        try dir.write("empty.toml", "")
        e = try #require(pxtError { _ = try resolver.query("empty:q") })
        #expect(e.message == "'empty:q': module 'empty' has no query 'q'")
        // A broken module file is reported with its own path and line.
        try dir.write("broken.toml", "[[query]]\nname = \"q\"\ntable = \"t\"\ntypo = 1\n")
        e = try #require(pxtError { _ = try resolver.query("broken.q") })
        #expect(e.message.hasPrefix("\(dir.path)/broken.toml:4: unknown key 'typo'"), "\(e.message)")

        // The resolved module applies and its query runs.
        try await withCatalog { cat, _ in
            try await m.apply(cat)
            _ = try await cat.table("app/films").insert(filmRows)
            #expect(try await q.compile(cat).run(["decade": 1990]).rows.map { $0["id"] } == [.int(4)])
        }
        #expect(pxtError { _ = try ModuleFile.load(dir.path + "/none.toml") }?.code == .pathNotFound)
    }
}

@Suite struct ModuleExampleTests {
    @Test func theExampleParsesAppliesAndIsIdempotent() async throws {
        try await withCatalog { cat, _ in
            let m = try ModuleFile.parse(ModuleFile.example, file: "example.toml")
            #expect(m.tables.map(\.path.description) == ["example/docs"])
            #expect(m.views.map(\.path.description) == ["example/long_docs"])
            #expect(m.queries.map(\.name) == ["search_docs", "lookup_by_id"])
            try await m.apply(cat)
            #expect(try await m.plan(cat).inAgreement)
            let t = try await cat.table("example/docs")
            let history = try await t.history()
            try await m.apply(cat)
            #expect(try await t.history() == history)
            _ = try await t.insert([
                ["id": 1, "title": "Short", "body": "a small body of text", "meta": .json(["k": 1])],
                ["id": 2, "title": .null, "body": .string(String(repeating: "long ", count: 300)), "meta": .null],
            ])
            #expect(try await cat.table("example/long_docs").count() == 1)
            let search = try await #require(m.query(named: "search_docs")).compile(cat)
            #expect(search.columns == ["id", "title", "score"])
            let rows = try await search.run(["query_text": "small body"]).rows
            #expect(rows.map { $0["id"] } == [.int(1)])
            let lookup = try await #require(m.query(named: "lookup_by_id")).compile(cat)
            #expect(try await lookup.run(["id": 2]).rows.first?["body_len"] == .int(1500))
        }
    }

    @Test func theDocumentedExampleApplies() async throws {
        try await withCatalog { cat, _ in
            let m = try ModuleFile.parse(documentedExample, file: "myapp/docs.toml")
            try await m.apply(cat)
            #expect(try await m.plan(cat).inAgreement)
            #expect(try await cat.kind(of: "myapp/long_docs") == .view)
            for q in m.queries { _ = try await q.compile(cat) }
        }
    }
}
