/// Reads typed values out of a parsed TOML table, with errors that name the file, the line and
/// the key — for module files and service configs alike.
public struct TOMLReader: Sendable {
    /// The table being read.
    public let table: TOMLTable
    /// The file it came from, for messages.
    public let file: String
    /// Where the table is, e.g. `[[service.routes]]` or `[[table]] 'myapp/docs'`, for messages.
    public let context: String
    /// The line of the table's header (or of the key that holds it).
    public let line: Int
    /// When set, `${NAME}` and `${NAME:-default}` in every string read are replaced from it
    /// (service files); module files leave strings as written.
    public var environment: [String: String]?

    /// A reader over `table`.
    ///
    /// - Parameter environment: Variables for `${NAME}` references; `nil` reads strings as they are.
    public init(_ table: TOMLTable, file: String, context: String, line: Int, environment: [String: String]? = nil) {
        self.table = table
        self.file = file
        self.context = context
        self.line = line
        self.environment = environment
    }

    /// An INVALID_CONFIGURATION error at `line`: `file:line: message`.
    public func error(_ message: String, line: Int? = nil) -> PixeltableError {
        PixeltableError(.invalidConfiguration, "\(file):\(line ?? self.line): \(message)")
    }

    /// Fails on the first key not in `allowed`.
    public func checkKeys(_ allowed: [String]) throws(PixeltableError) {
        for (key, node) in table.entries where !allowed.contains(key) {
            var hint = ""
            if let close = allowed.min(by: { editDistance($0, key) < editDistance($1, key) }), editDistance(close, key) <= 2 {
                hint = "; did you mean '\(close)'?"
            }
            throw error("unknown key '\(key)' in \(context)\(hint) (allowed: \(allowed.joined(separator: ", ")))", line: node.line)
        }
    }

    /// The node at `key`, failing if required and missing.
    public func node(_ key: String, required: Bool = false) throws(PixeltableError) -> TOMLNode? {
        if let n = table[key] { return n }
        if required { throw error("missing required key '\(key)' in \(context)") }
        return nil
    }

    /// A string value.
    public func string(_ key: String, required: Bool = false) throws(PixeltableError) -> String? {
        guard let n = try node(key, required: required) else { return nil }
        guard case .string(let s) = n.value else { throw typeError(key, n, "a string") }
        return try substituted(s, key, n)
    }

    /// `s` with its `${NAME}` references replaced, when this reader has an environment.
    ///
    /// - Parameters:
    ///   - key: The key `s` was read from, for the message of a failed substitution.
    ///   - n: The node `s` was read from, for its line.
    public func substituted(_ s: String, _ key: String, _ n: TOMLNode) throws(PixeltableError) -> String {
        guard let environment else { return s }
        do throws(EnvironmentSubstitution.Failure) {
            return try EnvironmentSubstitution.apply(s, environment)
        } catch {
            throw self.error("'\(key)' in \(context): \(error.message)", line: n.line)
        }
    }

    /// An integer value.
    public func int(_ key: String, required: Bool = false) throws(PixeltableError) -> Int? {
        guard let n = try node(key, required: required) else { return nil }
        guard case .integer(let i) = n.value, let v = Int(exactly: i) else { throw typeError(key, n, "an integer") }
        return v
    }

    /// A number of seconds (an integer or a float), which must be positive.
    public func seconds(_ key: String) throws(PixeltableError) -> Double? {
        guard let n = try node(key) else { return nil }
        let v: Double
        switch n.value {
        case .integer(let i): v = Double(i)
        case .float(let d): v = d
        default: throw typeError(key, n, "a number of seconds")
        }
        guard v > 0, v.isFinite else { throw error("'\(key)' in \(context) must be a positive number of seconds (got \(v))", line: n.line) }
        return v
    }

    /// A boolean value.
    public func bool(_ key: String, required: Bool = false) throws(PixeltableError) -> Bool? {
        guard let n = try node(key, required: required) else { return nil }
        guard case .boolean(let b) = n.value else { throw typeError(key, n, "true or false") }
        return b
    }

    /// A list of strings.
    public func stringList(_ key: String, required: Bool = false) throws(PixeltableError) -> [String]? {
        guard let n = try node(key, required: required) else { return nil }
        guard case .array(let items) = n.value else { throw typeError(key, n, "a list of strings") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item.value else { throw typeError(key, item, "a list of strings") }
            out.append(try substituted(s, key, item))
        }
        return out
    }

    /// A nested table as a reader.
    public func subtable(_ key: String, context: String) throws(PixeltableError) -> TOMLReader? {
        guard let n = table[key] else { return nil }
        guard case .table(let t) = n.value else { throw typeError(key, n, "a table") }
        return TOMLReader(t, file: file, context: context, line: n.line, environment: environment)
    }

    /// An array of tables (`[[key]]`) as readers; a single table counts as one element.
    public func tables(_ key: String, context: (Int) -> String) throws(PixeltableError) -> [TOMLReader] {
        guard let n = table[key] else { return [] }
        switch n.value {
        case .array(let items):
            var out: [TOMLReader] = []
            for (i, item) in items.enumerated() {
                guard case .table(let t) = item.value else { throw typeError(key, item, "a table") }
                out.append(TOMLReader(t, file: file, context: context(i), line: item.line, environment: environment))
            }
            return out
        case .table(let t):
            return [TOMLReader(t, file: file, context: context(0), line: n.line, environment: environment)]
        default:
            throw typeError(key, n, "an array of tables ([[\(key)]])")
        }
    }

    /// The error for a value of the wrong type: `'key' in context must be expected, not …`.
    public func typeError(_ key: String, _ n: TOMLNode, _ expected: String) -> PixeltableError {
        error("'\(key)' in \(context) must be \(expected), not \(n.value.typeName)", line: n.line)
    }
}
