import Foundation
import Pixeltable

/// `rows`, `get`, `count`, `errors`.
enum QueryCommands {
    static let all: [PxtCommand] = [rows, get, count, errors]

    /// Splits `--cols a,b,c`; an empty token is a usage error.
    static func cols(_ args: ParsedArguments) throws -> String? {
        guard let raw = args.value("cols") else { return nil }
        let parts = raw.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmedASCII }
        if parts.contains(where: \.isEmpty) { throw args.usageError("--cols token must not be empty; got '\(raw)'") }
        return parts.joined(separator: ",")
    }

    static let colsOption = CommandSpec.Option.value("cols", metavar: "COLS", help: "comma-separated column subset (default: all stored columns)")

    static let rows = PxtCommand(
        spec: CommandSpec(
            name: "rows", summary: "Show the first N rows of a table.",
            positionals: [.init(name: "path", help: "table or view")],
            options: [.value("n", short: "n", metavar: "N", help: "number of rows (default 10)"), colsOption],
            examples: ["pxt rows my_dir/my_table -n 3", "pxt rows my_dir/my_table --cols id,text,score"], acceptsJSON: true),
        category: "Query"
    ) { args, ctx in
        let p = args.positional("path")!
        try PxtCommandLine.checkPath(p)
        var query = [("path", p), ("n", String(try args.int("n", default: 10)!))]
        if let c = try cols(args) { query.append(("cols", c)) }
        let r = try ctx.client().call("GET", "/api/tables/rows", query: query)
        let columns = (r["columns"]?.arrayValue ?? []).compactMap(\.stringValue)
        let rows = r["rows"]?.arrayValue ?? []
        if args.json {
            ctx.outJSON(.array(rows))
            return 0
        }
        let display = r["display"]?.arrayValue ?? []
        ctx.out(columns.joined(separator: "\t"))
        for (i, row) in rows.enumerated() {
            let shown = i < display.count ? display[i] : [:]
            ctx.out(columns.map { (shown[$0] ?? row[$0])?.pythonDisplay ?? "" }.joined(separator: "\t"))
        }
        return 0
    }

    static let get = PxtCommand(
        spec: CommandSpec(
            name: "get", summary: "Look up a single row by primary key.",
            positionals: [.init(name: "path", help: "table or view"), .init(name: "pk", help: "primary-key values, in declared order", optional: true, variadic: true)],
            options: [colsOption],
            examples: [
                "pxt get my_dir/my_table 42", "pxt get my_dir/my_table some_string_id", "pxt get my_dir/my_table 42 abc",
                "pxt get my_dir/my_table 42 --cols id,text",
            ], acceptsJSON: true),
        category: "Query"
    ) { args, ctx in
        let p = args.positional("path")!
        try PxtCommandLine.checkPath(p)
        let pks = args.positionalList("pk")
        if pks.isEmpty { throw args.usageError("pk values are required for table row lookup") }
        if pks.contains(where: { $0.trimmedASCII.isEmpty }) {
            throw args.usageError("PK values must not be empty or whitespace-only")
        }
        var query = [("path", p)] + pks.map { ("pk", $0) }
        if let c = try cols(args) { query.append(("cols", c)) }
        var r = try ctx.client().call("GET", "/api/tables/row", query: query)
        let display = r["display"] ?? [:]
        if case .object(var o) = r {
            o["display"] = nil
            r = .object(o)
        }
        if args.json {
            ctx.outJSON(r)
            return 0
        }
        guard case .object(let row)? = r["row"] else {
            let names = (r["pk_columns"]?.arrayValue ?? []).compactMap(\.stringValue)
            let shown = zip(names, pks).map { "\($0)=\(PathShape.pythonRepr($1))" }.joined(separator: ", ")
            ctx.out("no row found for {\(shown)}")
            return 0
        }
        for (k, v) in row { ctx.out("\(k)\t\((display[k] ?? v).pythonDisplay)") }
        return 0
    }

    static let count = PxtCommand(
        spec: CommandSpec(
            name: "count", summary: "Count a table's rows.", positionals: [.init(name: "path", help: "table or view")],
            examples: ["pxt count my_dir/my_table", "pxt count my_dir/my_table --json"], acceptsJSON: true),
        category: "Query"
    ) { args, ctx in
        let p = args.positional("path")!
        try PxtCommandLine.checkPath(p)
        let r = try ctx.client().call("GET", "/api/tables/count", query: [("path", p)])
        if args.json { ctx.outJSON(r) } else { ctx.out(r["count"]?.pythonDisplay ?? "0") }
        return 0
    }

    static let errors = PxtCommand(
        spec: CommandSpec(
            name: "errors", summary: "List rows where a stored computed column failed.",
            positionals: [.init(name: "path", help: "table (must have a primary key)")],
            options: [.value("col", metavar: "NAME", help: "filter to a single computed column")],
            examples: ["pxt errors my_dir/my_table", "pxt errors my_dir/my_table --col embedding"], acceptsJSON: true),
        category: "Query"
    ) { args, ctx in
        let p = args.positional("path")!
        try PxtCommandLine.checkPath(p)
        var query = [("path", p)]
        if let c = args.value("col") { query.append(("col", c)) }
        let r = try ctx.client().call("GET", "/api/tables/errors", query: query)
        let entries = r["entries"]?.arrayValue ?? []
        if args.json {
            ctx.outJSON(.array(entries))
            return 0
        }
        for e in entries {
            let pk = "{" + (e["pk"]?.objectValue ?? JSONObject()).map { "\($0.key): \($0.value.pythonRepr)" }.joined(separator: ", ") + "}"
            ctx.out("\(pk)\t\(e["column"]?.stringValue ?? "")\t\(e["errortype"]?.stringValue ?? "")\t\(e["errormsg"]?.pythonDisplay ?? "")")
        }
        return 0
    }
}
