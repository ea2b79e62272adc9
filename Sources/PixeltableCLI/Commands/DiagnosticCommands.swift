import Foundation
import Pixeltable

/// Commands for testing the engine from outside the process; not listed in `pxt --help`.
enum DiagnosticCommands {
    /// `pxt _insert-stream PATH START COUNT`: inserts rows `{"id": i, "note": "row i"}` one per
    /// transaction, in-process (not through the daemon), and prints `ack i` after each insert
    /// returns — that is, once it is durable. Used by the crash and multi-process tests.
    static let insertStream = PxtCommand(
        spec: CommandSpec(
            name: "_insert-stream", summary: "(testing) insert rows one at a time and acknowledge each",
            positionals: [.init(name: "path", help: "table"), .init(name: "start", help: "first id"), .init(name: "count", help: "rows")]),
        category: "Diagnostics"
    ) { args, ctx in
        guard let start = Int64(args.positional("start")!), let count = Int64(args.positional("count")!) else {
            throw args.usageError("start and count must be integers")
        }
        let path = args.positional("path")!
        let home = ctx.home
        let box = LifecycleCommands.ExitBox()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            defer { done.signal() }
            do {
                let catalog = try Catalog.open(home: home)
                let table = try await catalog.table(path)
                for i in start..<(start + count) {
                    try await table.insert([["id": .int(i), "note": .string("row \(i)")]])
                    Console.write("ack \(i)\n", fd: 1)
                }
            } catch {
                Console.write("pxt: \(error)\n", fd: 2)
                box.code = 1
            }
        }
        done.wait()
        return box.code
    }
}
