import Foundation
import Testing
@testable import Pixeltable

/// The all-MiniLM-L6-v2 model, if `scripts/fetch-models.sh` installed it (`.ci/run` does).
let miniLM: String? = try? ModelLocator(home: HomeDirectory(path: NSTemporaryDirectory() + "pxt-no-home")).locate("sentence-transformers/all-MiniLM-L6-v2")

/// Whether the NumPy reference (`scripts/bert_numpy.py`, with Hugging Face's `tokenizers`) runs.
let numpyReference: Bool = {
    guard miniLM != nil else { return false }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", "import numpy, tokenizers"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}()

/// Runs the NumPy reference over `lines` and parses its JSON answer.
func reference(_ lines: [String], tokens: Bool = false) throws -> JSONValue {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/bert_numpy.py").path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", script, miniLM!] + (tokens ? ["--tokens"] : [])
    let input = Pipe(), output = Pipe()
    p.standardInput = input
    p.standardOutput = output
    try p.run()
    input.fileHandleForWriting.write(Data(JSONWriter.compact.string(.array(lines.map { .string($0) })).utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return try JSONParser.parse(bytes: [UInt8](data))
}

@Suite(.enabled(if: miniLM != nil, "needs sentence-transformers/all-MiniLM-L6-v2 (scripts/fetch-models.sh; .ci/run runs it)"))
struct SentenceEmbedderTests {
    static let tricky = [
        "Hello, world!!! (yes) — an em dash… «quotes» and 'single' ones.", "Café naïve résumé ÀÉÎÕÜ Ångström İstanbul",
        "我爱北京天安门 and 日本語のテキスト, 한국어도", "supercalifragilisticexpialidocious antidisestablishmentarianism",
        String(repeating: "a", count: 150) + " short", "", "   ", "tab\there\u{07}bell\u{200B}zero-width\r\nnew line",
        "I ❤️ 🍕 and 👨‍👩‍👧", "HeLLo WoRLD 3.14159 1,000,000 $5 50% a+b=c x<y> ~tilde `tick` ^caret | pipe",
        "e-mail: someone@example.com, url: https://example.com/a?b=c#d", String(repeating: "word ", count: 400),
    ]

    @Test(.enabled(if: numpyReference, "needs python3 with numpy and tokenizers (pip; .ci/run installs them)"))
    func tokensMatchHuggingFacesTokenizer() throws {
        let m = try SentenceEmbedder.shared(miniLM!)
        let expected = try reference(Self.tricky, tokens: true)
        for (i, text) in Self.tricky.enumerated() {
            let want = expected[i]?.arrayValue?.compactMap(\.intValue).map { Int32($0) } ?? []
            #expect(m.tokenize(text) == want, "tokens of \(PythonRepr.string(text))")
        }
        // Truncation keeps [CLS], 254 pieces and [SEP].
        #expect(m.tokenize(String(repeating: "word ", count: 400)).count == 256)
        #expect(m.tokenizer.tokens("unaffable") == ["una", "##ffa", "##ble"])
    }

    @Test(.enabled(if: numpyReference, "needs python3 with numpy and tokenizers (pip; .ci/run installs them)"))
    func embeddingsMatchTheNumPyReference() throws {
        let m = try SentenceEmbedder.shared(miniLM!)
        let texts = ["A cat sits on the mat.", "Kittens are playing with yarn.", "The stock market fell sharply today.", "", Self.tricky[2], String(repeating: "long sentence ", count: 100)]
        let ours = m.embed(texts)
        let theirs = try reference(texts)
        for (i, v) in ours.enumerated() {
            let r = theirs[i]?.arrayValue?.compactMap(\.doubleValue).map { Float($0) } ?? []
            #expect(v.count == 384 && r.count == 384)
            let cos = EmbeddingFunctions.cosine(v, r)
            #expect(cos >= 0.9999, "cosine \(cos) for \(PythonRepr.string(texts[i]))")
        }
        // One at a time or together, the same vectors (packing does not leak between sentences).
        let alone = m.embed([texts[1]])[0]
        #expect(EmbeddingFunctions.cosine(alone, ours[1]) >= 0.99999)
    }

    @Test func semanticNeighboursShareNoWords() throws {
        let m = try SentenceEmbedder.shared(miniLM!)
        let v = m.embed(["a kitten", "a young cat", "stock prices dropped", "the automobile would not start", "my car broke down"])
        #expect(EmbeddingFunctions.cosine(v[0], v[1]) > EmbeddingFunctions.cosine(v[0], v[2]) + 0.2)
        #expect(EmbeddingFunctions.cosine(v[3], v[4]) > EmbeddingFunctions.cosine(v[3], v[0]) + 0.2)
        let norm = v[0].reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(norm - 1) < 1e-5)
    }
}
