/// `string.string_splitter(text, separators='sentence')`: one view row per piece of a String
/// column (Pixeltable's `string_splitter`). Output: `text`.
struct StringSplitterIterator: ComponentIterator {
    var splitter: StringSplitter

    static let kind = IteratorKind(
        name: "string.string_splitter", input: .string, parameters: [FunctionParameter("separators", .string)]
    ) { a throws(FunctionError) in
        let separators = try IteratorArguments.string(a, "separators") ?? ""
        do throws(DocumentSplitter.Failure) {
            return StringSplitterIterator(splitter: try StringSplitter(separators: separators))
        } catch {
            throw FunctionError("ValueError", error.message)
        }
    }

    var outputs: [IteratorOutput] { [IteratorOutput(name: "text", type: ColumnType(.string, nullable: false))] }

    func components(of input: Value, context: FunctionContext) throws(FunctionError) -> [[Value]] {
        guard case .string(let s) = input else { return [] }
        return splitter.split(s).map { [.string($0)] }
    }
}
