import Pixeltable

/// `serve` and `deploy`.
enum ServingCommands {
    static let all: [PxtCommand] = [ServeCommand.command, deploy]

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
