import Pixeltable

/// `drop`, `rm`, `rename`, `mv`, `revert`.
enum MutationCommands {
    static let all: [PxtCommand] = [drop, rm, rename, mv, revert]

    static let dryRun = CommandSpec.Option.flag("dry-run", short: "n", help: "print the intended action; don't execute")
    static let force = CommandSpec.Option.flag("force", short: "f", help: "skip the [y/N] prompt (required without a terminal)")

    static let drop = PxtCommand(
        spec: CommandSpec(
            name: "drop", summary: "Drop a table or view (use rm for directories).",
            positionals: [.init(name: "path", help: "table or view")],
            options: [.flag("cascade", help: "also drop dependent views"), dryRun, force],
            examples: ["pxt drop my_dir/my_table -f", "pxt drop my_dir/my_table --cascade -f", "pxt drop my_dir/my_table -n"], acceptsJSON: true),
        category: "Mutation"
    ) { args, ctx in
        let p = args.positional("path")!
        let cascade = args.flag("cascade")
        if args.flag("dry-run") {
            let text = "would drop \(p) (if it is a table or view)" + (cascade ? " (cascade: dependent views also dropped)" : "")
            if args.json { ctx.outJSON(["path": .string(p), "dry_run": true, "cascade": .bool(cascade)]) } else { ctx.out(text) }
            return 0
        }
        try ctx.confirm("drop table \(p)?", force: args.flag("force"))
        try PxtCommandLine.checkPath(p)
        let r = try ctx.client().call("POST", "/api/tables/drop", body: ["path": .string(p), "cascade": .bool(cascade)])
        if args.json { ctx.outJSON(r) } else { ctx.out("dropped \(PathShape.display(r["path"]?.stringValue ?? p))") }
        return 0
    }

    static let rm = PxtCommand(
        spec: CommandSpec(
            name: "rm", summary: "Remove a directory (use drop for tables and views).",
            positionals: [.init(name: "path", help: "directory")],
            options: [.flag("recursive", short: "r", help: "also remove contained tables, views and subdirectories"), dryRun, force],
            examples: ["pxt rm my_dir -f", "pxt rm my_dir -r -f"], acceptsJSON: true),
        category: "Mutation"
    ) { args, ctx in
        let p = args.positional("path")!
        let recursive = args.flag("recursive")
        if args.flag("dry-run") {
            let text = "would remove \(p) (if it is a directory)" + (recursive ? " (recursive: contained tables/subdirs also removed)" : "")
            if args.json { ctx.outJSON(["path": .string(p), "dry_run": true, "recursive": .bool(recursive)]) } else { ctx.out(text) }
            return 0
        }
        try ctx.confirm("remove directory \(p)?", force: args.flag("force"))
        try PxtCommandLine.checkPath(p)
        let r = try ctx.client().call("POST", "/api/dirs/drop", body: ["path": .string(p), "cascade": .bool(recursive)])
        if args.json { ctx.outJSON(r) } else { ctx.out("removed \(PathShape.display(r["path"]?.stringValue ?? p))") }
        return 0
    }

    static func move(_ args: ParsedArguments, _ ctx: CommandContext, from: String, to: String, verb: String) throws -> Int32 {
        try PxtCommandLine.checkPath(from)
        try PxtCommandLine.checkPath(to)
        let dry = args.flag("dry-run")
        let r = try ctx.client().call("POST", "/api/move", body: ["path": .string(from), "new_path": .string(to), "dry_run": .bool(dry)])
        if args.json {
            var o = r.objectValue ?? JSONObject()
            if dry { o["dry_run"] = true }
            ctx.outJSON(.object(o))
            return 0
        }
        let text = "\(PathShape.display(r["path"]?.stringValue ?? from)) -> \(PathShape.display(r["new_path"]?.stringValue ?? to))"
        ctx.out(dry ? "would \(verb) \(text)" : "\(verb == "rename" ? "renamed" : "moved") \(text)")
        return 0
    }

    static let rename = PxtCommand(
        spec: CommandSpec(
            name: "rename", summary: "Rename in place; the parent directory is preserved.",
            positionals: [.init(name: "path", help: "table, view or directory"), .init(name: "new_name", help: "the new leaf name (no / or .)")],
            options: [dryRun], examples: ["pxt rename my_dir/old_name new_name"], acceptsJSON: true),
        category: "Mutation"
    ) { args, ctx in
        let p = args.positional("path")!
        let newName = args.positional("new_name")!
        if newName.contains("/") || newName.contains(".") || newName.isEmpty {
            throw args.usageError("new_name must be a name, not a path (no \"/\" or \".\"); got '\(newName)'")
        }
        let parent: String
        if let slash = p.lastIndex(of: "/") { parent = String(p[...slash]) } else { parent = "" }
        return try move(args, ctx, from: p, to: parent + newName, verb: "rename")
    }

    static let mv = PxtCommand(
        spec: CommandSpec(
            name: "mv", summary: "Move a table, view or directory under another directory.",
            positionals: [.init(name: "path", help: "table, view or directory"), .init(name: "new_dir", help: "destination directory ('' or / for the root)")],
            options: [dryRun], examples: ["pxt mv my_dir/my_table other_dir", "pxt mv my_dir/my_table /"], acceptsJSON: true),
        category: "Mutation"
    ) { args, ctx in
        let p = args.positional("path")!
        var dir = args.positional("new_dir") ?? ""
        let leaf = String(p.split(separator: "/").last ?? Substring(p))
        let dest: String
        if dir == "/" {
            dest = "/" + leaf
        } else if dir.isEmpty {
            dest = leaf
        } else {
            while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
            dest = dir + "/" + leaf
        }
        return try move(args, ctx, from: p, to: dest, verb: "move")
    }

    static let revert = PxtCommand(
        spec: CommandSpec(
            name: "revert", summary: "Undo recent operations on a table; each step undoes one version.",
            positionals: [.init(name: "path", help: "table")],
            options: [.value("steps", metavar: "N", help: "number of consecutive reverts (default 1)"), dryRun, force],
            examples: ["pxt revert my_dir/my_table -f", "pxt revert my_dir/my_table --steps 3 -f"], acceptsJSON: true),
        category: "Mutation"
    ) { args, ctx in
        let p = args.positional("path")!
        let steps = try args.int("steps", default: 1)!
        if steps < 1 { throw args.usageError("--steps must be >= 1") }
        if args.flag("dry-run") {
            if args.json { ctx.outJSON(["path": .string(p), "steps": .int(Int64(steps)), "dry_run": true]) } else { ctx.out("would revert \(p) by \(steps) version(s)") }
            return 0
        }
        try ctx.confirm("revert \(p) by \(steps) version(s)? this is irreversible.", force: args.flag("force"))
        try PxtCommandLine.checkPath(p)
        let r = try ctx.client().call("POST", "/api/tables/revert", body: ["path": .string(p), "steps": .int(Int64(steps))])
        if args.json {
            ctx.outJSON(r)
        } else {
            ctx.out("reverted \(r["path"]?.stringValue ?? p): v\(r["from_version"]?.pythonDisplay ?? "?") -> v\(r["to_version"]?.pythonDisplay ?? "?")")
        }
        return 0
    }
}
