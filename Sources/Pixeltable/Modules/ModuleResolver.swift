import Foundation

/// Finds module files and named queries by the names Python users write.
///
/// Module `myapp.queries` is the file `myapp/queries.toml`, looked up first in each of the
/// given search directories (the service file's directory, then the working directory).
/// A query reference is `myapp.queries.search_docs` or `myapp.queries:search_docs`.
public struct ModuleResolver: Sendable {
    /// Directories searched in order.
    public var searchDirectories: [String]

    /// A resolver searching `directories` in order (by default, the working directory).
    public init(searchDirectories directories: [String]? = nil) {
        var dirs: [String] = []
        for d in (directories ?? [FileManager.default.currentDirectoryPath]).map({ HomeDirectory.absolute($0) }) where !dirs.contains(d) {
            dirs.append(d)
        }
        searchDirectories = dirs
    }

    /// The file of module `name` (e.g. `myapp.queries`), or an error listing where it looked.
    public func moduleFile(_ name: String) throws(PixeltableError) -> String {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && CatalogPath.isValidName(String($0)) }) else {
            throw PixeltableError(.invalidArgument, "invalid module name '\(name)'; expected dotted names such as 'myapp.queries'")
        }
        let relative = parts.joined(separator: "/") + ".toml"
        var tried: [String] = []
        for dir in searchDirectories {
            let candidate = dir + "/" + relative
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            tried.append(candidate)
        }
        throw PixeltableError(.invalidConfiguration, "could not import module '\(name)': no file \(tried.joined(separator: " or "))")
    }

    /// Splits a query reference into module and query names.
    public static func split(_ reference: String) throws(PixeltableError) -> (module: String, name: String) {
        if let colon = reference.firstIndex(of: ":") {
            let module = String(reference[..<colon])
            let name = String(reference[reference.index(after: colon)...])
            guard !module.isEmpty, !name.isEmpty, !name.contains(":") else {
                throw PixeltableError(.invalidArgument, "invalid query reference '\(reference)': expected module:attribute or module.attribute")
            }
            return (module, name)
        }
        guard let dot = reference.lastIndex(of: "."), dot != reference.startIndex, reference.index(after: dot) != reference.endIndex else {
            throw PixeltableError(.invalidArgument, "invalid query reference '\(reference)': expected module.attribute or module:attribute")
        }
        return (String(reference[..<dot]), String(reference[reference.index(after: dot)...]))
    }

    /// The module file and query definition a reference names.
    public func query(_ reference: String) throws(PixeltableError) -> (ModuleFile, QueryDefinition) {
        let (module, name) = try Self.split(reference)
        let file = try moduleFile(module)
        let m = try ModuleFile.load(file)
        guard let q = m.query(named: name) else {
            let known = m.queries.map(\.name).joined(separator: ", ")
            throw PixeltableError(.invalidConfiguration, "'\(reference)': module '\(module)' has no query '\(name)'" + (known.isEmpty ? "" : " (it has: \(known))"))
        }
        return (m, q)
    }
}
