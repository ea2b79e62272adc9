import Foundation

/// A `.safetensors` file: a little-endian u64 header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the tensors' bytes. Mapped, not read: only the tensors
/// asked for are touched.
final class SafetensorsFile: Sendable {
    /// One tensor's place in the file.
    struct Entry: Sendable {
        var dtype: String
        var shape: [Int]
        var start: Int
        var end: Int
    }

    let path: String
    private let file: MappedFile
    /// Tensors by name, with a leading `bert.` (as some checkpoints write them) removed.
    let entries: [String: Entry]
    private let dataStart: Int

    init(path: String) throws(ModelError) {
        self.path = path
        do { file = try MappedFile(path: path) } catch { throw ModelError(error.message) }
        let parsed: (Int, [String: Entry]) = try file.withBytes { (b: UnsafeRawBufferPointer) throws(ModelError) -> (Int, [String: Entry]) in
            guard b.count >= 8 else { throw ModelError("\(path): not a safetensors file (too short)") }
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(b[i]) << (8 * UInt64(i)) }
            guard n > 1, n < 100_000_000, Int(n) + 8 <= b.count else { throw ModelError("\(path): not a safetensors file (bad header length \(n))") }
            let header: JSONValue
            do { header = try JSONParser.parse(bytes: Array(b[8..<(8 + Int(n))])) } catch {
                throw ModelError("\(path): unreadable safetensors header: \(error)")
            }
            guard case .object(let o) = header else { throw ModelError("\(path): the safetensors header is not an object") }
            var out: [String: Entry] = [:]
            let dataBytes = b.count - 8 - Int(n)
            for (name, v) in o where name != "__metadata__" {
                guard let dtype = v["dtype"]?.stringValue, let shape = v["shape"]?.arrayValue?.compactMap(\.intValue),
                    let offsets = v["data_offsets"]?.arrayValue?.compactMap(\.intValue), offsets.count == 2,
                    offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= Int64(dataBytes)
                else { throw ModelError("\(path): tensor '\(name)' has a malformed entry") }
                let key = name.hasPrefix("bert.") ? String(name.dropFirst(5)) : name
                out[key] = Entry(dtype: dtype, shape: shape.map { Int($0) }, start: Int(offsets[0]), end: Int(offsets[1]))
            }
            return (8 + Int(n), out)
        }
        dataStart = parsed.0
        entries = parsed.1
    }

    /// A tensor as 32-bit floats (F16 and BF16 are widened), checking its shape.
    func floats(_ name: String, shape expected: [Int]) throws(ModelError) -> [Float] {
        guard let e = entries[name] else { throw ModelError("\(path): the model has no tensor '\(name)'") }
        guard e.shape == expected else { throw ModelError("\(path): tensor '\(name)' has shape \(e.shape), expected \(expected)") }
        let count = expected.reduce(1, *)
        let size: Int
        switch e.dtype {
        case "F32": size = 4
        case "F16", "BF16": size = 2
        default: throw ModelError("\(path): tensor '\(name)' is \(e.dtype); F32, F16 and BF16 are supported")
        }
        guard e.end - e.start == count * size else { throw ModelError("\(path): tensor '\(name)' has \(e.end - e.start) bytes for \(count) values") }
        return file.withBytes { b in
            let base = b.baseAddress! + dataStart + e.start
            var out = [Float](repeating: 0, count: count)
            out.withUnsafeMutableBytes { dst in
                switch e.dtype {
                case "F32":
                    dst.copyMemory(from: UnsafeRawBufferPointer(start: base, count: count * 4))
                case "F16":
                    let h = base.assumingMemoryBound(to: UInt16.self)
                    let f = dst.bindMemory(to: Float.self)
                    for i in 0..<count { f[i] = Float(Float16(bitPattern: h[i])) }
                default:
                    let h = base.assumingMemoryBound(to: UInt16.self)
                    let f = dst.bindMemory(to: Float.self)
                    for i in 0..<count { f[i] = Float(bitPattern: UInt32(h[i]) << 16) }
                }
            }
            return out
        }
    }
}
