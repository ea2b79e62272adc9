import Foundation
import Pixeltable

/// One `pxt` command: its argument spec and what it does.
struct PxtCommand: Sendable {
    var spec: CommandSpec
    var category: String
    var run: @Sendable (ParsedArguments, CommandContext) throws -> Int32
}

/// The `pxt` command line: the command table, `--help`, dispatch and error printing.
public enum PxtCommandLine {
    /// Categories in the order `pxt --help` lists them, as the CLI reference groups commands.
    static let categories = ["Inspection", "Query", "Mutation", "Navigation", "Modules", "Interactive", "Serving", "Lifecycle"]

    static let commands: [PxtCommand] =
        InspectionCommands.all + QueryCommands.all + MutationCommands.all + LifecycleCommands.navigation + ModuleCommands.all
        + ModelCommands.all + LifecycleCommands.interactive + ServingCommands.all + LifecycleCommands.lifecycle + [DiagnosticCommands.insertStream]

    static func command(named name: String) -> PxtCommand? { commands.first { $0.spec.name == name } }

    /// The top-level help text.
    static var help: String {
        let width = commands.filter { !$0.spec.name.hasPrefix("_") }.map(\.spec.name.count).max() ?? 10
        var out = "usage: pxt <command> [args...]\n\nPixeltable's command line: inspect, query and manage tables, and serve them over HTTP.\n\ncommands:\n"
        for cat in categories {
            let cmds = commands.filter { $0.category == cat && !$0.spec.name.hasPrefix("_") }
            guard !cmds.isEmpty else { continue }
            out += "  \(cat):\n"
            for c in cmds { out += "    \(c.spec.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(c.spec.summary)\n" }
        }
        out += "\nUse 'pxt <command> --help' for subcommand options."
        return out
    }

    /// Runs `pxt` with `arguments` (without the program name) and returns the exit status.
    public static func main(_ arguments: [String], environment: [String: String]? = nil) -> Int32 {
        let ctx = CommandContext(environment: environment ?? FastIO.environment)
        return run(arguments, ctx)
    }

    static func run(_ arguments: [String], _ ctx: CommandContext) -> Int32 {
        guard let first = arguments.first else {
            ctx.out(help)
            return 0
        }
        switch first {
        case "-h", "--help", "help":
            ctx.out(help)
            return 0
        case "--version", "-V":
            ctx.out("pxt \(PxtVersion.current)")
            return 0
        default: break
        }
        // Two-word commands: `schema diff`, `daemon start`, `serve insert` are dispatched by the
        // first word; the command parses the rest.
        if first == "serve" { return ServeCommand.run(Array(arguments.dropFirst()), ctx) }
        guard let cmd = command(named: first) else {
            ctx.err("pxt: unknown command: \(first)")
            return 2
        }
        return execute(cmd, Array(arguments.dropFirst()), ctx)
    }

    static func execute(_ cmd: PxtCommand, _ argv: [String], _ ctx: CommandContext) -> Int32 {
        do {
            let args = try ParsedArguments.parse(argv, spec: cmd.spec)
            return try cmd.run(args, ctx)
        } catch let h as HelpRequested {
            ctx.out(h.text, terminator: h.text.hasSuffix("\n") ? "" : "\n")
            return 0
        } catch let u as UsageError {
            ctx.err(u.text, terminator: "")
            return 2
        } catch let e as CommandExit {
            return e.code
        } catch let e as CLIError {
            ctx.err("pxt: \(e.message)")
            return e.exitCode
        } catch let e as PixeltableError {
            ctx.err("pxt: \(e.message)")
            return 1
        } catch {
            ctx.err("pxt: \(error)")
            return 1
        }
    }

    /// Checks a path argument's shape on the client (exit 2 with Pixeltable's message).
    static func checkPath(_ path: String) throws {
        if let problem = PathShape.problem(path) {
            throw CLIError(problem, exitCode: 2)
        }
    }
}
