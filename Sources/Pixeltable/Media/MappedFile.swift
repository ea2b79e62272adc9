import Foundation

/// A file's bytes mapped read-only into memory: decoders read it in place, the page cache
/// serves it, and nothing is copied.
final class MappedFile: @unchecked Sendable {
    // Immutable after init; the mapping is only read.
    let path: String
    private let base: UnsafeMutableRawPointer?
    let count: Int

    /// Maps `path`. Throws a message naming the path when it cannot be opened or mapped.
    ///
    /// - Parameter populate: Map every page up front (one call instead of a fault per page), for
    ///   a reader that will touch all of them, such as a decoder.
    init(path: String, populate: Bool = false) throws(MappedFile.Failure) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "No such file or directory" : String(cString: strerror(errno))
            throw Failure(message: "cannot open '\(path)': \(reason)")
        }
        defer { close(fd) }
        guard let info = FileInfo.of(descriptor: fd), info.isRegular else {
            throw Failure(message: "'\(path)' is not a regular file")
        }
        count = info.size
        if count == 0 {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0)
        guard let p, p != MAP_FAILED else { throw Failure(message: "cannot read '\(path)': \(String(cString: strerror(errno)))") }
        base = p
    }

    /// Why a file could not be mapped.
    struct Failure: Error, Sendable {
        var message: String
    }

    deinit {
        if let base { munmap(base, count) }
    }

    /// Calls `body` with the bytes.
    func withBytes<T, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }
}
