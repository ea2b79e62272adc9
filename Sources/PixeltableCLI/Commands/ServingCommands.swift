import Pixeltable

/// `serve`, `exports` and `deploy`.
enum ServingCommands {
    static let all: [PxtCommand] = [ServeCommand.command, exports, deploy]

    /// `pxt exports [ls]` lists the outbox of `export_sql` routes with `delivery = "outbox"`;
    /// `pxt exports retry` re-queues the deliveries that failed too often.
    static let exports = PxtCommand(
        spec: CommandSpec(
            name: "exports", summary: "List pending and failed export_sql outbox deliveries per route (ls), or re-queue the failed ones (retry).",
            positionals: [.init(name: "action", help: "ls (default) or retry", optional: true)],
            options: [
                .value("service", metavar: "NAME", help: "for retry: only this service's deliveries"),
                .value("route", metavar: "PATH", help: "for retry: only this route's deliveries"),
            ],
            examples: ["pxt exports", "pxt exports --json", "pxt exports retry", "pxt exports retry --route /events"], acceptsJSON: true),
        category: "Serving"
    ) { args, ctx in
        switch args.positional("action") ?? "ls" {
        case "ls":
            let r = try ctx.client().call("GET", "/api/exports")
            let routes = r["routes"]?.arrayValue ?? []
            if args.json {
                ctx.outJSON(.array(routes))
                return 0
            }
            if routes.isEmpty {
                ctx.out("no outbox deliveries are waiting")
                return 0
            }
            let rows = routes.map { e -> [String] in
                [
                    e["service"]?.stringValue ?? "", e["route"]?.stringValue ?? "", e["pending"]?.pythonDisplay ?? "0", e["failed"]?.pythonDisplay ?? "0",
                    e["oldest_pending"]?.stringValue ?? "-", e["last_error"]?.stringValue ?? "-",
                ]
            }
            ctx.out(TextTable.aligned(["service", "route", "pending", "failed", "oldest pending", "last error"], rows, rightAlign: [2, 3]))
            return 0
        case "retry":
            var body = JSONObject()
            if let s = args.value("service") { body["service"] = .string(s) }
            if let r = args.value("route") { body["route"] = .string(r) }
            let r = try ctx.client().call("POST", "/api/exports/retry", body: .object(body))
            if args.json {
                ctx.outJSON(r)
            } else {
                let n = r["requeued"]?.intValue ?? 0
                ctx.out("re-queued \(n) failed deliver\(n == 1 ? "y" : "ies")")
            }
            return 0
        case let other:
            throw args.usageError("argument action: invalid choice: '\(other)' (choose from 'ls', 'retry')")
        }
    }

    static let deploy = PxtCommand(
        spec: CommandSpec(
            name: "deploy", summary: "Build a deploy bundle for an environment (needs Pixeltable cloud).",
            positionals: [.init(name: "env", help: "target environment name (from your Pixeltable config)")],
            examples: ["pxt deploy production"], acceptsJSON: true),
        category: "Serving"
    ) { args, ctx in
        let env = args.positional("env")!
        let message = "no deployment environment '\(env)' is configured: deploy bundles target Pixeltable cloud, which this build does not include"
        if args.json {
            ctx.err(JSONWriter(style: .spaced).string(["status": "error", "message": .string(message)]))
        } else {
            ctx.err("pxt: error: \(message)")
        }
        return 1
    }
}
