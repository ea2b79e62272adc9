/// `document.*`: text extraction from Document columns, as methods: `doc.extract_text()`
/// (the whole text; PDF pages separated by blank lines, HTML and Markdown as their text
/// without markup) and `doc.get_metadata()` (`format`, `pages` for PDF, `title`).
///
/// Pixeltable reads documents only through `document_splitter`; these methods make the same
/// reading available to computed columns and queries. Like the video functions they run as
/// batch functions (outside write transactions): PDF text comes from `pdftotext`.
enum DocumentFunctions {
    static let all: [ExpressionFunction] = [
        VideoFunctions.media("document.extract_text", [.init("self", .kind(.document))], returns: ColumnType(.string, nullable: true)) { c, a throws(FunctionError) in
            let source = try DocumentSource.load(try VideoFunctions.localPath(a[0], c), context: c)
            return .string(source.chunks(wholeDocument).map { $0.text }.joined(separator: "\n\n"))
        },
        VideoFunctions.media("document.get_metadata", [.init("self", .kind(.document))], returns: BuiltinFunctions.jsonType) { c, a throws(FunctionError) in
            let source = try DocumentSource.load(try VideoFunctions.localPath(a[0], c), context: c)
            let title = source.title ?? source.chunks(wholeDocument).first?.title
            return .json(
                .object([
                    ("format", .string(source.format.rawValue)), ("pages", source.format == .pdf ? JSONValue.int(Int64(source.pages.count)) : JSONValue.null),
                    ("title", title.map { JSONValue.string($0) } ?? JSONValue.null),
                ]))
        },
    ]

    /// A splitter that keeps each document whole (no separators) but for PDF pages.
    static let wholeDocument: DocumentSplitter = {
        // 'page' is a valid separator list: this cannot fail.
        (try? DocumentSplitter(separators: "page", limit: nil, overlap: nil))!
    }()
}
