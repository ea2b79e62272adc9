import Foundation
import Pixeltable

/// Builds a ``ServiceRouter`` from a ``ServiceConfig``: applies its modules, resolves tables and
/// query references, registers its routes.
public enum ServiceBuilder {
    /// The directories module names and query references resolve in: the service file's
    /// directory, then the working directory.
    static func searchDirectories(_ config: ServiceConfig) -> [String] {
        [config.directory, FileManager.default.currentDirectoryPath]
    }

    /// Applies the service's module files (without destructive changes).
    public static func applyModules(_ config: ServiceConfig, catalog: Catalog) async throws(PixeltableError) {
        let resolver = ModuleResolver(searchDirectories: searchDirectories(config))
        for m in config.modules {
            let file = try resolver.moduleFile(m)
            try await ModuleFile.load(file).apply(catalog, allowDestructive: false)
        }
    }

    /// A catalog path as written in a service file: `a/b/t`, or the legacy `a.b.t`.
    static func tablePath(_ s: String) -> String { s }

    /// Builds the router: modules first, then every route in order.
    public static func build(_ config: ServiceConfig, catalog: Catalog, configuration: ServiceRouter.Configuration = .init()) async throws(PixeltableError) -> ServiceRouter {
        try config.validate()
        try await applyModules(config, catalog: catalog)
        var conf = configuration
        conf.title = config.title ?? config.name
        if let m = config.maxUploadBytes { conf.maxUploadBytes = m }
        conf = config.limits.applied(to: conf)
        if let auth = config.auth { conf.auth = auth }
        if let cors = config.cors { conf.cors = cors }
        let router = try ServiceRouter(catalog: catalog, prefix: config.prefix, service: config.name, configuration: conf, directory: config.directory)
        let resolver = ModuleResolver(searchDirectories: searchDirectories(config))
        for r in config.routes {
            do {
                try await register(r, on: router, catalog: catalog, resolver: resolver)
            } catch {
                let at = r.location.map { "\($0): " } ?? ""
                throw PixeltableError(error.code, at + error.message)
            }
        }
        try await router.jobs.recover()
        return router
    }

    static func register(_ r: RouteConfig, on router: ServiceRouter, catalog: Catalog, resolver: ModuleResolver) async throws(PixeltableError) {
        switch r.type {
        case "insert", "compute", "update", "delete":
            guard let tablePath = r.table else { throw PixeltableError(.invalidConfiguration, "route \(r.path) needs a table") }
            let table = try await catalog.table(Self.tablePath(tablePath))
            switch r.type {
            case "update":
                try await router.addUpdateRoute(
                    table, path: r.path, inputs: r.inputs, outputs: r.outputs, returnFileResponse: r.returnFileResponse, exportSQL: r.exportSQL,
                    background: r.background)
            case "delete":
                try await router.addDeleteRoute(table, path: r.path, matchColumns: r.matchColumns, background: r.background)
            default:
                try await router.addInsertRoute(
                    table, path: r.path, inputs: r.inputs, uploadFileInputs: r.uploadFileInputs, outputs: r.outputs, returnFileResponse: r.returnFileResponse,
                    exportSQL: r.exportSQL, background: r.background)
            }
        case "query":
            guard let ref = r.query else { throw PixeltableError(.invalidConfiguration, "route \(r.path) needs a query") }
            let (_, def) = try resolver.query(ref)
            let compiled = try await def.compile(catalog)
            try await router.addQueryRoute(
                path: r.path, query: compiled, inputs: r.inputs, uploadFileInputs: r.uploadFileInputs, oneRow: r.oneRow,
                returnFileResponse: r.returnFileResponse, background: r.background, method: r.method)
        default:
            throw PixeltableError(.invalidConfiguration, "route type '\(r.type)' is not one of 'insert', 'update', 'delete', 'query'")
        }
    }
}
