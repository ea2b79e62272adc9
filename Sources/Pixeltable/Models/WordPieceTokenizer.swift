import Foundation

/// BERT's tokenizer, as `tokenizer.json` describes it: the BertNormalizer (control characters
/// removed, whitespace made spaces, spaces around CJK ideographs, accents stripped, lower-cased),
/// the BertPreTokenizer (split on whitespace and on every punctuation character), WordPiece
/// (greedy longest match, `##` continuations, `[UNK]` for a word it cannot cover or longer than
/// 100 characters), then `[CLS] … [SEP]` and truncation.
///
/// Everything works on Unicode scalars, as the Rust tokenizer works on `char`s.
struct WordPieceTokenizer: Sendable {
    let vocab: [String: Int32]
    let unknown: Int32
    let cls: Int32
    let sep: Int32
    let lowercase: Bool
    let stripAccents: Bool
    let maxCharsPerWord = 100

    /// Reads `tokenizer.json` (or, without it, `vocab.txt` and `tokenizer_config.json`).
    static func load(_ directory: String) throws(ModelError) -> WordPieceTokenizer {
        var vocab: [String: Int32] = [:]
        var lowercase = true
        var strip: Bool? = nil
        let tj = directory + "/tokenizer.json"
        if FileManager.default.fileExists(atPath: tj) {
            let t = try BertConfig.json(tj)
            guard t["model"]?["type"]?.stringValue == "WordPiece", case .object(let v)? = t["model"]?["vocab"] else {
                throw ModelError("\(tj): the tokenizer is not WordPiece")
            }
            for (k, id) in v { if let i = id.intValue { vocab[k] = Int32(i) } }
            if let n = t["normalizer"], n["type"]?.stringValue == "BertNormalizer" {
                lowercase = n["lowercase"]?.boolValue ?? true
                if case .bool(let b)? = n["strip_accents"] { strip = b }
            }
        } else {
            guard let data = FileManager.default.contents(atPath: directory + "/vocab.txt") else {
                throw ModelError("\(directory): neither tokenizer.json nor vocab.txt")
            }
            for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                vocab[String(line.hasSuffix("\r") ? line.dropLast() : line)] = Int32(i)
            }
            if FileManager.default.fileExists(atPath: directory + "/tokenizer_config.json") {
                let c = try BertConfig.json(directory + "/tokenizer_config.json")
                lowercase = c["do_lower_case"]?.boolValue ?? true
                if case .bool(let b)? = c["strip_accents"] { strip = b }
            }
        }
        guard let unk = vocab["[UNK]"], let cls = vocab["[CLS]"], let sep = vocab["[SEP]"] else {
            throw ModelError("\(directory): the vocabulary lacks [UNK], [CLS] or [SEP]")
        }
        return WordPieceTokenizer(vocab: vocab, unknown: unk, cls: cls, sep: sep, lowercase: lowercase, stripAccents: strip ?? lowercase)
    }

    /// Token ids of one text: `[CLS]`, at most `maxLength - 2` word pieces, `[SEP]`.
    func encode(_ text: String, maxLength: Int) -> [Int32] {
        var ids: [Int32] = [cls]
        let limit = max(0, maxLength - 2)
        outer: for word in preTokenize(normalize(text)) {
            for piece in wordPieces(word) {
                if ids.count - 1 >= limit { break outer }
                ids.append(piece)
            }
        }
        ids.append(sep)
        return ids
    }

    /// The word-piece strings of a text (for tests and debugging).
    func tokens(_ text: String) -> [String] {
        let byID = Dictionary(vocab.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        return encode(text, maxLength: Int.max).dropFirst().dropLast().map { byID[$0] ?? "?" }
    }

    // MARK: normalizer

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.generalCategory == .spaceSeparator
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F, 0x2B820...0x2CEAF,
            0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    func normalize(_ text: String) -> String.UnicodeScalarView {
        var cleaned = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
            if Self.isWhitespace(s) {
                cleaned.append(" ")
            } else if Self.isCJK(s) {
                cleaned.append(" ")
                cleaned.append(s)
                cleaned.append(" ")
            } else {
                cleaned.append(s)
            }
        }
        var out = String(cleaned)
        if stripAccents {
            var kept = String.UnicodeScalarView()
            for s in out.decomposedStringWithCanonicalMapping.unicodeScalars where s.properties.generalCategory != .nonspacingMark { kept.append(s) }
            out = String(kept)
        }
        if lowercase { out = out.lowercased() }
        return out.unicodeScalars
    }

    // MARK: pre-tokenizer and word pieces

    func preTokenize(_ scalars: String.UnicodeScalarView) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for s in scalars {
            if Self.isWhitespace(s) {
                if !current.isEmpty { words.append(current); current = [] }
            } else if Self.isPunctuation(s) {
                if !current.isEmpty { words.append(current); current = [] }
                words.append([s])
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    func wordPieces(_ word: [Unicode.Scalar]) -> [Int32] {
        if word.count > maxCharsPerWord { return [unknown] }
        var pieces: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32? = nil
            while start < end {
                var sub = String(String.UnicodeScalarView(word[start..<end]))
                if start > 0 { sub = "##" + sub }
                if let id = vocab[sub] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else { return [unknown] }
            pieces.append(id)
            start = end
        }
        return pieces
    }
}
