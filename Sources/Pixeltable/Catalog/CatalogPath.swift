/// A path in the catalog: `dir/sub/table`, or the root (no components).
///
/// `/` is the separator; `.` is accepted as Pixeltable's legacy separator when the text has no
/// `/` (`my_dir.my_table`), as `Path.parse` does.
public struct CatalogPath: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The names from the root down.
    public let components: [String]

    /// The root directory.
    public static let root = CatalogPath(components: [])

    /// A path from already-valid components.
    public init(components: [String]) { self.components = components }

    /// Parses a path; a leading `/` is allowed and means the same as none.
    public init(_ text: String) throws(PixeltableError) {
        var t = text
        if t.hasPrefix("/") { t.removeFirst() }
        if t.isEmpty {
            components = []
            return
        }
        let parts = t.contains("/") ? t.split(separator: "/", omittingEmptySubsequences: false) : t.split(separator: ".", omittingEmptySubsequences: false)
        var out: [String] = []
        for p in parts {
            let name = String(p)
            guard Self.isValidName(name) else {
                if name.isEmpty { throw PixeltableError(.invalidPath, "invalid path '\(text)': empty component") }
                throw PixeltableError(.invalidPath, "invalid path '\(text)': '\(name)' is not a valid name (letters, digits and underscores, starting with a letter)")
            }
            out.append(name)
        }
        components = out
    }

    /// Whether `name` can name a directory, table, view or column.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter else { return false }
        return name.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber } && name.count <= 255
    }

    /// Whether this is the root.
    public var isRoot: Bool { components.isEmpty }
    /// The last component, or `""` for the root.
    public var name: String { components.last ?? "" }
    /// The containing directory.
    public var parent: CatalogPath { CatalogPath(components: Array(components.dropLast())) }
    /// The slash form: `a/b/t`; `""` for the root.
    public var description: String { components.joined(separator: "/") }

    /// The path of a child.
    public func appending(_ name: String) -> CatalogPath { CatalogPath(components: components + [name]) }

    /// Whether `other` is this path or below it.
    public func contains(_ other: CatalogPath) -> Bool {
        other.components.count >= components.count && Array(other.components.prefix(components.count)) == components
    }

    public static func < (a: CatalogPath, b: CatalogPath) -> Bool { a.description < b.description }
}
