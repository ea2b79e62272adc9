import Foundation
import Pixeltable

/// A catalog in a fresh temporary home, removed when the test ends.
struct TempHome {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "pxt-test-" + UUID().uuidString
    }

    var home: HomeDirectory { HomeDirectory(path: path) }

    func open() throws -> Catalog { try Catalog.open(home: home) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` with a catalog in a fresh home.
func withCatalog<T>(_ body: (Catalog, TempHome) async throws -> T) async throws -> T {
    let home = TempHome()
    defer { home.remove() }
    let catalog = try home.open()
    return try await body(catalog, home)
}
