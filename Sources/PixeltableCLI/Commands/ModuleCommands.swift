import Foundation
import Pixeltable

/// `schema diff|update|example`, `insert`, `query`.
enum ModuleCommands {
    static let all: [PxtCommand] = [schema, insert, query]

    static func absolute(_ file: String) -> String { HomeDirectory.absolute(file) }

    static let schema = PxtCommand(
        spec: CommandSpec(
            name: "schema", summary: "Compare a module file with the catalog (diff), apply it (update), or print an example.",
            positionals: [.init(name: "action", help: "diff, update or example"), .init(name: "file", help: "the module file (.toml)", optional: true)],
            options: [
                .flag("allow-destructive", help: "also apply changes that drop or alter stored data"),
                .flag("dry-run", short: "n", help: "show what update would do; don't apply"),
                .flag("force", short: "f", help: "skip the confirmation of destructive changes"),
            ],
            examples: ["pxt schema diff app.toml", "pxt schema update app.toml", "pxt schema update app.toml --allow-destructive -f", "pxt schema example > app.toml"],
            acceptsJSON: true),
        category: "Modules"
    ) { args, ctx in
        let action = args.positional("action")!
        if action == "example" {
            ctx.out(ModuleFile.example, terminator: "")
            return 0
        }
        guard action == "diff" || action == "update" else {
            throw args.usageError("argument action: invalid choice: '\(action)' (choose from 'diff', 'update', 'example')")
        }
        guard let file = args.positional("file") else { throw args.usageError("the following arguments are required: file") }
        let path = absolute(file)
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("cannot read module file '\(file)'") }
        let client = try ctx.client()
        let body: JSONValue = ["schema_file": .string(path), "catalog_dir": ""]
        let plan = try client.call("POST", "/api/schema/diff", body: body)
        let inAgreement = plan["in_agreement"]?.boolValue ?? false
        func show(_ p: JSONValue) {
            if args.json { ctx.outJSON(strip(p)) } else { ctx.out(p["text"]?.stringValue ?? "") }
        }
        if action == "diff" || args.flag("dry-run") {
            show(plan)
            return inAgreement ? 0 : 2
        }
        if inAgreement {
            show(plan)
            return 0
        }
        let destructive = plan["destructive"]?.boolValue ?? false
        if destructive {
            guard args.flag("allow-destructive") else {
                show(plan)
                ctx.err("pxt: refusing to apply destructive changes without --allow-destructive")
                return 3
            }
            try ctx.confirm("apply destructive changes from \(file)?", force: args.flag("force"), refusedExit: 3)
        }
        var update = body.objectValue!
        update["allow_destructive"] = .bool(args.flag("allow-destructive"))
        // Streamed: an embedding index over a large table shows its progress on a terminal.
        let bar = ProgressBar(enabled: ctx.stderrIsTTY && !args.json)
        var applied: JSONValue? = nil
        var failure: JSONValue? = nil
        try client.stream("/api/schema/update", query: [("stream", "1")], body: Array(JSONWriter.compact.string(.object(update)).utf8)) { event in
            if let done = event["progress"]?.intValue, let total = event["total"]?.intValue {
                bar.update(Int(done), Int(total))
            } else if let r = event["result"] {
                applied = r
            } else if let e = event["error"] {
                failure = e
            }
        }
        bar.finish()
        if let failure {
            throw CLIError("\(failure["status"]?.intValue ?? 500) \(failure["detail"]?.stringValue ?? "schema update failed")")
        }
        guard let applied else { throw CLIError("the daemon ended the update without a result") }
        show(applied)
        if !args.json { ctx.out("Applied.") }
        return 0
    }

    /// The plan without the text-only keys.
    static func strip(_ p: JSONValue) -> JSONValue {
        guard case .object(var o) = p else { return p }
        o["text"] = nil
        o["destructive"] = nil
        return .object(o)
    }

    static let insert = PxtCommand(
        spec: CommandSpec(
            name: "insert", summary: "Insert rows from JSON lines, a JSON array or CSV (all or none).",
            positionals: [.init(name: "path", help: "table"), .init(name: "file", help: "input file, or - for standard input (default)", optional: true)],
            options: [.value("format", metavar: "FORMAT", help: "input format (default: from the file name or content)", choices: ["jsonl", "json", "csv"])],
            examples: ["pxt insert my_dir/my_table rows.jsonl", "cat rows.csv | pxt insert my_dir/my_table - --format csv"], acceptsJSON: true),
        category: "Modules"
    ) { args, ctx in
        let p = args.positional("path")!
        try PxtCommandLine.checkPath(p)
        let file = args.positional("file") ?? "-"
        let data: [UInt8]
        if file == "-" {
            data = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let d = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read input file '\(file)'") }
            data = Array(d)
        }
        // Relative media paths in the rows are relative to where the command runs.
        var query = [("path", p), ("cwd", FileManager.default.currentDirectoryPath)]
        if let f = args.value("format") { query.append(("format", f)) }
        if file != "-" { query.append(("file", file)) }
        let bar = ProgressBar(enabled: ctx.stderrIsTTY && !args.json)
        var result: JSONValue? = nil
        var failure: JSONValue? = nil
        try ctx.client().stream("/api/insert", query: query, body: data) { event in
            if let done = event["progress"]?.intValue, let total = event["total"]?.intValue {
                bar.update(Int(done), Int(total))
            } else if let r = event["result"] {
                result = r
            } else if let e = event["error"] {
                failure = e
            }
        }
        bar.finish()
        if let failure {
            ctx.err("pxt: \(failure["detail"]?.stringValue ?? "insert failed")")
            return 1
        }
        guard let result else { throw CLIError("the daemon ended the insert without a result") }
        if args.json {
            ctx.outJSON(result)
        } else {
            let n = result["rows"]?.intValue ?? 0
            var line = "inserted \(n) row\(n == 1 ? "" : "s") into \(PathShape.display(result["path"]?.stringValue ?? p))"
            if let v = result["version"]?.intValue { line += " (version \(v))" }
            if let e = result["errors"]?.intValue, e > 0 { line += "; \(e) computed cell\(e == 1 ? "" : "s") stored an error (see pxt errors)" }
            ctx.out(line)
        }
        return 0
    }

    static let query = PxtCommand(
        spec: CommandSpec(
            name: "query", summary: "Run a named query from a module file (myapp.queries.name or myapp.queries:name).",
            positionals: [.init(name: "ref", help: "query reference, resolved from the working directory")],
            options: [
                CommandSpec.Option(short: nil, long: "arg", metavar: "K=V", repeated: true, help: "an argument (repeat for several)")
            ],
            examples: ["pxt query myapp.queries.search_docs --arg query_text=hello", "pxt query myapp.queries:lookup_by_id --arg id=42 --json"],
            acceptsJSON: true),
        category: "Modules"
    ) { args, ctx in
        let ref = args.positional("ref")!
        var argsObject = JSONObject()
        for kv in args.list("arg") ?? [] {
            guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else { throw args.usageError("argument --arg: expected K=V, got '\(kv)'") }
            argsObject[String(kv[..<eq])] = .string(String(kv[kv.index(after: eq)...]))
        }
        let r = try ctx.client().call(
            "POST", "/api/query",
            body: ["reference": .string(ref), "search_dirs": [.string(FileManager.default.currentDirectoryPath)], "args": .object(argsObject)])
        let columns = (r["columns"]?.arrayValue ?? []).compactMap(\.stringValue)
        let scalar = r["return_scalar"]?.boolValue ?? false
        if args.json {
            let rows = r["wire_rows"]?.arrayValue ?? []
            if scalar, let c = columns.first {
                ctx.outJSON(.array(rows.map { $0[c] ?? .null }))
            } else {
                ctx.outJSON(.array(rows))
            }
            return 0
        }
        let rows = r["rows"]?.arrayValue ?? []
        ctx.out(columns.joined(separator: "\t"))
        for row in rows { ctx.out(columns.map { row[$0]?.pythonDisplay ?? "" }.joined(separator: "\t")) }
        return 0
    }
}
