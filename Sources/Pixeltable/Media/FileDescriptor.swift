import Foundation

/// Writes to open file descriptors, for the places that stream bytes to disk (uploads,
/// downloads, encoded images).
public enum FileDescriptor {
    /// Writes all of `bytes` to `fd`, retrying short writes and interruptions.
    ///
    /// - Returns: false when a write failed (`errno` says why).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var off = 0
        while off < bytes.count {
            let n = write(fd, base + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            off += n
        }
        return true
    }
}
