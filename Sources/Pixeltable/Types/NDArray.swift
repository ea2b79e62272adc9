import Foundation

/// An n-dimensional array value with a shape and an element type, stored row-major.
public struct NDArray: Sendable, Hashable {
    /// The elements, flattened row-major, by element type.
    public enum Storage: Sendable, Hashable {
        case float32([Float])
        case float64([Double])
        case int64([Int64])
        case bool([Bool])
        case string([String])
    }

    /// The size of each dimension.
    public var shape: [Int]
    /// The elements.
    public var storage: Storage

    /// An array with the given shape and elements; the element count must match the shape.
    public init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
    }

    /// A one-dimensional Float32 array.
    public init(_ values: [Float]) {
        shape = [values.count]
        storage = .float32(values)
    }

    /// The element type.
    public var dtype: ArrayDType {
        switch storage {
        case .float32: return .float32
        case .float64: return .float64
        case .int64: return .int64
        case .bool: return .bool
        case .string: return .string
        }
    }

    /// The number of elements.
    public var count: Int {
        switch storage {
        case .float32(let a): return a.count
        case .float64(let a): return a.count
        case .int64(let a): return a.count
        case .bool(let a): return a.count
        case .string(let a): return a.count
        }
    }

    /// The elements as doubles (numbers and booleans only).
    public var doubles: [Double]? {
        switch storage {
        case .float32(let a): return a.map(Double.init)
        case .float64(let a): return a
        case .int64(let a): return a.map(Double.init)
        case .bool(let a): return a.map { $0 ? 1 : 0 }
        case .string: return nil
        }
    }

    /// The elements as Float32 (numbers and booleans only).
    public var floats: [Float]? {
        if case .float32(let a) = storage { return a }
        return doubles?.map(Float.init)
    }

    private func element(_ i: Int) -> JSONValue {
        switch storage {
        case .float32(let a): return .double(Double(a[i]))
        case .float64(let a): return .double(a[i])
        case .int64(let a): return .int(a[i])
        case .bool(let a): return .bool(a[i])
        case .string(let a): return .string(a[i])
        }
    }

    /// The array as nested JSON lists.
    public var json: JSONValue {
        if shape.isEmpty { return count > 0 ? element(0) : .array([]) }
        var index = 0
        func build(_ dim: Int) -> JSONValue {
            if dim == shape.count - 1 {
                var items: [JSONValue] = []
                items.reserveCapacity(shape[dim])
                for _ in 0..<shape[dim] { items.append(element(index)); index += 1 }
                return .array(items)
            }
            return .array((0..<shape[dim]).map { _ in build(dim + 1) })
        }
        return build(0)
    }

    /// Builds an array of the given element type from nested JSON lists, checking that it is
    /// rectangular; returns a message on failure.
    public static func from(json: JSONValue, dtype: ArrayDType) -> Result<NDArray, ArrayConversionError> {
        var shape: [Int] = []
        var probe = json
        while case .array(let a) = probe {
            shape.append(a.count)
            guard let first = a.first else { break }
            probe = first
        }
        var flat: [JSONValue] = []
        func walk(_ v: JSONValue, _ dim: Int) -> Bool {
            if dim == shape.count {
                if case .array = v { return false }
                flat.append(v)
                return true
            }
            guard case .array(let a) = v, a.count == shape[dim] else { return false }
            for x in a where !walk(x, dim + 1) { return false }
            return true
        }
        guard walk(json, 0) else { return .failure(ArrayConversionError(message: "array is not rectangular")) }
        func fail(_ v: JSONValue) -> Result<NDArray, ArrayConversionError> {
            .failure(ArrayConversionError(message: "element \(JSONWriter.compact.string(v)) is not a valid \(dtype.rawValue)"))
        }
        switch dtype {
        case .float32, .float64:
            var out: [Double] = []
            out.reserveCapacity(flat.count)
            for v in flat {
                guard let d = v.doubleValue else { return fail(v) }
                out.append(d)
            }
            return .success(NDArray(shape: shape, storage: dtype == .float32 ? .float32(out.map(Float.init)) : .float64(out)))
        case .int64:
            var out: [Int64] = []
            for v in flat {
                guard case .int(let i) = v else { return fail(v) }
                out.append(i)
            }
            return .success(NDArray(shape: shape, storage: .int64(out)))
        case .bool:
            var out: [Bool] = []
            for v in flat {
                guard case .bool(let b) = v else { return fail(v) }
                out.append(b)
            }
            return .success(NDArray(shape: shape, storage: .bool(out)))
        case .string:
            var out: [String] = []
            for v in flat {
                guard case .string(let s) = v else { return fail(v) }
                out.append(s)
            }
            return .success(NDArray(shape: shape, storage: .string(out)))
        }
    }

    // MARK: binary form

    /// The stored form: a dtype byte, the number of dimensions, each dimension as Int64, then
    /// the elements little-endian (strings as length-prefixed UTF-8).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        let code: UInt8
        switch storage {
        case .float32: code = 1
        case .float64: code = 2
        case .int64: code = 3
        case .bool: code = 4
        case .string: code = 5
        }
        out.append(code)
        out.append(UInt8(shape.count))
        for d in shape { appendLE(UInt64(d), &out) }
        switch storage {
        case .float32(let a):
            out.reserveCapacity(out.count + a.count * 4)
            for f in a { appendLE32(f.bitPattern, &out) }
        case .float64(let a): for d in a { appendLE(d.bitPattern, &out) }
        case .int64(let a): for i in a { appendLE(UInt64(bitPattern: i), &out) }
        case .bool(let a): for b in a { out.append(b ? 1 : 0) }
        case .string(let a):
            for s in a {
                let u = Array(s.utf8)
                appendLE32(UInt32(u.count), &out)
                out.append(contentsOf: u)
            }
        }
        return out
    }

    /// Decodes the stored form.
    public init?(encoded b: [UInt8]) {
        guard b.count >= 2 else { return nil }
        var i = 2
        var shape: [Int] = []
        for _ in 0..<Int(b[1]) {
            guard i + 8 <= b.count else { return nil }
            shape.append(Int(readLE(b, i)))
            i += 8
        }
        let n = shape.reduce(1, *)
        switch b[0] {
        case 1:
            guard i + n * 4 <= b.count else { return nil }
            var a = [Float](repeating: 0, count: n)
            for k in 0..<n { a[k] = Float(bitPattern: readLE32(b, i + k * 4)) }
            storage = .float32(a)
        case 2:
            guard i + n * 8 <= b.count else { return nil }
            storage = .float64((0..<n).map { Double(bitPattern: readLE(b, i + $0 * 8)) })
        case 3:
            guard i + n * 8 <= b.count else { return nil }
            storage = .int64((0..<n).map { Int64(bitPattern: readLE(b, i + $0 * 8)) })
        case 4:
            guard i + n <= b.count else { return nil }
            storage = .bool((0..<n).map { b[i + $0] != 0 })
        case 5:
            var a: [String] = []
            for _ in 0..<n {
                guard i + 4 <= b.count else { return nil }
                let len = Int(readLE32(b, i))
                i += 4
                guard i + len <= b.count else { return nil }
                a.append(String(decoding: b[i..<(i + len)], as: UTF8.self))
                i += len
            }
            storage = .string(a)
        default: return nil
        }
        self.shape = shape
    }
}

/// Why nested lists could not become an array.
public struct ArrayConversionError: Error, Sendable {
    /// What was wrong.
    public var message: String
}

@inline(__always) private func appendLE(_ v: UInt64, _ out: inout [UInt8]) {
    for k in 0..<8 { out.append(UInt8((v >> (8 * UInt64(k))) & 0xFF)) }
}

@inline(__always) private func appendLE32(_ v: UInt32, _ out: inout [UInt8]) {
    for k in 0..<4 { out.append(UInt8((v >> (8 * UInt32(k))) & 0xFF)) }
}

@inline(__always) private func readLE(_ b: [UInt8], _ i: Int) -> UInt64 {
    var v: UInt64 = 0
    for k in 0..<8 { v |= UInt64(b[i + k]) << (8 * UInt64(k)) }
    return v
}

@inline(__always) private func readLE32(_ b: [UInt8], _ i: Int) -> UInt32 {
    var v: UInt32 = 0
    for k in 0..<4 { v |= UInt32(b[i + k]) << (8 * UInt32(k)) }
    return v
}
