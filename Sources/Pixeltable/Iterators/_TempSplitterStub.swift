struct DocumentChunk: Sendable, Equatable { var text: String; var title: String?; var heading: [String: String]?; var page: Int?; var sourceline: Int? }
struct DocumentSplitter: Sendable {
    struct Failure: Error, Sendable { let message: String }
    init(separators: String, limit: Int?, overlap: Int?) throws(Failure) {}
    func split(html: String) -> [DocumentChunk] { [DocumentChunk(text: html)] }
    func split(markdown: String) -> [DocumentChunk] { [DocumentChunk(text: markdown)] }
    func split(text: String) -> [DocumentChunk] { [DocumentChunk(text: text)] }
    func split(pages: [String], title: String?) -> [DocumentChunk] { pages.enumerated().map { DocumentChunk(text: $0.element, title: title, page: $0.offset) } }
}
struct StringSplitter: Sendable {
    init(separators: String) throws(DocumentSplitter.Failure) {}
    func split(_ text: String) -> [String] { [text] }
}
