import Pixeltable

/// The human-readable `pxt describe` block, after Pixeltable's `repr(table)`.
enum DescribeText {
    /// - Parameter source: The name of the table the columns are stored in (for a view, the
    ///   table at the root of its bases).
    static func render(_ meta: JSONValue, columns: [ColumnDescription], indexes: [IndexDescription], source: String) -> String {
        let path = meta["path"]?.stringValue ?? ""
        var out: String
        if meta["kind"]?.stringValue == "view" {
            out = "view '\(path)' (of '\(meta["base"]?.stringValue ?? "")')"
            if let f = meta["view_filter"]?.stringValue { out += "\nWhere: \(f)" }
        } else {
            out = "table '\(path)'"
        }
        out += "\n\n"
        let rows = columns.map { c -> [String] in
            var type = c.type.description
            if c.isPrimaryKey { type += " (pk)" }
            if c.isComputed && !c.isStored { type += " (unstored)" }
            return [c.name, type, source, c.computedWith ?? "", c.comment ?? ""]
        }
        out += TextTable.aligned(["Column Name", "Type", "Source", "Computed With", "Comment"], rows, leftAlignHeaders: true)
        if !indexes.isEmpty {
            out += "\n\n"
            let irows = indexes.map { [$0.name, $0.columns.joined(separator: ", "), $0.kind, $0.kind == "embedding" ? "\($0.metric ?? "cosine"), \($0.embedding ?? "")" : ""] }
            out += TextTable.aligned(["Index Name", "Column", "Type", "Parameters"], irows, leftAlignHeaders: true)
        }
        if let c = meta["comment"]?.stringValue, !c.isEmpty { out += "\n\nCOMMENT: \(c)" }
        if case .array(let pk)? = meta["primary_key"] {
            out += "\n\nPRIMARY KEY: " + pk.compactMap(\.stringValue).joined(separator: ", ")
        }
        return out
    }
}
