import Testing
@testable import Pixeltable

@Suite struct JSONTests {
    @Test func keepsIntegersDoublesAndBooleansApart() throws {
        let v = try JSONParser.parse("[1, true, 1.5, 0, false, -3, 1e3]")
        #expect(v == [.int(1), .bool(true), .double(1.5), .int(0), .bool(false), .int(-3), .double(1000)])
    }

    @Test func keepsObjectKeyOrder() throws {
        let v = try JSONParser.parse(#"{"b": 1, "a": {"z": null, "y": "x"}}"#)
        #expect(JSONWriter.compact.string(v) == #"{"b":1,"a":{"z":null,"y":"x"}}"#)
    }

    @Test func writesPythonLayouts() throws {
        let v: JSONValue = ["status": "starting", "port": 8000, "list": [1, 2]]
        #expect(JSONWriter(style: .spaced).string(v) == #"{"status": "starting", "port": 8000, "list": [1, 2]}"#)
        #expect(JSONWriter.pretty.string(v) == "{\n  \"status\": \"starting\",\n  \"port\": 8000,\n  \"list\": [\n    1,\n    2\n  ]\n}")
        #expect(JSONWriter.pretty.string(["a": [], "b": [:]]) == "{\n  \"a\": [],\n  \"b\": {}\n}")
    }

    @Test func escapesStrings() throws {
        let s = "quote\" back\\ nl\n tab\t é \u{1}"
        let text = JSONWriter.compact.string(.string(s))
        #expect(text == #""quote\" back\\ nl\n tab\t é \u0001""#)
        #expect(try JSONParser.parse(text) == .string(s))
        #expect(JSONWriter(style: .compact, asciiOnly: true).string(.string("é😀")) == #""\u00e9\ud83d\ude00""#)
        #expect(try JSONParser.parse(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
    }

    @Test func reportsWhereParsingFailed() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse("{\"a\": 1,\n \"b\" 2}") }
        do {
            _ = try JSONParser.parse("{\"a\": 1,\n \"b\" 2}")
        } catch {
            #expect(error.line == 2)
            #expect(error.message.contains("':'"))
        }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse("[1, 2") }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse("01") }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse("{} x") }
    }
}
