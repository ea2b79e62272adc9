/// One row of a result: values in column order.
public struct ResultRow: Sendable, Hashable {
    /// The column names, in order.
    public let columns: [String]
    /// The values, in column order.
    public let values: [Value]

    /// A row from names and values of the same length.
    public init(columns: [String], values: [Value]) {
        self.columns = columns
        self.values = values
    }

    /// The value of a column, or `nil` if the row has no such column.
    public subscript(_ name: String) -> Value? {
        guard let i = columns.firstIndex(of: name) else { return nil }
        return values[i]
    }

    /// The row as a JSON object in column order, values in their wire form.
    public var json: JSONValue {
        var o = JSONObject()
        for (k, v) in zip(columns, values) { o[k] = v.json }
        return .object(o)
    }

    /// The row as a dictionary.
    public var dictionary: [String: Value] {
        Dictionary(zip(columns, values), uniquingKeysWith: { a, _ in a })
    }
}

/// The rows of a query with their column names and types.
public struct QueryResult: Sendable {
    /// The column names, in order.
    public let columns: [String]
    /// The column types, in order.
    public let types: [ColumnType]
    /// The rows.
    public let rows: [ResultRow]

    /// The number of rows.
    public var count: Int { rows.count }

    /// The rows as a JSON array of objects.
    public var json: JSONValue { .array(rows.map(\.json)) }
}
