import Foundation
import Testing

/// `pxt`, `pxt --help`, `--version`, unknown commands, per-command help and usage errors.
@Suite("Help and usage")
struct HelpTests {
    /// Every command `pxt --help` lists, by the category the CLI reference puts it in (plus our
    /// Navigation and Modules groups).
    static let categories: [(String, [String])] = [
        ("Inspection", ["ls", "describe", "columns", "computed", "idxs", "history", "status", "config"]),
        ("Query", ["rows", "get", "count", "errors"]),
        ("Mutation", ["drop", "rm", "rename", "mv", "revert"]),
        ("Navigation", ["cd", "pwd"]),
        ("Modules", ["schema", "insert", "query", "models"]),
        ("Interactive", ["shell"]),
        ("Serving", ["serve", "exports", "deploy"]),
        ("Lifecycle", ["daemon", "dashboard", "health"]),
    ]

    static let allCommands: [String] = categories.flatMap(\.1)

    /// Commands with a required positional argument.
    static let commandsWithRequiredArguments = [
        "describe", "history", "rows", "get", "count", "errors", "drop", "rm", "rename", "mv", "revert", "schema", "insert", "query", "models",
        "daemon", "deploy", "serve",
    ]

    @Test func bareCommandPrintsHelp() {
        withCLI { env in
            let r = env.run([])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out.hasPrefix("usage: pxt <command> [args...]\n"))
            #expect(r.out.contains("\ncommands:\n"))
            #expect(r.err.isEmpty)
        }
    }

    @Test(arguments: ["--help", "-h"])
    func helpFlagListsCommands(_ flag: String) {
        withCLI { env in
            let r = env.run([flag])
            #expect(r.code == 0)
            #expect(r.out.hasPrefix("usage: pxt <command> [args...]\n"))
            #expect(r.out.contains("commands:"))
            #expect(r.lines.last == "Use 'pxt <command> --help' for subcommand options.")
        }
    }

    @Test func helpGroupsEveryCommandByCategory() {
        withCLI { env in
            let r = env.run(["--help"])
            #expect(r.code == 0)
            // Collect `  Category:` headings and the `    name  summary` lines below them.
            var found: [(String, [String])] = []
            var inCommands = false
            for line in r.lines {
                if line == "commands:" {
                    inCommands = true
                    continue
                }
                guard inCommands else { continue }
                if line.isEmpty { break }
                if line.hasPrefix("    ") {
                    let name = line.split(separator: " ").first.map(String.init) ?? ""
                    #expect(!found.isEmpty, "a command before any category: \(line)")
                    if !found.isEmpty { found[found.count - 1].1.append(name) }
                    #expect(line.split(separator: " ").count > 1, "command without a summary: \(line)")
                } else if line.hasPrefix("  "), line.hasSuffix(":") {
                    found.append((String(line.dropFirst(2).dropLast()), []))
                } else {
                    Issue.record("unexpected line in the command list: \(line)")
                }
            }
            #expect(found.map(\.0) == Self.categories.map(\.0))
            for ((cat, names), (expectedCat, expected)) in zip(found, Self.categories) {
                #expect(cat == expectedCat)
                #expect(names == expected, "commands of \(cat)")
            }
            // The hidden diagnostic command is not advertised.
            #expect(!r.out.contains("_insert-stream"))
        }
    }

    @Test func helpDoesNotStartADaemon() {
        withCLI { env in
            #expect(env.run(["--help"]).code == 0)
            #expect(env.run(["ls", "--help"]).code == 0)
            let status = env.run(["daemon", "status"])
            #expect(status.code == 1)
            #expect(status.err.contains("no daemon running"))
        }
    }

    @Test func version() {
        withCLI { env in
            let r = env.run(["--version"])
            #expect(r.code == 0)
            let line = r.out.trimmingCharacters(in: .newlines)
            #expect(line.hasPrefix("pxt "))
            let version = line.dropFirst(4).split(separator: ".")
            #expect(version.count >= 2 && version.allSatisfy { Int($0) != nil }, "not pxt x.y[.z]: \(line)")
        }
    }

    @Test func unknownCommand() {
        withCLI { env in
            let r = env.run(["x"])
            #expect(r.code == 2)
            #expect(r.err == "pxt: unknown command: x\n")
            #expect(r.out.isEmpty)
        }
    }

    @Test(arguments: commandsWithRequiredArguments)
    func missingArgumentsAreAUsageError(_ command: String) {
        withCLI { env in
            let r = env.run([command])
            #expect(r.code == 2, "\(r.transcript)")
            #expect(r.err.hasPrefix("usage: pxt \(command)"), "\(r.err)")
            #expect(r.err.contains("pxt \(command): error: "))
            #expect(r.err.contains("\nExamples:\n"))
            #expect(r.out.isEmpty)
        }
    }

    @Test func usageErrorNamesTheMissingArgument() {
        withCLI { env in
            let r = env.run(["rows"])
            #expect(r.code == 2)
            #expect(r.err.contains("pxt rows: error: the following arguments are required: path"))
            #expect(r.err.contains("  pxt rows my_dir/my_table -n 3"))
        }
    }

    @Test(arguments: allCommands)
    func everyCommandHasHelp(_ command: String) {
        withCLI { env in
            for flag in ["-h", "--help"] {
                let r = env.run([command, flag])
                #expect(r.code == 0, "\(command) \(flag): \(r.transcript)")
                #expect(r.out.hasPrefix("usage: pxt \(command)"), "\(command) \(flag): \(r.out)")
                #expect(r.out.contains("-h, --help"))
                #expect(r.out.contains("Examples:\n  pxt \(command)"), "\(command) \(flag) has no examples")
                #expect(r.err.isEmpty)
            }
        }
    }

    @Test func catalogCommandsAdvertiseJSON() {
        withCLI { env in
            for command in ["ls", "describe", "columns", "computed", "idxs", "history", "status", "config", "rows", "get", "count", "errors", "drop", "rm", "rename", "mv", "revert"] {
                let r = env.run([command, "-h"])
                #expect(r.out.contains("--json"), "\(command) -h does not mention --json")
            }
            for command in ["drop", "rm", "rename", "mv", "revert"] {
                let r = env.run([command, "-h"])
                #expect(r.out.contains("-n, --dry-run"), "\(command) -h does not mention -n, --dry-run")
            }
            for command in ["drop", "rm", "revert"] {
                #expect(env.run([command, "-h"]).out.contains("-f, --force"), "\(command) -h does not mention -f, --force")
            }
        }
    }

    @Test func jsonIsRefusedWhereTheReferenceSaysSo() {
        withCLI { env in
            for command in ["shell", "health", "dashboard"] {
                let r = env.run([command, "--json"])
                #expect(r.code == 2, "\(command) --json: \(r.transcript)")
                #expect(r.err.contains("unrecognized arguments: --json"))
            }
        }
    }

    @Test func renameAndMoveTakeNoForceFlag() {
        withCLI { env in
            for args in [["rename", "a/b", "c", "-f"], ["mv", "a/b", "c", "-f"]] {
                let r = env.run(args)
                #expect(r.code == 2, "\(args): \(r.transcript)")
                #expect(r.err.contains("unrecognized arguments: -f"))
            }
        }
    }

    @Test func unknownOptionAndBadInteger() {
        withCLI { env in
            let unknown = env.run(["ls", "--bogus"])
            #expect(unknown.code == 2)
            #expect(unknown.err.contains("pxt ls: error: unrecognized arguments: --bogus"))
            let badInt = env.run(["rows", "t", "-n", "abc"])
            #expect(badInt.code == 2)
            #expect(badInt.err.contains("invalid int value: 'abc'"))
            let extra = env.run(["count", "a", "b"])
            #expect(extra.code == 2)
            #expect(extra.err.contains("unrecognized arguments: b"))
        }
    }
}
