import Foundation

/// `document.document_splitter(doc, separators=…, limit=…, overlap=0, metadata='')`: one view
/// row per chunk of a document (Pixeltable's `document_splitter`).
///
/// Outputs: `text`, then the metadata fields asked for in `metadata`, in the order given:
/// `title` (String), `heading` (Json: the open headings by level, `{"h1": …, "h2": …}`),
/// `sourceline` (Int) and `page` (Int, PDF, 0-based). The cutting is ``DocumentSplitter``'s;
/// the file is read by ``DocumentSource``. Pixeltable's `spacy_model`, `tiktoken_encoding`
/// and `tiktoken_target_model` are accepted and have no effect (sentences and tokens are
/// found by rules; see ``DocumentSplitter``); `elements` other than `['text']` and the
/// `bounding_box` metadata are not supported.
struct DocumentSplitterIterator: ComponentIterator {
    var splitter: DocumentSplitter
    var metadata: [String]

    static let metadataFields = ["title", "heading", "sourceline", "page"]

    static let kind = IteratorKind(
        name: "document.document_splitter", input: .document,
        parameters: [
            FunctionParameter("separators", .string), FunctionParameter("limit", .int, default: .null),
            FunctionParameter("overlap", .int, default: .null), FunctionParameter("metadata", .string, default: .string("")),
            FunctionParameter("spacy_model", .string, default: .null), FunctionParameter("tiktoken_encoding", .string, default: .null),
            FunctionParameter("tiktoken_target_model", .string, default: .null),
        ]
    ) { a throws(FunctionError) in
        let separators = try IteratorArguments.string(a, "separators") ?? ""
        let (limit, overlap) = (try IteratorArguments.int(a, "limit"), try IteratorArguments.int(a, "overlap"))
        let splitter: DocumentSplitter
        do throws(DocumentSplitter.Failure) {
            splitter = try DocumentSplitter(separators: separators, limit: limit, overlap: overlap)
        } catch {
            throw FunctionError("ValueError", error.message)
        }
        let fields = (try IteratorArguments.string(a, "metadata") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        for f in fields where !metadataFields.contains(f) {
            throw FunctionError("ValueError", "Invalid metadata field: '\(f)'; the fields are \(metadataFields.joined(separator: ", "))")
        }
        return DocumentSplitterIterator(splitter: splitter, metadata: fields)
    }

    var outputs: [IteratorOutput] {
        [IteratorOutput(name: "text", type: ColumnType(.string, nullable: false))]
            + metadata.map { f in
                switch f {
                case "heading": return IteratorOutput(name: f, type: ColumnType(.json))
                case "sourceline", "page": return IteratorOutput(name: f, type: ColumnType(.int))
                default: return IteratorOutput(name: f, type: ColumnType(.string))
                }
            }
    }

    func components(of input: Value, context: FunctionContext) throws(FunctionError) -> [[Value]] {
        let source = try DocumentSource.load(try VideoFunctions.localPath(input, context), context: context)
        return source.chunks(splitter).map { c in
            [.string(c.text)]
                + metadata.map { f -> Value in
                    switch f {
                    case "title": return c.title.map { .string($0) } ?? .null
                    case "heading": return c.heading.map { h in .json(.object(h.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })) } ?? .null
                    case "sourceline": return c.sourceline.map { .int(Int64($0)) } ?? .null
                    default: return c.page.map { .int(Int64($0)) } ?? .null
                    }
                }
        }
    }
}
