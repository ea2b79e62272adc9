import Foundation
import Pixeltable

/// `ls`, `describe`, `columns`, `computed`, `idxs`, `history`, `status`, `config`.
enum InspectionCommands {
    static let all: [PxtCommand] = [ls, describe, columns, computed, idxs, history, status, config]

    static let ls = PxtCommand(
        spec: CommandSpec(
            name: "ls", summary: "List entries under a directory.",
            positionals: [.init(name: "path", help: "directory to list (default: the working directory, else the root)", optional: true)],
            options: [
                .flag("long", short: "l", help: "include column count, last version, and flags"),
                .flag("counts", help: "include row counts (runs count() per table)"),
                .flag("tree", help: "tree view"),
            ],
            examples: ["pxt ls", "pxt ls some_dir", "pxt ls -l some_dir", "pxt ls --counts"], acceptsJSON: true),
        category: "Inspection"
    ) { args, ctx in
        var query: [(String, String)] = []
        if let p = args.positional("path"), !p.isEmpty {
            try PxtCommandLine.checkPath(p)
            query.append(("path", p))
        }
        if args.flag("tree") { query.append(("tree", "1")) }
        if args.flag("long") { query.append(("details", "1")) }
        if args.flag("counts") { query.append(("counts", "1")) }
        let r = try ctx.client().call("GET", "/api/dirs", query: query)
        if args.json {
            ctx.outJSON(r)
            return 0
        }
        if args.flag("tree"), case .object(let tree)? = r["tree"] {
            func walk(_ entries: [JSONValue], _ prefix: String) {
                for (i, e) in entries.enumerated() {
                    let last = i == entries.count - 1
                    let kind = e["kind"]?.stringValue ?? ""
                    ctx.out(prefix + (last ? "\\-- " : "|-- ") + (e["name"]?.stringValue ?? "") + "  " + kind)
                    if kind == "directory" { walk(e["entries"]?.arrayValue ?? [], prefix + (last ? "    " : "|   ")) }
                }
            }
            walk(tree["entries"]?.arrayValue ?? [], "")
            return 0
        }
        let entries = r["entries"]?.arrayValue ?? []
        var headers = ["path", "kind"]
        var right: Set<Int> = []
        let counts = args.flag("counts"), long = args.flag("long")
        if counts {
            right.insert(headers.count)
            headers.append("rows")
        }
        if long {
            right.formUnion([headers.count, headers.count + 1])
            headers += ["cols", "version", "flags"]
        }
        let rows = entries.map { e -> [String] in
            var row = [e["path"]?.stringValue ?? "", e["kind"]?.stringValue ?? ""]
            if counts { row.append(e["num_rows"]?.pythonDisplay ?? "") }
            if long {
                row.append(e["num_cols"]?.pythonDisplay ?? "")
                row.append(e["last_version"]?.pythonDisplay ?? "")
                let flags = e["flags"]?.stringValue ?? ""
                row.append(flags.isEmpty ? "-" : flags)
            }
            return row
        }
        let text = TextTable.aligned(headers, rows, rightAlign: right)
        if !text.isEmpty { ctx.out(text) }
        return 0
    }

    static let describe = PxtCommand(
        spec: CommandSpec(
            name: "describe", summary: "Show a table's schema and metadata.",
            positionals: [.init(name: "path", help: "table or view")],
            examples: ["pxt describe my_dir/my_table", "pxt describe my_dir/my_table --json"], acceptsJSON: true),
        category: "Inspection"
    ) { args, ctx in
        let p = args.positional("path")!
        try PxtCommandLine.checkPath(p)
        let r = try ctx.client().call("GET", "/api/tables/describe", query: [("path", p)])
        if args.json { ctx.outJSON(r["metadata"] ?? .null) } else { ctx.out(r["text"]?.stringValue ?? "") }
        return 0
    }

    static func columnsRun(_ args: ParsedArguments, _ ctx: CommandContext, computedOnly: Bool) throws -> Int32 {
        var query: [(String, String)] = []
        if let p = args.positional("path") {
            if let problem = PathShape.problem(p), !p.isEmpty { throw args.usageError(problem) }
            query.append(("path", p))
        }
        if computedOnly { query.append(("computed", "1")) }
        let r = try ctx.client().call("GET", "/api/columns", query: query)
        let entries = r["entries"]?.arrayValue ?? []
        if args.json {
            ctx.outJSON(.array(entries))
            return 0
        }
        for e in entries {
            let table = PathShape.display(e["table"]?.stringValue ?? "")
            let name = e["column"]?.stringValue ?? ""
            let type = e["type_"]?.stringValue ?? ""
            let expr = e["computed_with"]?.stringValue ?? ""
            if args.spec.name == "computed" {
                ctx.out("\(table)\t\(name)\t\(type)\t\(expr)")
            } else {
                let kind = e["is_computed"]?.boolValue == true ? "computed" : "stored"
                ctx.out("\(table)\t\(name)\t\(type)\t\(kind)\t\(expr)")
            }
        }
        return 0
    }

    static let columns = PxtCommand(
        spec: CommandSpec(
            name: "columns", summary: "List columns across one or all tables.",
            positionals: [.init(name: "path", help: "table, view or directory (default: the whole catalog)", optional: true)],
            options: [.flag("computed", help: "restrict to computed columns")],
            examples: ["pxt columns", "pxt columns my_dir/my_table", "pxt columns --computed"], acceptsJSON: true),
        category: "Inspection"
    ) { args, ctx in try columnsRun(args, ctx, computedOnly: args.flag("computed")) }

    static let computed = PxtCommand(
        spec: CommandSpec(
            name: "computed", summary: "List computed columns (shorthand for columns --computed).",
            positionals: [.init(name: "path", help: "table, view or directory (default: the whole catalog)", optional: true)],
            options: [.flag("computed", help: "no effect: computed always lists computed columns")],
            examples: ["pxt computed", "pxt computed my_dir/my_table"], acceptsJSON: true),
        category: "Inspection"
    ) { args, ctx in try columnsRun(args, ctx, computedOnly: true) }

    static let idxs = PxtCommand(
        spec: CommandSpec(
            name: "idxs", summary: "List B-tree and embedding indexes.",
            positionals: [.init(name: "path", help: "table, view or directory (default: the whole catalog)", optional: true)],
            options: [.flag("embedding", help: "restrict to embedding indexes")],
            examples: ["pxt idxs", "pxt idxs my_dir/my_table", "pxt idxs --embedding"], acceptsJSON: true),
        category: "Inspection"
    ) { args, ctx in
        var query: [(String, String)] = []
        if let p = args.positional("path") {
            if let problem = PathShape.problem(p), !p.isEmpty { throw args.usageError(problem) }
            query.append(("path", p))
        }
        if args.flag("embedding") { query.append(("embedding", "1")) }
        let r = try ctx.client().call("GET", "/api/indexes", query: query)
        let entries = r["entries"]?.arrayValue ?? []
        if args.json {
            ctx.outJSON(.array(entries))
            return 0
        }
        for e in entries {
            var line = PathShape.display(e["table"]?.stringValue ?? "") + "\t" + (e["name"]?.stringValue ?? "") + "\t" + (e["index_type"]?.stringValue ?? "")
            line += "\t" + (e["columns"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            if e["index_type"]?.stringValue == "embedding" {
                line += "\t" + (e["metric"]?.pythonDisplay ?? "") + "\t" + (e["embedding"]?.pythonDisplay ?? "")
                // --embedding adds what the index holds: model, dimensions, rows, ANN graph.
                if e["rows"] != nil {
                    line += "\tmodel=" + (e["model"]?.stringValue ?? "-") + "\tdims=" + (e["dimensions"]?.intValue.map { String($0) } ?? "-")
                    line += "\trows=" + String(e["rows"]?.intValue ?? 0) + "\tann=" + (e["ann"]?.stringValue ?? "-")
                }
            }
            ctx.out(line)
        }
        return 0
    }

    static let history = PxtCommand(
        spec: CommandSpec(
            name: "history", summary: "Show a table's version timeline.",
            positionals: [.init(name: "path", help: "table or view")],
            options: [.value("n", short: "n", metavar: "N", help: "show at most N most recent versions")],
            examples: ["pxt history my_dir/my_table", "pxt history my_dir/my_table -n 5"], acceptsJSON: true),
        category: "Inspection"
    ) { args, ctx in
        let p = args.positional("path")!
        try PxtCommandLine.checkPath(p)
        var query = [("path", p)]
        if let n = try args.int("n") {
            guard n >= 1 else { throw args.usageError("argument -n/--n: must be >= 1; got \(n)") }
            query.append(("n", String(n)))
        }
        let r = try ctx.client().call("GET", "/api/tables/history", query: query)
        let versions = r["versions"]?.arrayValue ?? []
        if args.json {
            ctx.outJSON(.array(versions))
            return 0
        }
        let keys = ["version", "created_at", "change_type", "inserts", "updates", "deletes", "errors", "schema_change"]
        ctx.out(keys.joined(separator: "\t"))
        for v in versions { ctx.out(keys.map { v[$0]?.pythonDisplay ?? "" }.joined(separator: "\t")) }
        return 0
    }

    static func formatSize(_ n: Int64) -> String {
        if n < 1024 { return "\(n)B" }
        var x = Double(n)
        for unit in ["KB", "MB", "GB", "TB"] {
            x /= 1024
            if x < 1024 { return String(format: "%.1f%@", x, unit) }
        }
        return String(format: "%.1fPB", x / 1024)
    }

    static let status = PxtCommand(
        spec: CommandSpec(
            name: "status", summary: "Daemon and runtime state: version, daemon PID, paths, totals.",
            options: [.flag("sizes", help: "also report media and file-cache disk usage (scans the directories)")],
            examples: ["pxt status", "pxt status --sizes --json"], acceptsJSON: true),
        category: "Inspection"
    ) { args, ctx in
        let r = try ctx.client().call("GET", "/api/status", query: args.flag("sizes") ? [("sizes", "1")] : [])
        if args.json {
            ctx.outJSON(r)
            return 0
        }
        func v(_ k: String) -> String {
            guard let x = r[k], !x.isNull else { return "-" }
            return x.pythonDisplay
        }
        // The text keeps Pixeltable's form; the file counts are in the JSON.
        func sized(_ dir: String, _ size: String) -> String {
            guard let n = r[size]?.intValue else { return v(dir) }
            return v(dir) + "  (\(formatSize(n)))"
        }
        let rows = [
            ["pxt_version", v("pxt_version")], ["daemon_pid", v("pid")], ["daemon_started", v("started_at")], ["home", v("home")],
            ["db_url", v("db_url")], ["media_dir", sized("media_dir", "media_size_bytes")],
            ["file_cache_dir", sized("file_cache_dir", "file_cache_size_bytes")], ["total_tables", v("total_tables")],
            ["total_errors", v("total_errors")],
        ]
        let width = rows.map { $0[0].count }.max()! + 2
        for r in rows { ctx.out(r[0].padding(toLength: width, withPad: " ", startingAt: 0) + r[1]) }
        return 0
    }

    static let config = PxtCommand(
        spec: CommandSpec(
            name: "config", summary: "Every documented setting with its current value and source.",
            options: [
                .value("section", metavar: "SECTION", help: "only settings of this section"),
                .value("source", metavar: "SOURCE", help: "only settings from this source: env, unset, or a file path"),
                .flag("verbose", short: "v", help: "show every setting with its description, unset ones included"),
            ],
            examples: ["pxt config", "pxt config --section openai", "pxt config --source env"], acceptsJSON: true),
        category: "Inspection"
    ) { args, ctx in
        let r = try ctx.client().call("GET", "/api/config")
        var entries = r["entries"]?.arrayValue ?? []
        if let s = args.value("section") { entries = entries.filter { $0["section"]?.stringValue == s } }
        if let s = args.value("source") { entries = entries.filter { $0["source"]?.stringValue == s } }
        if args.json {
            var o = r.objectValue ?? JSONObject()
            o["entries"] = .array(entries)
            ctx.outJSON(.object(o))
            return 0
        }
        ctx.out("config_file  \(r["config_file"]?.stringValue ?? "")")
        // Settings of this shell the daemon does not serve with (it keeps the environment it
        // started with): say so, and how to fix it.
        var daemonPrint: [String: String] = [:]
        for (k, v) in r["env_fingerprint"]?.objectValue ?? JSONObject() { daemonPrint[k] = v.stringValue ?? "" }
        let (missing, different) = EnvironmentAgreement.disagreement(caller: EnvironmentAgreement.fingerprint(of: ctx.environment), daemon: daemonPrint)
        if !missing.isEmpty { ctx.out("  not in the daemon: " + missing.joined(separator: ", ")) }
        if !different.isEmpty { ctx.out("  set to a different value in the daemon: " + different.joined(separator: ", ")) }
        if !missing.isEmpty || !different.isEmpty { ctx.out("  run `pxt daemon restart` to serve with your environment") }
        func name(_ e: JSONValue) -> String { "\(e["section"]?.stringValue ?? "").\(e["key"]?.stringValue ?? "")" }
        let verbose = args.flag("verbose")
        let shown = entries.filter { verbose || $0["source"]?.stringValue != "unset" }
        let rows = shown.map { e -> [String] in
            let v = e["value"].map { $0.isNull ? "-" : $0.pythonDisplay } ?? "-"
            return [name(e), "[\(e["source"]?.stringValue ?? "")]", v]
        }
        if verbose {
            let widths = (0..<3).map { i in rows.map { TextTable.displayWidth($0[i]) }.max() ?? 0 }
            for (e, row) in zip(shown, rows) {
                ctx.out(row.enumerated().map { i, c in i < 2 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0) : c }.joined(separator: "  "))
                ctx.out("    \(e["description"]?.stringValue ?? "") (\(e["expected_type"]?.stringValue ?? ""))")
            }
        } else {
            let text = TextTable.aligned(["", "", ""], rows).split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
            if !text.isEmpty { ctx.out(text) }
            let unset = entries.filter { $0["source"]?.stringValue == "unset" }.map(name)
            if !unset.isEmpty {
                ctx.out("")
                ctx.out("not set: " + unset.joined(separator: ", "))
            }
        }
        return 0
    }
}
