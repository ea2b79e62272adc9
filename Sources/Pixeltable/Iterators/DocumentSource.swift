import Foundation

/// A document file read for splitting: its format and its text (by page for PDF).
///
/// The format comes from the file's first bytes (`%PDF-`, an HTML tag) and then its extension
/// (`.md`/`.markdown`, `.html`/`.htm`), as Pixeltable's `get_document_handle` decides; anything
/// else is plain text. PDF text comes from poppler's `pdftotext`, which separates pages with
/// form feeds, and the title from `pdfinfo`.
struct DocumentSource: Sendable {
    /// A document format pxt splits.
    enum Format: String, Sendable {
        case pdf, html, markdown = "md", text = "txt"
    }

    var format: Format
    /// The whole text (HTML and Markdown as written).
    var text: String
    /// PDF pages' text.
    var pages: [String]
    /// The PDF's title, from its metadata.
    var title: String?

    /// Documents larger than this are refused (their text is held in memory).
    static let maxBytes = 512 << 20

    /// Reads the document at `path`.
    static func load(_ path: String, context: FunctionContext) throws(FunctionError) -> DocumentSource {
        guard let info = FileInfo.of(path: path), info.isRegular else { throw FunctionError("FileNotFoundError", "file not found: '\(path)'") }
        guard info.size <= maxBytes else { throw FunctionError("ValueError", "document '\(path)' is larger than \(maxBytes >> 20) MiB") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FunctionError("OSError", "cannot read '\(path)'") }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 1024))
        let format = detect(path: path, head: head)
        if format == .pdf {
            let out = try ExternalTool.pdftotext.run(["-enc", "UTF-8", "-q", path, "-"], environment: context.environment, timeout: 600, check: false)
            if out.status != 0 {
                throw FunctionError("InvalidDataError", "not a readable PDF: '\(path)': \(ExternalTool.lastLines(out.stderr, count: 1))")
            }
            var pages = String(decoding: out.stdout, as: UTF8.self).components(separatedBy: "\u{0C}")
            // pdftotext ends the last page with a form feed too.
            if pages.count > 1, pages.last?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == true { pages.removeLast() }
            return DocumentSource(format: .pdf, text: pages.joined(separator: "\n\n"), pages: pages, title: pdfTitle(path, context))
        }
        let data = head + [UInt8](handle.readDataToEndOfFile())
        let text = String(decoding: data, as: UTF8.self)
        return DocumentSource(format: format, text: text, pages: [], title: nil)
    }

    static func detect(path: String, head: [UInt8]) -> Format {
        if head.starts(with: Array("%PDF-".utf8)) { return .pdf }
        let ext = (path as NSString).pathExtension.lowercased()
        if ext == "md" || ext == "markdown" { return .markdown }
        if ext == "html" || ext == "htm" || ext == "xhtml" { return .html }
        let start = String(decoding: head.prefix(256), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if start.hasPrefix("<!doctype html") || start.hasPrefix("<html") { return .html }
        if ext == "pdf" { return .pdf }
        return .text
    }

    /// The `Title:` line of `pdfinfo`, if any (a missing pdfinfo only loses the title).
    static func pdfTitle(_ path: String, _ context: FunctionContext) -> String? {
        guard let out = try? ExternalTool.pdfinfo.run(["-enc", "UTF-8", path], environment: context.environment, timeout: 60, check: false) else { return nil }
        for line in String(decoding: out.stdout, as: UTF8.self).split(separator: "\n") where line.hasPrefix("Title:") {
            let t = line.dropFirst("Title:".count).trimmingCharacters(in: .whitespaces)
            return t.isEmpty ? nil : t
        }
        return nil
    }

    /// The document's chunks as `splitter` cuts them.
    func chunks(_ splitter: DocumentSplitter) -> [DocumentChunk] {
        switch format {
        case .pdf: return splitter.split(pages: pages, title: title)
        case .html: return splitter.split(html: text)
        case .markdown: return splitter.split(markdown: text)
        case .text: return splitter.split(text: text)
        }
    }
}
