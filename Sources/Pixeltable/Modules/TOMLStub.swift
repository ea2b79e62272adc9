// Temporary stand-in until the TOML parser lands.
public struct TOMLNode: Sendable, Hashable {
    public var value: TOMLValue
    public var line: Int
    public var column: Int
}
public indirect enum TOMLValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case datetime(String)
    case array([TOMLNode])
    case table(TOMLTable)
    public var typeName: String { "x" }
}
public struct TOMLTable: Sendable, Hashable {
    public var entries: [(key: String, node: TOMLNode)]
    public init() { entries = [] }
    public subscript(key: String) -> TOMLNode? { entries.first { $0.key == key }?.node }
    public var keys: [String] { entries.map(\.key) }
    public static func == (a: TOMLTable, b: TOMLTable) -> Bool { a.keys == b.keys }
    public func hash(into h: inout Hasher) { h.combine(keys) }
}
public struct TOMLError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int
    public var file: String?
    public var description: String { message }
}
public enum TOMLParser {
    public static func parse(_ text: String, file: String? = nil) throws(TOMLError) -> TOMLTable {
        throw TOMLError(message: "stub", line: 0, column: 0, file: file)
    }
}
