/// A usage error: printed as argparse prints it (usage, `prog: error: message`, examples) and
/// exits 2.
struct UsageError: Error, Sendable {
    var spec: CommandSpec
    var message: String

    var text: String {
        var out = spec.usage + "\n\n\(spec.prog): error: \(message)\n"
        if !spec.examples.isEmpty { out += "\n" + spec.epilog + "\n" }
        return out
    }
}

/// Help was requested: print it and exit 0.
struct HelpRequested: Error, Sendable {
    var text: String
}

/// Parsed command-line arguments of one command.
struct ParsedArguments: Sendable {
    let spec: CommandSpec
    var positionals: [String: [String]] = [:]
    var values: [String: [String]] = [:]
    var flags: Set<String> = []

    /// Parses `argv` (the words after the command name) against `spec`.
    static func parse(_ argv: [String], spec: CommandSpec) throws -> ParsedArguments {
        var out = ParsedArguments(spec: spec)
        var loose: [String] = []
        let options = spec.allOptions
        func option(_ word: String) throws -> (CommandSpec.Option, String?)? {
            if word.hasPrefix("--") {
                var name = String(word.dropFirst(2))
                var inline: String? = nil
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                if let o = options.first(where: { $0.long == name }) { return (o, inline) }
                // argparse accepts unambiguous prefixes of long options.
                let matches = options.filter { $0.long.hasPrefix(name) }
                if matches.count == 1 { return (matches[0], inline) }
                if matches.count > 1 {
                    throw UsageError(spec: spec, message: "ambiguous option: --\(name) could match \(matches.map { "--\($0.long)" }.joined(separator: ", "))")
                }
                throw UsageError(spec: spec, message: "unrecognized arguments: \(word)")
            }
            if word.hasPrefix("-") && word.count >= 2 && !isNumber(word) {
                let s = String(word.dropFirst().prefix(1))
                guard let o = options.first(where: { $0.short == s }) else {
                    throw UsageError(spec: spec, message: "unrecognized arguments: \(word)")
                }
                let rest = String(word.dropFirst(2))
                return (o, rest.isEmpty ? nil : rest)
            }
            return nil
        }
        var i = 0
        var onlyPositionals = false
        while i < argv.count {
            let word = argv[i]
            i += 1
            if onlyPositionals { loose.append(word); continue }
            if word == "--" { onlyPositionals = true; continue }
            guard let (o, inline) = try option(word) else {
                loose.append(word)
                continue
            }
            if o.long == "help" { throw HelpRequested(text: spec.help) }
            if o.isFlag {
                if inline != nil && word.hasPrefix("--") { throw UsageError(spec: spec, message: "argument --\(o.long): ignored explicit argument '\(inline!)'") }
                out.flags.insert(o.key)
                continue
            }
            var collected: [String] = []
            if let inline {
                collected.append(inline)
            }
            if collected.isEmpty || o.multiple {
                while i < argv.count {
                    let next = argv[i]
                    if (try? option(next)) != nil || next == "--" { break }
                    if next.hasPrefix("-") && next.count > 1 && !isNumber(next) { break }
                    collected.append(next)
                    i += 1
                    if !o.multiple { break }
                }
            }
            let flagName = o.short.map { "-\($0)/--\(o.long)" } ?? "--\(o.long)"
            if collected.isEmpty {
                throw UsageError(spec: spec, message: "argument \(flagName): expected \(o.multiple ? "at least one argument" : "one argument")")
            }
            if let choices = o.choices {
                for v in collected where !choices.contains(v) {
                    throw UsageError(spec: spec, message: "argument \(flagName): invalid choice: '\(v)' (choose from \(choices.map { "'\($0)'" }.joined(separator: ", ")))")
                }
            }
            if o.repeated {
                out.values[o.key, default: []] += collected
            } else {
                out.values[o.key] = collected
            }
        }
        var k = 0
        for p in spec.positionals {
            if p.variadic {
                out.positionals[p.name] = Array(loose[min(k, loose.count)...])
                k = loose.count
            } else if k < loose.count {
                out.positionals[p.name] = [loose[k]]
                k += 1
            }
        }
        if k < loose.count {
            throw UsageError(spec: spec, message: "unrecognized arguments: \(loose[k...].joined(separator: " "))")
        }
        let missing = spec.positionals.filter { !$0.optional && (out.positionals[$0.name]?.isEmpty ?? true) }.map(\.name)
            + spec.options.filter { $0.required && out.values[$0.key] == nil }.map { o in o.short.map { "-\($0)/--\(o.long)" } ?? "--\(o.long)" }
        if !missing.isEmpty {
            throw UsageError(spec: spec, message: "the following arguments are required: \(missing.joined(separator: ", "))")
        }
        return out
    }

    private static func isNumber(_ s: String) -> Bool { Double(s) != nil }

    /// A positional value.
    func positional(_ name: String) -> String? { positionals[name]?.first }
    /// All values of a variadic positional.
    func positionalList(_ name: String) -> [String] { positionals[name] ?? [] }
    /// An option's value.
    func value(_ long: String) -> String? { values[long]?.last }
    /// An option's values (for `nargs='+'` and repeated options).
    func list(_ long: String) -> [String]? { values[long] }
    /// Whether a flag was given.
    func flag(_ long: String) -> Bool { flags.contains(long) }
    /// Whether `--json` was given.
    var json: Bool { flags.contains("json") }

    /// An integer option, with argparse's message on a bad value.
    func int(_ long: String, default d: Int? = nil) throws -> Int? {
        guard let v = value(long) else { return d }
        guard let i = Int(v) else {
            let o = spec.allOptions.first { $0.long == long }
            let flag = o?.short.map { "-\($0)/--\(long)" } ?? "--\(long)"
            throw UsageError(spec: spec, message: "argument \(flag): invalid int value: '\(v)'")
        }
        return i
    }

    /// A usage error for this command.
    func usageError(_ message: String) -> UsageError { UsageError(spec: spec, message: message) }
}
