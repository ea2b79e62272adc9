import Foundation
import Pixeltable
import Testing

/// The home holds every table: only its owner may read it (issue "Reliability and security",
/// defect 8).
@Suite struct HomePermissionsTests {
    func mode(_ path: String) -> mode_t {
        var st = stat()
        guard stat(path, &st) == 0 else { return 0 }
        return st.st_mode & 0o777
    }

    @Test func aNewHomeAndItsDatabaseAreTheOwnersOnly() async throws {
        let home = TempHome()
        defer { home.remove() }
        let catalog = try home.open()
        _ = try await catalog.createTable("t", columns: [.init("id", .int)])
        #expect(mode(home.path) == 0o700)
        #expect(mode(home.home.mediaDirectory) == 0o700)
        for suffix in ["", "-wal", "-shm"] {
            #expect(mode(home.home.databasePath + suffix) == 0o600, "pixeltable.db\(suffix): \(String(mode(home.home.databasePath + suffix), radix: 8))")
        }
    }

    @Test func aHomeOthersCanReadIsTightened() async throws {
        let home = TempHome()
        defer { home.remove() }
        do {
            let catalog = try home.open()
            _ = try await catalog.createTable("t", columns: [.init("id", .int)])
        }
        // As an earlier version left it.
        chmod(home.path, 0o755)
        for suffix in ["", "-wal", "-shm"] { chmod(home.home.databasePath + suffix, 0o644) }
        let catalog = try home.open()
        #expect(try await catalog.list().count == 1)
        #expect(mode(home.path) == 0o700)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: home.home.databasePath + suffix) {
            #expect(mode(home.home.databasePath + suffix) == 0o600, "pixeltable.db\(suffix)")
        }
    }
}
