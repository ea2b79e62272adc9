// A TOML 1.0 parser whose values remember the line and column where they were defined, so that
// configuration loaders can point at the offending key ("unknown key 'x' in service.toml line 12").
// Pure Swift, standard library only.

// MARK: - Public model

/// A parsed TOML value and where it was defined.
public struct TOMLNode: Sendable, Hashable {
    public var value: TOMLValue
    /// 1-based line of the key that defined the value (for table elements of `[[x]]`, the header's line;
    /// for array items, the item's own line).
    public var line: Int
    /// 1-based column of that key (or item).
    public var column: Int

    public init(value: TOMLValue, line: Int, column: Int) {
        self.value = value
        self.line = line
        self.column = column
    }
}

public indirect enum TOMLValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    /// Offset date-time, local date-time, local date or local time, kept as the original text.
    case datetime(String)
    case array([TOMLNode])
    case table(TOMLTable)
}

extension TOMLValue {
    /// The value as JSON: date-times as their text, tables as objects in key order.
    public var json: JSONValue {
        switch self {
        case .string(let s), .datetime(let s): return .string(s)
        case .integer(let i): return .int(i)
        case .float(let d): return .double(d)
        case .boolean(let b): return .bool(b)
        case .array(let items): return .array(items.map(\.value.json))
        case .table(let t): return .object(JSONObject(t.entries.map { ($0.key, $0.node.value.json) }))
        }
    }
}

/// A table whose keys keep the order in which they appear.
public struct TOMLTable: Sendable, Hashable {
    public var entries: [(key: String, node: TOMLNode)]

    public init() {
        entries = []
    }

    public subscript(key: String) -> TOMLNode? {
        for entry in entries where entry.key == key {
            return entry.node
        }
        return nil
    }

    public var keys: [String] {
        entries.map(\.key)
    }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        for (l, r) in zip(lhs.entries, rhs.entries) where l.key != r.key || l.node != r.node {
            return false
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.node)
        }
    }
}

public struct TOMLError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int
    /// The file name given to the parser, if any.
    public var file: String?

    public init(message: String, line: Int, column: Int, file: String? = nil) {
        self.message = message
        self.line = line
        self.column = column
        self.file = file
    }

    /// e.g. "service.toml:3:7: expected '=' after key 'name'", or "line 3, column 7: ..." without a file.
    public var description: String {
        if let file {
            return "\(file):\(line):\(column): \(message)"
        }
        return "line \(line), column \(column): \(message)"
    }
}

public enum TOMLParser {
    /// Parses a whole document. `file` is only used in error messages.
    public static func parse(_ text: String, file: String? = nil) throws(TOMLError) -> TOMLTable {
        var state = TOMLParseState(text: text, file: file)
        return try state.parseDocument()
    }
}

extension TOMLValue {
    /// "string", "integer", "float", "boolean", "datetime", "array", "table" — for error messages.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .datetime: "datetime"
        case .array: "array"
        case .table: "table"
        }
    }
}

// MARK: - Internal conveniences

extension TOMLValue {
    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var integerValue: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    var floatValue: Double? {
        if case .float(let d) = self { return d }
        return nil
    }

    var booleanValue: Bool? {
        if case .boolean(let b) = self { return b }
        return nil
    }

    var datetimeValue: String? {
        if case .datetime(let s) = self { return s }
        return nil
    }

    var arrayValue: [TOMLNode]? {
        if case .array(let a) = self { return a }
        return nil
    }

    var tableValue: TOMLTable? {
        if case .table(let t) = self { return t }
        return nil
    }
}

extension TOMLNode {
    /// The element `key` when this node is a table.
    subscript(key: String) -> TOMLNode? {
        value.tableValue?[key]
    }

    /// The item at `index` when this node is an array (nil when out of range).
    subscript(index: Int) -> TOMLNode? {
        guard let items = value.arrayValue, items.indices.contains(index) else { return nil }
        return items[index]
    }
}

// MARK: - Document builder

/// A mutable table used while parsing; frozen into a `TOMLTable` at the end.
final class TOMLBuilderTable {
    enum Kind {
        /// Created as a super-table of a header such as `[a.b]` (may still be defined once by `[a]`).
        case implicit
        /// Defined by a `[header]`, an element of `[[header]]`, or the root.
        case explicit
        /// Created by a dotted key (`a.b = 1`).
        case dotted
    }

    var kind: Kind
    var line: Int
    var column: Int
    private var order: [String] = []
    private var items: [String: TOMLBuilderItem] = [:]

    init(kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    subscript(key: String) -> TOMLBuilderItem? {
        get { items[key] }
        set {
            if items[key] == nil { order.append(key) }
            items[key] = newValue
        }
    }

    func freeze() -> TOMLTable {
        var table = TOMLTable()
        table.entries.reserveCapacity(order.count)
        for key in order {
            guard let item = items[key] else { continue }
            switch item {
            case .value(let node):
                table.entries.append((key: key, node: node))
            case .table(let sub):
                table.entries.append((key: key, node: TOMLNode(value: .table(sub.freeze()), line: sub.line, column: sub.column)))
            case .tableArray(let array):
                let elements = array.tables.map { TOMLNode(value: .table($0.freeze()), line: $0.line, column: $0.column) }
                table.entries.append((key: key, node: TOMLNode(value: .array(elements), line: array.line, column: array.column)))
            }
        }
        return table
    }
}

/// An array of tables built by `[[header]]`.
final class TOMLBuilderArray {
    var line: Int
    var column: Int
    var tables: [TOMLBuilderTable] = []

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

enum TOMLBuilderItem {
    /// A finished value, including inline tables and static arrays (which cannot be extended).
    case value(TOMLNode)
    case table(TOMLBuilderTable)
    case tableArray(TOMLBuilderArray)
}

/// The last column computed by the parser (the parser itself is only used locally).
final class TOMLColumnCache {
    var lineStart = -1
    var index = 0
    var column = 1
}

/// A position in the source.
struct TOMLMark {
    var line: Int
    var column: Int
}

/// One segment of a (possibly dotted) key.
struct TOMLKeyPart {
    var name: String
    var mark: TOMLMark
}

/// ASCII bytes used by the scanner.
enum TOMLByte {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let apostrophe: UInt8 = 0x27
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let equals: UInt8 = 0x3D
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let underscore: UInt8 = 0x5F
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
    static let delete: UInt8 = 0x7F

    static func isDigit(_ b: UInt8) -> Bool { b >= zero && b <= nine }

    static func isHexDigit(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    static func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }

    static func isBareKey(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) || b == underscore || b == minus }

    /// Bytes that can make up a number, boolean or date-time token.
    static func isToken(_ b: UInt8) -> Bool {
        isLetter(b) || isDigit(b) || b == underscore || b == minus || b == plus || b == dot || b == colon
    }

    /// Control characters that may not appear in comments or strings (tab is allowed).
    static func isForbiddenControl(_ b: UInt8) -> Bool { (b < 0x20 && b != tab) || b == delete }

    static func hexValue(_ b: UInt8) -> UInt32 {
        if isDigit(b) { return UInt32(b - zero) }
        if b >= 0x61 { return UInt32(b - 0x61 + 10) }
        return UInt32(b - 0x41 + 10)
    }
}

// MARK: - Parser

struct TOMLParseState {
    let bytes: [UInt8]
    let file: String?
    var pos = 0
    var line = 1
    var lineStart = 0
    let root = TOMLBuilderTable(kind: .explicit, line: 1, column: 1)
    var current: TOMLBuilderTable
    let columnCache = TOMLColumnCache()
    /// Arrays and inline tables open around the value being parsed.
    var depth = 0
    /// The deepest nesting of arrays, inline tables and dotted keys accepted: the parser and
    /// what reads its tables recurse once per level, so this bounds their stack (a file of
    /// 20,000 `[` would otherwise overflow it).
    static let maxDepth = 100

    init(text: String, file: String?) {
        bytes = Array(text.utf8)
        self.file = file
        current = root
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            pos = 3
            lineStart = 3
        }
    }

    // MARK: Positions and errors

    func peek(_ offset: Int = 0) -> UInt8? {
        let index = pos + offset
        return index < bytes.count ? bytes[index] : nil
    }

    /// The position of byte `index`, which must be on the current line (columns count Unicode scalars).
    func mark(at index: Int) -> TOMLMark {
        // Resume from the last computed column when possible, so long lines stay linear.
        var column = 1
        var k = lineStart
        if columnCache.lineStart == lineStart, columnCache.index <= index {
            column = columnCache.column
            k = columnCache.index
        }
        while k < index {
            if bytes[k] & 0xC0 != 0x80 { column += 1 }
            k += 1
        }
        columnCache.lineStart = lineStart
        columnCache.index = index
        columnCache.column = column
        return TOMLMark(line: line, column: column)
    }

    func mark() -> TOMLMark { mark(at: pos) }

    func error(_ message: String, at mark: TOMLMark) -> TOMLError {
        TOMLError(message: message, line: mark.line, column: mark.column, file: file)
    }

    func error(_ message: String) -> TOMLError { error(message, at: mark()) }

    /// Describes what is at the current position, for "found ..." messages.
    func describeHere() -> String {
        guard pos < bytes.count else { return "end of file" }
        let b = bytes[pos]
        if b == TOMLByte.lf || (b == TOMLByte.cr && peek(1) == TOMLByte.lf) { return "end of line" }
        if TOMLByte.isForbiddenControl(b) { return "control character \(Self.codePoint(UInt32(b)))" }
        // A word-like run (up to 20 characters), or else a single character.
        var end = pos
        var count = 0
        while end < bytes.count, count < 20, TOMLByte.isToken(bytes[end]) || bytes[end] >= 0x80 {
            if bytes[end] & 0xC0 != 0x80 { count += 1 }
            end += 1
        }
        if end == pos { end = pos + 1 }
        // Stop on a scalar boundary.
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return "'" + String(decoding: bytes[pos..<end], as: UTF8.self) + "'"
    }

    static func codePoint(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    // MARK: Whitespace, comments, newlines

    mutating func skipWhitespace() {
        while pos < bytes.count, bytes[pos] == TOMLByte.space || bytes[pos] == TOMLByte.tab {
            pos += 1
        }
    }

    /// Whether the current position starts a newline (LF or CRLF).
    func atNewline() -> Bool {
        guard let b = peek() else { return false }
        return b == TOMLByte.lf || (b == TOMLByte.cr && peek(1) == TOMLByte.lf)
    }

    /// Consumes an LF or CRLF newline; a bare CR is an error.
    mutating func consumeNewline() throws(TOMLError) {
        if peek() == TOMLByte.cr {
            guard peek(1) == TOMLByte.lf else { throw error("bare carriage return (CR without LF)") }
            pos += 1
        }
        pos += 1
        line += 1
        lineStart = pos
    }

    /// Skips a `#` comment up to (not including) the end of the line.
    mutating func skipComment() throws(TOMLError) {
        pos += 1
        while pos < bytes.count {
            let b = bytes[pos]
            if b == TOMLByte.lf || (b == TOMLByte.cr && peek(1) == TOMLByte.lf) { return }
            if TOMLByte.isForbiddenControl(b) {
                throw error("control character \(Self.codePoint(UInt32(b))) in comment")
            }
            pos += 1
        }
    }

    /// Skips whitespace, comments and newlines (inside arrays).
    mutating func skipTrivia() throws(TOMLError) {
        while true {
            skipWhitespace()
            guard let b = peek() else { return }
            if b == TOMLByte.hash {
                try skipComment()
            } else if b == TOMLByte.lf || b == TOMLByte.cr {
                try consumeNewline()
            } else {
                return
            }
        }
    }

    /// After a key/value pair or header: optional whitespace and comment, then a newline or end of file.
    mutating func finishLine(after what: String) throws(TOMLError) {
        skipWhitespace()
        if peek() == TOMLByte.hash { try skipComment() }
        guard pos < bytes.count else { return }
        if bytes[pos] == TOMLByte.lf || bytes[pos] == TOMLByte.cr {
            try consumeNewline()
            return
        }
        throw error("expected end of line after \(what), found \(describeHere())")
    }

    // MARK: Document

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        while true {
            skipWhitespace()
            guard let b = peek() else { break }
            if b == TOMLByte.hash || b == TOMLByte.lf || b == TOMLByte.cr {
                try finishLine(after: "comment")
            } else if b == TOMLByte.openBracket {
                try parseHeader()
                try finishLine(after: "table header")
            } else {
                try parseKeyValue(into: current)
                try finishLine(after: "value")
            }
        }
        return root.freeze()
    }

    // MARK: Keys

    mutating func parseKey() throws(TOMLError) -> [TOMLKeyPart] {
        var parts: [TOMLKeyPart] = []
        while true {
            skipWhitespace()
            parts.append(try parseSimpleKey())
            // Each part of a dotted key is a table level too.
            if depth + parts.count > Self.maxDepth { throw error("keys and tables nested deeper than \(Self.maxDepth) levels") }
            skipWhitespace()
            guard peek() == TOMLByte.dot else { return parts }
            pos += 1
        }
    }

    mutating func parseSimpleKey() throws(TOMLError) -> TOMLKeyPart {
        let start = mark()
        guard let b = peek() else { throw error("expected a key, found end of file") }
        if b == TOMLByte.quote || b == TOMLByte.apostrophe {
            if peek(1) == b, peek(2) == b {
                throw error("multi-line strings cannot be used as keys")
            }
            let name: String
            if b == TOMLByte.quote {
                name = try parseBasicString()
            } else {
                name = try parseLiteralString()
            }
            return TOMLKeyPart(name: name, mark: start)
        }
        let begin = pos
        while pos < bytes.count, TOMLByte.isBareKey(bytes[pos]) { pos += 1 }
        guard pos > begin else { throw error("expected a key, found \(describeHere())") }
        return TOMLKeyPart(name: String(decoding: bytes[begin..<pos], as: UTF8.self), mark: start)
    }

    /// A key as the user would write it: bare segments as-is, others quoted.
    static func display(_ parts: some Collection<TOMLKeyPart>) -> String {
        parts.map { part -> String in
            let name = part.name
            if !name.isEmpty, name.utf8.allSatisfy(TOMLByte.isBareKey) { return name }
            var quoted = "\""
            for ch in name.unicodeScalars {
                switch ch {
                case "\"": quoted += "\\\""
                case "\\": quoted += "\\\\"
                default: quoted.unicodeScalars.append(ch)
                }
            }
            return quoted + "\""
        }.joined(separator: ".")
    }

    // MARK: Key/value pairs

    mutating func parseKeyValue(into table: TOMLBuilderTable) throws(TOMLError) {
        let key = try parseKey()
        guard peek() == TOMLByte.equals else {
            throw error("expected '=' after key '\(Self.display(key))'")
        }
        pos += 1
        skipWhitespace()
        // A dotted key's parts are levels the value sits under.
        depth += key.count - 1
        let value = try parseValue()
        depth -= key.count - 1
        // `key` is never empty: parseKey returns at least one part.
        let last = key[key.count - 1]
        try insert(key, TOMLNode(value: value, line: last.mark.line, column: last.mark.column), into: table)
    }

    /// Stores `node` under the dotted `key` in `table`, creating dotted sub-tables as needed.
    func insert(_ key: [TOMLKeyPart], _ node: TOMLNode, into table: TOMLBuilderTable) throws(TOMLError) {
        var target = table
        for index in 0..<(key.count - 1) {
            let part = key[index]
            let prefix = Self.display(key[0...index])
            switch target[part.name] {
            case nil:
                let sub = TOMLBuilderTable(kind: .dotted, line: part.mark.line, column: part.mark.column)
                target[part.name] = .table(sub)
                target = sub
            case .table(let sub):
                guard sub.kind == .dotted else {
                    throw error("cannot use dotted key '\(Self.display(key))' to extend table '\(prefix)' defined elsewhere", at: part.mark)
                }
                target = sub
            case .tableArray:
                throw error("cannot use dotted key '\(Self.display(key))' to extend array of tables '\(prefix)'", at: part.mark)
            case .value(let existing):
                if case .table = existing.value {
                    throw error("cannot extend inline table '\(prefix)'", at: part.mark)
                }
                throw error("cannot define key '\(Self.display(key))' because '\(prefix)' is \(Self.describe(existing.value))", at: part.mark)
            }
        }
        let last = key[key.count - 1]
        guard target[last.name] == nil else {
            throw error("duplicate key '\(Self.display(key))'", at: last.mark)
        }
        target[last.name] = .value(node)
    }

    /// "a string", "an integer", "an inline table", ... for error messages.
    static func describe(_ value: TOMLValue) -> String {
        switch value {
        case .integer: "an integer"
        case .array: "an array"
        case .table: "an inline table"
        default: "a " + value.typeName
        }
    }

    // MARK: Table headers

    mutating func parseHeader() throws(TOMLError) {
        pos += 1
        let isArray = peek() == TOMLByte.openBracket
        if isArray { pos += 1 }
        let key = try parseKey()
        let closing = isArray ? "']]'" : "']'"
        guard peek() == TOMLByte.closeBracket else {
            throw error("expected \(closing) to close table header, found \(describeHere())")
        }
        pos += 1
        if isArray {
            guard peek() == TOMLByte.closeBracket else {
                throw error("expected \(closing) to close array of tables header, found \(describeHere())")
            }
            pos += 1
        }
        current = try openTable(key, isArray: isArray)
    }

    /// Finds or creates the table named by a `[key]` or `[[key]]` header.
    func openTable(_ key: [TOMLKeyPart], isArray: Bool) throws(TOMLError) -> TOMLBuilderTable {
        let path = Self.display(key)
        var target = root
        for index in 0..<(key.count - 1) {
            let part = key[index]
            switch target[part.name] {
            case nil:
                let sub = TOMLBuilderTable(kind: .implicit, line: part.mark.line, column: part.mark.column)
                target[part.name] = .table(sub)
                target = sub
            case .table(let sub):
                target = sub
            case .tableArray(let array):
                // `[[a.b]]` / `[a.b]` after `[[a]]` go into the last element of `a`.
                guard let lastTable = array.tables.last else {
                    throw error("internal error: empty array of tables", at: part.mark)
                }
                target = lastTable
            case .value(let existing):
                let prefix = Self.display(key[0...index])
                if case .table = existing.value {
                    throw error("cannot extend inline table '\(prefix)'", at: part.mark)
                }
                throw error("cannot define table '\(path)' because '\(prefix)' is \(Self.describe(existing.value))", at: part.mark)
            }
        }
        let last = key[key.count - 1]
        let existing = target[last.name]
        if isArray {
            let element = TOMLBuilderTable(kind: .explicit, line: last.mark.line, column: last.mark.column)
            switch existing {
            case nil:
                let array = TOMLBuilderArray(line: last.mark.line, column: last.mark.column)
                array.tables.append(element)
                target[last.name] = .tableArray(array)
            case .tableArray(let array):
                array.tables.append(element)
            case .table:
                throw error("cannot define array of tables '\(path)' because '\(path)' is already a table", at: last.mark)
            case .value(let value):
                if case .array = value.value {
                    throw error("cannot append to static array '\(path)'", at: last.mark)
                }
                if case .table = value.value {
                    throw error("cannot extend inline table '\(path)'", at: last.mark)
                }
                throw error("cannot define array of tables '\(path)' because '\(path)' is \(Self.describe(value.value))", at: last.mark)
            }
            return element
        }
        switch existing {
        case nil:
            let table = TOMLBuilderTable(kind: .explicit, line: last.mark.line, column: last.mark.column)
            target[last.name] = .table(table)
            return table
        case .table(let table):
            guard table.kind == .implicit else {
                throw error("table '\(path)' is already defined", at: last.mark)
            }
            table.kind = .explicit
            table.line = last.mark.line
            table.column = last.mark.column
            return table
        case .tableArray:
            throw error("table '\(path)' is already defined as an array of tables", at: last.mark)
        case .value(let value):
            if case .table = value.value {
                throw error("cannot extend inline table '\(path)'", at: last.mark)
            }
            throw error("cannot define table '\(path)' because '\(path)' is \(Self.describe(value.value))", at: last.mark)
        }
    }

    // MARK: Values

    mutating func parseValue() throws(TOMLError) -> TOMLValue {
        guard let b = peek() else { throw error("expected a value, found end of file") }
        switch b {
        case TOMLByte.quote:
            if peek(1) == TOMLByte.quote, peek(2) == TOMLByte.quote {
                return .string(try parseMultilineString(quote: TOMLByte.quote))
            }
            return .string(try parseBasicString())
        case TOMLByte.apostrophe:
            if peek(1) == TOMLByte.apostrophe, peek(2) == TOMLByte.apostrophe {
                return .string(try parseMultilineString(quote: TOMLByte.apostrophe))
            }
            return .string(try parseLiteralString())
        case TOMLByte.openBracket, TOMLByte.openBrace:
            depth += 1
            defer { depth -= 1 }
            if depth > Self.maxDepth { throw error("arrays and inline tables nested deeper than \(Self.maxDepth) levels") }
            return b == TOMLByte.openBracket ? try parseArray() : try parseInlineTable()
        default:
            return try parseScalar()
        }
    }

    mutating func parseArray() throws(TOMLError) -> TOMLValue {
        let open = mark()
        pos += 1
        var items: [TOMLNode] = []
        while true {
            try skipTrivia()
            guard let b = peek() else { throw error("unterminated array", at: open) }
            if b == TOMLByte.closeBracket {
                pos += 1
                return .array(items)
            }
            let start = mark()
            let value = try parseValue()
            items.append(TOMLNode(value: value, line: start.line, column: start.column))
            try skipTrivia()
            guard let c = peek() else { throw error("unterminated array", at: open) }
            if c == TOMLByte.comma {
                pos += 1
            } else if c == TOMLByte.closeBracket {
                pos += 1
                return .array(items)
            } else {
                throw error("expected ',' or ']' in array, found \(describeHere())")
            }
        }
    }

    mutating func parseInlineTable() throws(TOMLError) -> TOMLValue {
        let open = mark()
        pos += 1
        let table = TOMLBuilderTable(kind: .explicit, line: open.line, column: open.column)
        skipWhitespace()
        if peek() == TOMLByte.closeBrace {
            pos += 1
            return .table(TOMLTable())
        }
        while true {
            skipWhitespace()
            try checkInlineTableContinues(open)
            let key = try parseKey()
            guard peek() == TOMLByte.equals else {
                try checkInlineTableContinues(open)
                throw error("expected '=' after key '\(Self.display(key))'")
            }
            pos += 1
            skipWhitespace()
            try checkInlineTableContinues(open)
            depth += key.count - 1
            let value = try parseValue()
            depth -= key.count - 1
            let last = key[key.count - 1]
            try insert(key, TOMLNode(value: value, line: last.mark.line, column: last.mark.column), into: table)
            skipWhitespace()
            try checkInlineTableContinues(open)
            guard let c = peek() else { throw error("unterminated inline table", at: open) }
            if c == TOMLByte.comma {
                pos += 1
                skipWhitespace()
                if peek() == TOMLByte.closeBrace {
                    throw error("trailing comma is not allowed in an inline table")
                }
            } else if c == TOMLByte.closeBrace {
                pos += 1
                return .table(table.freeze())
            } else {
                throw error("expected ',' or '}' in inline table, found \(describeHere())")
            }
        }
    }

    /// Inline tables must close on the line they open.
    func checkInlineTableContinues(_ open: TOMLMark) throws(TOMLError) {
        guard let b = peek() else { throw error("unterminated inline table", at: open) }
        if b == TOMLByte.lf || b == TOMLByte.cr || b == TOMLByte.hash {
            throw error("inline table must be on a single line (missing '}')")
        }
    }

    // MARK: Strings

    mutating func parseBasicString() throws(TOMLError) -> String {
        let open = mark()
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw error("unterminated string", at: open) }
            let b = bytes[pos]
            if b == TOMLByte.quote {
                pos += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b == TOMLByte.backslash {
                try parseEscape(into: &out)
            } else if b == TOMLByte.lf || (b == TOMLByte.cr && peek(1) == TOMLByte.lf) {
                throw error("unterminated string (newline before closing quote)", at: open)
            } else if TOMLByte.isForbiddenControl(b) {
                throw error("control character \(Self.codePoint(UInt32(b))) in string")
            } else {
                out.append(b)
                pos += 1
            }
        }
    }

    mutating func parseLiteralString() throws(TOMLError) -> String {
        let open = mark()
        pos += 1
        let begin = pos
        while true {
            guard pos < bytes.count else { throw error("unterminated string", at: open) }
            let b = bytes[pos]
            if b == TOMLByte.apostrophe {
                pos += 1
                return String(decoding: bytes[begin..<(pos - 1)], as: UTF8.self)
            }
            if b == TOMLByte.lf || (b == TOMLByte.cr && peek(1) == TOMLByte.lf) {
                throw error("unterminated string (newline before closing quote)", at: open)
            }
            if TOMLByte.isForbiddenControl(b) {
                throw error("control character \(Self.codePoint(UInt32(b))) in string")
            }
            pos += 1
        }
    }

    /// A multi-line string: `"""` (basic, with escapes and line-ending backslashes) or `'''`
    /// (literal, taken as written). A newline right after the opening delimiter is dropped.
    mutating func parseMultilineString(quote: UInt8) throws(TOMLError) -> String {
        let escapes = quote == TOMLByte.quote
        let open = mark()
        pos += 3
        if atNewline() { try consumeNewline() }
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw error("unterminated multi-line string", at: open) }
            let b = bytes[pos]
            if b == quote {
                if try closeMultiline(quote: b, into: &out) { return String(decoding: out, as: UTF8.self) }
            } else if escapes && b == TOMLByte.backslash {
                if lineEndingBackslash() {
                    // Trim the newline and all whitespace (including newlines) up to the next content.
                    pos += 1
                    while true {
                        skipWhitespace()
                        guard atNewline() else { break }
                        try consumeNewline()
                    }
                } else {
                    try parseEscape(into: &out)
                }
            } else if b == TOMLByte.lf || b == TOMLByte.cr {
                try consumeNewline()
                out.append(TOMLByte.lf)
            } else if TOMLByte.isForbiddenControl(b) {
                throw error("control character \(Self.codePoint(UInt32(b))) in string")
            } else {
                out.append(b)
                pos += 1
            }
        }
    }

    /// At a run of quote characters inside a multi-line string: returns true (after consuming the
    /// delimiter) when the run closes the string. Up to two quotes may directly precede the delimiter.
    mutating func closeMultiline(quote: UInt8, into out: inout [UInt8]) throws(TOMLError) -> Bool {
        var run = 0
        while peek(run) == quote { run += 1 }
        if run < 3 {
            out.append(contentsOf: repeatElement(quote, count: run))
            pos += run
            return false
        }
        if run > 5 {
            throw error("too many quotes at the end of a multi-line string", at: mark(at: pos + 5))
        }
        out.append(contentsOf: repeatElement(quote, count: run - 3))
        pos += run
        return true
    }

    /// Whether the backslash at `pos` is a line-ending backslash (only whitespace until the newline).
    func lineEndingBackslash() -> Bool {
        var k = pos + 1
        while k < bytes.count, bytes[k] == TOMLByte.space || bytes[k] == TOMLByte.tab { k += 1 }
        guard k < bytes.count else { return false }
        return bytes[k] == TOMLByte.lf || (bytes[k] == TOMLByte.cr && k + 1 < bytes.count && bytes[k + 1] == TOMLByte.lf)
    }

    mutating func parseEscape(into out: inout [UInt8]) throws(TOMLError) {
        let start = mark()
        pos += 1
        guard let e = peek() else { throw error("unterminated string") }
        let simple: UInt8?
        switch e {
        case 0x62: simple = 0x08  // \b
        case 0x74: simple = 0x09  // \t
        case 0x6E: simple = 0x0A  // \n
        case 0x66: simple = 0x0C  // \f
        case 0x72: simple = 0x0D  // \r
        case TOMLByte.quote: simple = TOMLByte.quote
        case TOMLByte.backslash: simple = TOMLByte.backslash
        case 0x75, 0x55:  // \u, \U
            simple = nil
        default:
            if e == TOMLByte.lf || e == TOMLByte.cr || TOMLByte.isForbiddenControl(e) || e == TOMLByte.space {
                throw error("invalid escape: '\\' followed by \(Self.codePoint(UInt32(e)))", at: start)
            }
            var end = pos + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
            throw error("invalid escape '\\\(String(decoding: bytes[pos..<end], as: UTF8.self))'", at: start)
        }
        if let simple {
            out.append(simple)
            pos += 1
            return
        }
        let digits = e == 0x75 ? 4 : 8
        pos += 1
        var value: UInt32 = 0
        for k in 0..<digits {
            guard let h = peek(k), TOMLByte.isHexDigit(h) else {
                throw error("invalid unicode escape: expected \(digits) hex digits after '\\\(e == 0x75 ? "u" : "U")'", at: start)
            }
            value = value &* 16 &+ TOMLByte.hexValue(h)
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw error("invalid unicode escape: \(Self.codePoint(value)) is not a Unicode scalar value", at: start)
        }
        pos += digits
        UTF8.encode(scalar) { out.append($0) }
    }

    // MARK: Numbers, booleans, date-times

    mutating func parseScalar() throws(TOMLError) -> TOMLValue {
        let start = mark()
        let begin = pos
        while pos < bytes.count, TOMLByte.isToken(bytes[pos]) { pos += 1 }
        // A date followed by a space and a time is one date-time: "1979-05-27 07:32:00Z".
        if pos - begin == 10, Self.isFullDate(bytes[begin..<pos]), peek() == TOMLByte.space,
           let h1 = peek(1), let h2 = peek(2), TOMLByte.isDigit(h1), TOMLByte.isDigit(h2), peek(3) == TOMLByte.colon {
            pos += 1
            while pos < bytes.count, TOMLByte.isToken(bytes[pos]) { pos += 1 }
        }
        guard pos > begin else {
            throw error("expected a value, found \(describeHere())")
        }
        let token = Array(bytes[begin..<pos])
        let text = String(decoding: token, as: UTF8.self)
        switch text {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan": return .float(.nan)
        case "-nan": return .float(-.nan)
        default: break
        }
        let first = token[0]
        guard TOMLByte.isDigit(first) || first == TOMLByte.plus || first == TOMLByte.minus else {
            throw error("invalid value '\(text)' (strings must be quoted)", at: start)
        }
        if token.contains(TOMLByte.colon) || Self.looksLikeDate(token) {
            if let problem = Self.checkDateTime(token) {
                throw error("\(problem) '\(text)'", at: start)
            }
            return .datetime(text)
        }
        do {
            return try Self.parseNumber(token)
        } catch {
            throw self.error("invalid number '\(text)'\(error.reason.isEmpty ? "" : ": " + error.reason)", at: start)
        }
    }

    static func digitValue(_ t: ArraySlice<UInt8>, _ at: Int, _ count: Int) -> Int? {
        let from = t.startIndex + at
        guard from + count <= t.endIndex else { return nil }
        var value = 0
        for k in from..<(from + count) {
            guard TOMLByte.isDigit(t[k]) else { return nil }
            value = value * 10 + Int(t[k] - TOMLByte.zero)
        }
        return value
    }

    static func isFullDate(_ t: ArraySlice<UInt8>) -> Bool {
        t.count >= 10 && digitValue(t, 0, 4) != nil && t[t.startIndex + 4] == TOMLByte.minus
            && digitValue(t, 5, 2) != nil && t[t.startIndex + 7] == TOMLByte.minus && digitValue(t, 8, 2) != nil
    }

    static func looksLikeDate(_ t: [UInt8]) -> Bool {
        t.count >= 5 && digitValue(t[...], 0, 4) != nil && t[4] == TOMLByte.minus
    }

    static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Checks the shape of a date-time token; returns a problem description or nil when valid.
    static func checkDateTime(_ token: [UInt8]) -> String? {
        let t = token[...]
        let invalid = "invalid date-time"
        var i = 0
        var hasDate = false
        if isFullDate(t) {
            let year = digitValue(t, 0, 4) ?? 0
            let month = digitValue(t, 5, 2) ?? 0
            let day = digitValue(t, 8, 2) ?? 0
            guard (1...12).contains(month), day >= 1, day <= daysInMonth(month, year: year) else {
                return "invalid date"
            }
            hasDate = true
            i = 10
            if i == t.count { return nil }
            guard t[i] == 0x54 || t[i] == 0x74 || t[i] == TOMLByte.space else { return invalid }  // T, t, space
            i += 1
        } else if looksLikeDate(token) {
            return invalid
        }
        guard let hour = digitValue(t, i, 2), i + 2 < t.count, t[i + 2] == TOMLByte.colon,
              let minute = digitValue(t, i + 3, 2), i + 5 < t.count, t[i + 5] == TOMLByte.colon,
              let second = digitValue(t, i + 6, 2)
        else { return invalid }
        guard hour <= 23, minute <= 59, second <= 60 else { return "invalid time" }
        i += 8
        if i < t.count, t[i] == TOMLByte.dot {
            i += 1
            let fractionStart = i
            while i < t.count, TOMLByte.isDigit(t[i]) { i += 1 }
            guard i > fractionStart else { return invalid }
        }
        if i == t.count { return nil }
        guard hasDate else { return invalid }  // a local time has no offset
        if t[i] == 0x5A || t[i] == 0x7A {  // Z, z
            i += 1
        } else if t[i] == TOMLByte.plus || t[i] == TOMLByte.minus {
            guard let oh = digitValue(t, i + 1, 2), i + 3 < t.count, t[i + 3] == TOMLByte.colon,
                  let om = digitValue(t, i + 4, 2)
            else { return invalid }
            guard oh <= 23, om <= 59 else { return "invalid offset in date-time" }
            i += 6
        } else {
            return invalid
        }
        return i == t.count ? nil : invalid
    }

    struct NumberProblem: Error {
        var reason: String
    }

    /// Validates a run of digits with single underscores between digits.
    static func checkDigits(_ run: ArraySlice<UInt8>, isDigit: (UInt8) -> Bool) throws(NumberProblem) {
        guard let first = run.first, let last = run.last else { throw NumberProblem(reason: "missing digits") }
        if first == TOMLByte.underscore || last == TOMLByte.underscore {
            throw NumberProblem(reason: "underscores must be between digits")
        }
        var previousUnderscore = false
        for b in run {
            if b == TOMLByte.underscore {
                if previousUnderscore { throw NumberProblem(reason: "underscores must be between digits") }
                previousUnderscore = true
            } else {
                guard isDigit(b) else { throw NumberProblem(reason: "") }
                previousUnderscore = false
            }
        }
    }

    static func parseNumber(_ token: [UInt8]) throws(NumberProblem) -> TOMLValue {
        var i = 0
        let hasSign = token[0] == TOMLByte.plus || token[0] == TOMLByte.minus
        if hasSign { i = 1 }
        guard i < token.count else { throw NumberProblem(reason: "") }

        // Hexadecimal, octal and binary integers.
        if token[i] == TOMLByte.zero, i + 1 < token.count, [0x78, 0x6F, 0x62].contains(token[i + 1]) {
            let radix: UInt64
            let isDigit: (UInt8) -> Bool
            switch token[i + 1] {
            case 0x78:
                radix = 16
                isDigit = TOMLByte.isHexDigit
            case 0x6F:
                radix = 8
                isDigit = { $0 >= TOMLByte.zero && $0 <= 0x37 }
            default:
                radix = 2
                isDigit = { $0 == TOMLByte.zero || $0 == 0x31 }
            }
            if hasSign { throw NumberProblem(reason: "a sign is not allowed on hexadecimal, octal or binary integers") }
            let digits = token[(i + 2)...]
            try checkDigits(digits, isDigit: isDigit)
            var value: UInt64 = 0
            for b in digits where b != TOMLByte.underscore {
                let (times, overflow1) = value.multipliedReportingOverflow(by: radix)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(TOMLByte.hexValue(b)))
                if overflow1 || overflow2 { throw NumberProblem(reason: "out of range for a 64-bit integer") }
                value = sum
            }
            guard value <= UInt64(Int64.max) else { throw NumberProblem(reason: "out of range for a 64-bit integer") }
            return .integer(Int64(value))
        }

        // Decimal integer part.
        let intStart = i
        while i < token.count, TOMLByte.isDigit(token[i]) || token[i] == TOMLByte.underscore { i += 1 }
        let intPart = token[intStart..<i]
        try checkDigits(intPart, isDigit: TOMLByte.isDigit)
        if intPart.count > 1, intPart.first == TOMLByte.zero {
            throw NumberProblem(reason: "leading zeros are not allowed")
        }
        var isFloat = false
        if i < token.count, token[i] == TOMLByte.dot {
            isFloat = true
            i += 1
            let fractionStart = i
            while i < token.count, TOMLByte.isDigit(token[i]) || token[i] == TOMLByte.underscore { i += 1 }
            try checkDigits(token[fractionStart..<i], isDigit: TOMLByte.isDigit)
        }
        if i < token.count, token[i] == 0x65 || token[i] == 0x45 {  // e, E
            isFloat = true
            i += 1
            if i < token.count, token[i] == TOMLByte.plus || token[i] == TOMLByte.minus { i += 1 }
            let exponentStart = i
            while i < token.count, TOMLByte.isDigit(token[i]) || token[i] == TOMLByte.underscore { i += 1 }
            try checkDigits(token[exponentStart..<i], isDigit: TOMLByte.isDigit)
        }
        guard i == token.count else { throw NumberProblem(reason: "") }
        let cleaned = String(decoding: token.filter { $0 != TOMLByte.underscore }, as: UTF8.self)
        if isFloat {
            guard let value = Double(cleaned) else { throw NumberProblem(reason: "") }
            return .float(value)
        }
        guard let value = Int64(cleaned) else { throw NumberProblem(reason: "out of range for a 64-bit integer") }
        return .integer(value)
    }
}
