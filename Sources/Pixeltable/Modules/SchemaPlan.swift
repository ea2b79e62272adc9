/// What applying a module file would change in the catalog (`pxt schema diff`), and the means to
/// apply it (`pxt schema update`).
public struct SchemaPlan: Sendable {
    /// One change.
    public struct Change: Sendable, Hashable {
        /// `create`, `add`, `drop`, `replace` or `alter`.
        public var op: String
        /// What changes: `dir app`, `table app/docs`, `column rating`, `index idx_title`.
        public var target: String
        /// Details for people, e.g. the new type.
        public var detail: String?
        /// Whether it would drop or alter stored data.
        public var isDestructive: Bool
    }

    /// The changes to one catalog entry.
    public struct Entry: Sendable, Hashable {
        public var path: CatalogPath
        /// `dir`, `table` or `view`.
        public var kind: String
        /// `create`, `alter`, `replace` or `none`.
        public var action: String
        public var changes: [Change]
    }

    /// The module file.
    public var file: String
    /// Entries the file declares, in the order they are applied.
    public var entries: [Entry]
    /// Tables and views under the file's directories that the file does not declare (left alone).
    public var extras: [CatalogPath]
    let steps: [Step]

    /// Whether the catalog already matches the file.
    public var inAgreement: Bool { entries.allSatisfy { $0.action == "none" } }
    /// All changes.
    public var changes: [Change] { entries.flatMap(\.changes) }
    /// Whether any change drops or alters stored data.
    public var isDestructive: Bool { changes.contains { $0.isDestructive } }

    /// Pixeltable's SchemaPlan shape: `schema_file, catalog_dir, in_agreement, tables, extras, summary`.
    public var json: JSONValue {
        let changeCount = changes.count
        return [
            "schema_file": .string(file), "catalog_dir": "", "in_agreement": .bool(inAgreement),
            "tables": .array(
                entries.map { e in
                    [
                        "path": .string(e.path.description), "kind": .string(e.kind), "action": .string(e.action),
                        "changes": .array(
                            e.changes.map { c in
                                ["op": .string(c.op), "target": .string(c.target), "detail": c.detail.map { .string($0) } ?? .null, "destructive": .bool(c.isDestructive)]
                            }),
                    ]
                }),
            "extras": .array(extras.map { .string($0.description) }),
            "summary": ["changes": .int(Int64(changeCount)), "destructive": .int(Int64(changes.filter(\.isDestructive).count))],
        ]
    }

    /// The plan as text, one line per change.
    public var text: String {
        var lines = ["Schema file: \(file)"]
        let symbol = ["create": "+", "add": "+", "drop": "-", "replace": "~", "alter": "~"]
        for e in entries where e.action != "none" {
            if e.action == "create" {
                lines.append("  + \(e.kind) \(e.path)")
                for c in e.changes.dropFirst() {
                    lines.append("      + \(c.target)" + (c.detail.map { " (\($0))" } ?? ""))
                }
                continue
            }
            lines.append("  ~ \(e.kind) \(e.path)")
            for c in e.changes {
                let mark = c.isDestructive ? "  [destructive]" : ""
                lines.append("      \(symbol[c.op] ?? "~") \(c.target)" + (c.detail.map { " (\($0))" } ?? "") + mark)
            }
        }
        for x in extras { lines.append("  ? \(x) is not declared in the file (left as is)") }
        if inAgreement {
            lines.append("In agreement: nothing to change.")
        } else {
            let n = changes.count
            let d = changes.filter(\.isDestructive).count
            lines.append("\(n) change\(n == 1 ? "" : "s")" + (d > 0 ? ", \(d) destructive" : "") + ".")
        }
        return lines.joined(separator: "\n")
    }

    /// One catalog operation of the plan.
    enum Step: Sendable {
        case createDirectory(CatalogPath)
        case createTable(ModuleFile.TableDecl)
        case dropColumn(CatalogPath, String)
        case addColumn(CatalogPath, ModuleFile.ColumnDecl)
        case addComputed(CatalogPath, ModuleFile.ComputedDecl)
        case setColumnComment(CatalogPath, String, String?)
        case setTableComment(CatalogPath, String?)
        case createIndex(CatalogPath, ModuleFile.IndexDecl)
        case createEmbeddingIndex(CatalogPath, ModuleFile.EmbeddingIndexDecl)
        case dropIndex(CatalogPath, String)
        case dropView(CatalogPath)
        case createView(ModuleFile.ViewDecl)
    }
}
