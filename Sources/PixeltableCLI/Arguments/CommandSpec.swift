/// The declaration of one `pxt` command's arguments, from which parsing, `--help` and usage
/// errors are derived in the format of Python's argparse (which Pixeltable's `pxt` uses).
struct CommandSpec: Sendable {
    /// One option or flag.
    struct Option: Sendable {
        /// Short form without the dash, e.g. `n`.
        var short: String?
        /// Long form without dashes, e.g. `dry-run`.
        var long: String
        /// The metavariable when it takes a value (`N`, `COLS`); `nil` for a flag.
        var metavar: String?
        /// Takes one or more space-separated values (argparse's `nargs='+'`).
        var multiple: Bool = false
        /// May be given several times, values accumulate (`--arg k=v --arg k2=v2`).
        var repeated: Bool = false
        /// Accepted values, if restricted.
        var choices: [String]? = nil
        var help: String
        var required: Bool = false

        static func flag(_ long: String, short: String? = nil, help: String) -> Option {
            Option(short: short, long: long, metavar: nil, help: help)
        }

        static func value(_ long: String, short: String? = nil, metavar: String, help: String, choices: [String]? = nil, required: Bool = false) -> Option {
            Option(short: short, long: long, metavar: metavar, choices: choices, help: help, required: required)
        }

        /// The key parsed values are stored under: the long name.
        var key: String { long }
        var isFlag: Bool { metavar == nil }
    }

    /// One positional argument.
    struct Positional: Sendable {
        var name: String
        var help: String
        var optional: Bool = false
        /// Takes all remaining positional values (`pk...`).
        var variadic: Bool = false
    }

    /// The command as typed after `pxt`, e.g. `rows` or `schema diff`.
    var name: String
    var summary: String
    var positionals: [Positional] = []
    var options: [Option] = []
    var examples: [String] = []
    /// Accepts `--json`.
    var acceptsJSON: Bool = false

    var prog: String { "pxt \(name)" }

    var allOptions: [Option] {
        var all = [Option.flag("help", short: "h", help: "show this help message and exit")]
        all += options
        if acceptsJSON && !options.contains(where: { $0.long == "json" }) {
            all.append(.flag("json", help: "emit machine-readable JSON"))
        }
        return all
    }

    /// `usage: pxt rows [-h] [-n N] [--cols COLS] [--json] path`
    var usage: String {
        var parts = ["usage: \(prog)"]
        for o in allOptions {
            let flag = o.short.map { "-\($0)" } ?? "--\(o.long)"
            var text = flag
            if let m = o.metavar { text += o.multiple ? " \(m) [\(m) ...]" : " \(m)" }
            parts.append(o.required ? text : "[\(text)]")
        }
        for p in positionals {
            if p.variadic {
                parts.append(p.optional ? "[\(p.name) ...]" : "\(p.name) [\(p.name) ...]")
            } else {
                parts.append(p.optional ? "[\(p.name)]" : p.name)
            }
        }
        return wrapUsage(parts)
    }

    private func wrapUsage(_ parts: [String]) -> String {
        var lines: [String] = []
        var line = parts[0]
        let indent = String(repeating: " ", count: "usage: \(prog) ".count)
        for p in parts.dropFirst() {
            if line.count + 1 + p.count > 78 && line != parts[0] {
                lines.append(line)
                line = indent + p
            } else {
                line += " " + p
            }
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    var epilog: String {
        guard !examples.isEmpty else { return "" }
        return "Examples:\n" + examples.map { "  \($0)" }.joined(separator: "\n")
    }

    /// The full `--help` text.
    var help: String {
        var out = usage + "\n\n" + summary + "\n"
        if !positionals.isEmpty {
            out += "\npositional arguments:\n"
            for p in positionals { out += row(p.name, p.help) }
        }
        out += "\noptions:\n"
        for o in allOptions {
            var names: [String] = []
            let valueText = o.metavar.map { o.multiple ? " \($0) [\($0) ...]" : " \($0)" } ?? ""
            if let s = o.short { names.append("-\(s)\(valueText)") }
            names.append("--\(o.long)\(valueText)")
            var h = o.help
            if let c = o.choices { h += " (one of: \(c.joined(separator: ", ")))" }
            out += row(names.joined(separator: ", "), h)
        }
        if !examples.isEmpty { out += "\n" + epilog + "\n" }
        return out
    }

    private func row(_ left: String, _ text: String) -> String {
        let pad = 24
        if left.count + 2 < pad {
            return "  " + left + String(repeating: " ", count: pad - left.count - 2) + text + "\n"
        }
        return "  " + left + "\n" + String(repeating: " ", count: pad) + text + "\n"
    }
}
