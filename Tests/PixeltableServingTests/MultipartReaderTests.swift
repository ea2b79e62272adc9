import Foundation
import NIOCore
@testable import PixeltableServing
import Testing

/// Chunks of a body, as a request streams them.
struct Chunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let parts: [[UInt8]]
    struct AsyncIterator: AsyncIteratorProtocol {
        var rest: [[UInt8]]
        mutating func next() async -> ByteBuffer? {
            guard !rest.isEmpty else { return nil }
            return ByteBuffer(bytes: rest.removeFirst())
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(rest: parts) }

    /// `bytes` cut every `size` bytes.
    static func split(_ bytes: [UInt8], every size: Int) -> Chunks {
        Chunks(parts: stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<Swift.min(bytes.count, $0 + size)]) })
    }
}

@Suite struct MultipartReaderTests {
    let dir = NSTemporaryDirectory() + "pxt-mp-" + UUID().uuidString

    /// Bytes full of carriage returns, line feeds and near-misses of the delimiter.
    func hostile(_ boundary: String, count: Int) -> [UInt8] {
        var rng: UInt64 = 42
        var out: [UInt8] = []
        let near = Array("\r\n--\(boundary)".utf8)
        while out.count < count {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            switch (rng >> 60) % 4 {
            case 0: out += near.prefix(Int(rng >> 33) % (near.count - 1) + 1)  // a partial delimiter
            case 1: out += [13, 10, 13]
            default: out.append(UInt8(truncatingIfNeeded: rng >> 24))
            }
        }
        // A client picks a boundary its data does not contain: break any full delimiter.
        out = Array(out.prefix(count))
        let delimiter = Array("\r\n--\(boundary)".utf8)
        while let k = MultipartReader.find(delimiter, in: out) { out[k + delimiter.count - 1] ^= 0x55 }
        return out
    }

    @Test func filesSurviveEveryChunkingAndDelimiterNearMisses() async throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let boundary = "b0und4ry-x"
        let file1 = hostile(boundary, count: 20_000)
        let file2 = hostile(boundary, count: 3_001)
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n42\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += file1 + Array("\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nline one\r\nline two\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"b\"; filename=\"b.bin\"\r\n\r\n".utf8)
        body += file2 + Array("\r\n--\(boundary)--\r\n".utf8)
        let dir = self.dir
        // Both paths: every byte through the parser, and bodies past it.
        for (parserOnly, size) in [1, 2, 3, 7, 13, 64, 1000, 4096, 65536, body.count].flatMap({ [(true, $0), (false, $0)] }) {
            MultipartReader.parserOnly = parserOnly
            defer { MultipartReader.parserOnly = false }
            let reader = MultipartReader(maxBytes: 1 << 30, fileFields: ["a", "b"], temporaryPath: { dir + "/" + UUID().uuidString + $0 })
            let form: MultipartForm
            do { form = try await reader.read(Chunks.split(body, every: size), boundary: boundary) } catch {
                Issue.record("chunks of \(size) parserOnly \(parserOnly): \(error)")
                continue
            }
            #expect(form.fields == ["id": "42", "note": "line one\r\nline two"], "chunks of \(size)")
            let a = try #require(form.files["a"])
            #expect(a.filename == "a.bin" && a.path.hasSuffix(".bin") && a.size == file1.count)
            #expect(FileManager.default.contents(atPath: a.path).map { [UInt8]($0) } == file1, "chunks of \(size) parserOnly \(parserOnly)")
            #expect(FileManager.default.contents(atPath: form.files["b"]!.path).map { [UInt8]($0) } == file2, "chunks of \(size)")
            form.removeFiles()
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func limitsAndMalformedBodiesLeaveNothing() async throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dir = self.dir
        let boundary = "xyz"
        let body = Array("--xyz\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a\"\r\n\r\n".utf8) + [UInt8](repeating: 65, count: 10_000) + Array("\r\n--xyz--\r\n".utf8)
        let small = MultipartReader(maxBytes: 5_000, fileFields: ["a"], temporaryPath: { dir + "/" + UUID().uuidString + $0 })
        do {
            _ = try await small.read(Chunks.split(body, every: 1000), boundary: boundary)
            Issue.record("read over the limit")
        } catch {
            guard case .tooLarge = error else { Issue.record("\(error)"); return }
        }
        let reader = MultipartReader(maxBytes: 1 << 20, fileFields: ["a"], temporaryPath: { dir + "/" + UUID().uuidString + $0 })
        // Cut off before the closing delimiter, and garbage in the headers.
        for bad in [Array(body.prefix(5_000)), Array("--xyz\r\nContent Disposition\u{1}: x\r\n\r\nbody\r\n--xyz--".utf8)] {
            do {
                _ = try await reader.read(Chunks.split(bad, every: 333), boundary: boundary)
                Issue.record("read a malformed body")
            } catch {
                guard case .malformed = error else { Issue.record("\(error)"); return }
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        #expect(MultipartReader.boundary(contentType: "multipart/form-data; boundary=\"a b\"") == "a b")
        #expect(MultipartReader.boundary(contentType: "application/json") == nil)
    }
}
