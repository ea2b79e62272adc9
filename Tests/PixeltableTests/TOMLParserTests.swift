import Testing
@testable import Pixeltable

@Suite struct TOMLParserTests {
    // MARK: Helpers

    /// Parses `text`, recording an issue (and returning an empty table) when it fails.
    func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLTable {
        do {
            return try TOMLParser.parse(text)
        } catch {
            Issue.record("unexpected parse error: \(error)", sourceLocation: sourceLocation)
            return TOMLTable()
        }
    }

    /// The error `text` produces, recording an issue when it parses.
    func failure(_ text: String, file: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLError {
        do {
            let table = try TOMLParser.parse(text, file: file)
            Issue.record("expected a parse error, got \(table)", sourceLocation: sourceLocation)
            return TOMLError(message: "", line: 0, column: 0)
        } catch {
            return error
        }
    }

    /// Parses `value = <literal>` and returns the value.
    func value(_ literal: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLValue? {
        parse("value = \(literal)\n", sourceLocation: sourceLocation)["value"]?.value
    }

    static let serviceExample = """
        # service.toml
        [[service]]
        name = "my-service"
        port = 8000
        modules = ["myapp.schema"]

        [[service.routes]]
        type = "insert"
        table = "my_dir/my_table"
        inputs = ["prompt"]
        [service.routes.export_sql]
        db_connect = "postgresql://u:p@h/db"

        [[table]]
        path = "myapp/docs"
        primary_key = ["id"]
        [table.columns]
        id    = "Int"
        body  = { type = "Required[String]", comment = "Full text" }
        [[table.computed]]
        name = "title_upper"
        expr = "title.upper()"
        params   = { query_text = "String", k = { type = "Int", default = 5 } }
        """

    // MARK: The service.toml example

    @Test func serviceExampleStructure() throws {
        let root = parse(Self.serviceExample)
        #expect(root.keys == ["service", "table"])
        let services = try #require(root["service"]?.value.arrayValue)
        #expect(services.count == 1)
        let service = try #require(services[0].value.tableValue)
        #expect(service.keys == ["name", "port", "modules", "routes"])
        #expect(service["name"]?.value == .string("my-service"))
        #expect(service["port"]?.value == .integer(8000))
        #expect(service["modules"]?.value.arrayValue?.map(\.value) == [.string("myapp.schema")])
        let route = try #require(service["routes"]?[0])
        #expect(route["type"]?.value == .string("insert"))
        #expect(route["table"]?.value == .string("my_dir/my_table"))
        #expect(route["export_sql"]?["db_connect"]?.value == .string("postgresql://u:p@h/db"))

        let table = try #require(root["table"]?[0])
        #expect(table["primary_key"]?[0]?.value == .string("id"))
        #expect(table["columns"]?.value.tableValue?.keys == ["id", "body"])
        #expect(table["columns"]?["body"]?["type"]?.value == .string("Required[String]"))
        #expect(table["columns"]?["body"]?["comment"]?.value == .string("Full text"))
        let params = try #require(table["computed"]?[0]?["params"])
        #expect(params["query_text"]?.value == .string("String"))
        #expect(params["k"]?["default"]?.value == .integer(5))
        #expect(params["k"]?["type"]?.value == .string("Int"))
    }

    @Test func serviceExampleLocations() throws {
        let root = parse(Self.serviceExample)
        let serviceArray = try #require(root["service"])
        #expect(serviceArray.line == 2)
        let service = try #require(serviceArray[0])
        #expect(service.line == 2)
        #expect(service.column == 3)  // the key inside "[[service]]"
        #expect(service["name"]?.line == 3)
        #expect(service["name"]?.column == 1)
        #expect(service["port"]?.line == 4)
        #expect(service["modules"]?[0]?.line == 5)
        #expect(service["modules"]?[0]?.column == 12)
        let route = try #require(service["routes"]?[0])
        #expect(route.line == 7)
        #expect(route["table"]?.line == 9)
        #expect(route["inputs"]?.line == 10)
        #expect(route["export_sql"]?.line == 11)
        #expect(route["export_sql"]?["db_connect"]?.line == 12)
        let table = try #require(root["table"]?[0])
        #expect(table.line == 14)
        #expect(table["columns"]?["body"]?.line == 19)
        #expect(table["columns"]?["body"]?["comment"]?.line == 19)
        #expect(table["columns"]?["body"]?["comment"]?.column == 38)
        let params = try #require(table["computed"]?[0]?["params"])
        #expect(params.line == 23)
        #expect(params["query_text"]?.column == 14)
        #expect(params["k"]?.column == 37)
        #expect(params["k"]?["default"]?.column == 57)
    }

    // MARK: Document structure and whitespace

    @Test func emptyAndCommentOnlyDocuments() {
        #expect(parse("").entries.isEmpty)
        #expect(parse("# only a comment\n\n   \n\t# another").entries.isEmpty)
    }

    @Test func commentsAndWhitespaceEverywhere() throws {
        let root = parse("""
              # leading comment
            a = 1 # trailing comment
            \tb\t=\t2\t
            [ t ] # header comment
            c = [ # array comment
              1, # one
              # a comment line
              2,
            ] # after
            """)
        #expect(root["a"]?.value == .integer(1))
        #expect(root["b"]?.value == .integer(2))
        #expect(root["t"]?["c"]?.value.arrayValue?.map(\.value) == [.integer(1), .integer(2)])
        #expect(root["b"]?.column == 2)
    }

    @Test func crlfLineEndingsAndByteOrderMark() throws {
        let root = parse("\u{FEFF}a = 1\r\n[t]\r\nb = \"\"\"\r\nx\r\ny\"\"\"\r\nc = 'z' # c\r\n")
        #expect(root["a"]?.value == .integer(1))
        #expect(root["a"]?.column == 1)
        #expect(root["t"]?["b"]?.value == .string("x\ny"))
        #expect(root["t"]?["c"]?.line == 6)
        #expect(failure("a = 1\rb = 2").message.contains("carriage return"))
    }

    @Test func keyOrderIsPreserved() {
        let root = parse("""
            zeta = 1
            alpha = 2
            mid.y = 3
            mid.x = 4
            beta = { z = 1, a = 2, m = 3 }
            [omega]
            [alpha2]
            """)
        #expect(root.keys == ["zeta", "alpha", "mid", "beta", "omega", "alpha2"])
        #expect(root["mid"]?.value.tableValue?.keys == ["y", "x"])
        #expect(root["beta"]?.value.tableValue?.keys == ["z", "a", "m"])
        #expect(root.entries.map(\.key) == root.keys)
    }

    // MARK: Keys

    @Test func bareQuotedAndDottedKeys() {
        let root = parse("""
            bare_key-1 = 1
            1234 = 2
            "quoted key" = 3
            'literal "key"' = 4
            "" = 5
            a.b.c = 6
            a . d  .  e = 7
            "x.y".z = 8
            site."google.com" = true
            3.14159 = "pi"
            "\\u00e9t\\u00e9" = 9
            """)
        #expect(root["bare_key-1"]?.value == .integer(1))
        #expect(root["1234"]?.value == .integer(2))
        #expect(root["quoted key"]?.value == .integer(3))
        #expect(root["literal \"key\""]?.value == .integer(4))
        #expect(root[""]?.value == .integer(5))
        #expect(root["a"]?["b"]?["c"]?.value == .integer(6))
        #expect(root["a"]?["d"]?["e"]?.value == .integer(7))
        #expect(root["a"]?.value.tableValue?.keys == ["b", "d"])
        #expect(root["x.y"]?["z"]?.value == .integer(8))
        #expect(root["site"]?["google.com"]?.value == .boolean(true))
        #expect(root["3"]?["14159"]?.value == .string("pi"))
        #expect(root["été"]?.value == .integer(9))
    }

    @Test func dottedKeyLocations() throws {
        let root = parse("x = 0\n  a.b.c = 1\n")
        let a = try #require(root["a"])
        #expect(a.line == 2 && a.column == 3)
        #expect(a["b"]?.column == 5)
        #expect(a["b"]?["c"]?.column == 7)
        #expect(a["b"]?["c"]?.line == 2)
    }

    // MARK: Strings

    @Test func basicStringsAndEscapes() {
        #expect(value(#""plain""#) == .string("plain"))
        #expect(value(#""tab\there""#) == .string("tab\there"))
        #expect(value(#""\b\t\n\f\r\"\\""#) == .string("\u{08}\t\n\u{0C}\r\"\\"))
        #expect(value(#""\u00E9 \U0001F600 \u0041""#) == .string("é 😀 A"))
        #expect(value(##""# not a comment""##) == .string("# not a comment"))
        #expect(value(#""unicode: ñ 中文""#) == .string("unicode: ñ 中文"))
        #expect(value(#""""#) == .string(""))
    }

    @Test func literalStrings() {
        #expect(value(#"'C:\Users\nodejs\templates'"#) == .string(#"C:\Users\nodejs\templates"#))
        #expect(value(#"'Tom "Dubs" Preston-Werner'"#) == .string(#"Tom "Dubs" Preston-Werner"#))
        #expect(value(#"'<\i\c*\s*>'"#) == .string(#"<\i\c*\s*>"#))
        #expect(value("''") == .string(""))
    }

    @Test func multilineBasicStrings() {
        #expect(value("\"\"\"\nRoses are red\nViolets are blue\"\"\"") == .string("Roses are red\nViolets are blue"))
        // Line-ending backslashes trim the newline and the following whitespace.
        let folded = "\"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\"\"\""
        #expect(value(folded) == .string("The quick brown fox jumps over the lazy dog."))
        let foldedWithTrailingSpace = "\"\"\"\\   \n   The quick brown \\\t\n  fox.\\\n  \"\"\""
        #expect(value(foldedWithTrailingSpace) == .string("The quick brown fox."))
        #expect(value(#""""Here are two quotation marks: "". Simple enough.""""#)
            == .string(#"Here are two quotation marks: "". Simple enough."#))
        #expect(value(#""""Here are three quotation marks: ""\".""""#) == .string(#"Here are three quotation marks: """."#))
        #expect(value(#"""""This," she said, "is just a pointless statement."""""#)
            == .string(#""This," she said, "is just a pointless statement.""#))
        #expect(value("\"\"\"a\\tb\\u0041\"\"\"") == .string("a\tbA"))
        #expect(value("\"\"\"\"\"\"") == .string(""))
    }

    @Test func multilineLiteralStrings() {
        #expect(value("'''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''")
            == .string("The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n"))
        #expect(value(#"'''I [dw]on't need \d{2} apples'''"#) == .string(#"I [dw]on't need \d{2} apples"#))
        #expect(value(#"''''That,' she said, 'is still pointless.''''"#) == .string("'That,' she said, 'is still pointless.'"))
        #expect(value("'''a\\\n b'''") == .string("a\\\n b"))
    }

    @Test func multilineStringsTrackLines() throws {
        let root = parse("a = \"\"\"\none\ntwo\n\"\"\"\nb = '''\n\n'''\nc = 1")
        #expect(root["b"]?.line == 5)
        #expect(root["c"]?.line == 8)
    }

    // MARK: Numbers and booleans

    @Test func integers() {
        #expect(value("+99") == .integer(99))
        #expect(value("42") == .integer(42))
        #expect(value("0") == .integer(0))
        #expect(value("-17") == .integer(-17))
        #expect(value("+0") == .integer(0))
        #expect(value("-0") == .integer(0))
        #expect(value("1_000") == .integer(1000))
        #expect(value("5_349_221") == .integer(5_349_221))
        #expect(value("1_2_3_4_5") == .integer(12345))
        #expect(value("0xDEADBEEF") == .integer(0xDEAD_BEEF))
        #expect(value("0xdead_beef") == .integer(0xDEAD_BEEF))
        #expect(value("0o01234567") == .integer(0o01234567))
        #expect(value("0o755") == .integer(0o755))
        #expect(value("0b11010110") == .integer(0b11010110))
        #expect(value("0x7FFFFFFFFFFFFFFF") == .integer(Int64.max))
        #expect(value("9223372036854775807") == .integer(Int64.max))
        #expect(value("-9223372036854775808") == .integer(Int64.min))
    }

    @Test func floats() {
        #expect(value("+1.0") == .float(1.0))
        #expect(value("3.1415") == .float(3.1415))
        #expect(value("-0.01") == .float(-0.01))
        #expect(value("5e+22") == .float(5e22))
        #expect(value("1e06") == .float(1e6))
        #expect(value("-2E-2") == .float(-2e-2))
        #expect(value("6.626e-34") == .float(6.626e-34))
        #expect(value("224_617.445_991_228") == .float(224_617.445_991_228))
        #expect(value("0.0") == .float(0))
        #expect(value("-0.0") == .float(-0.0))
        #expect(value("inf") == .float(.infinity))
        #expect(value("+inf") == .float(.infinity))
        #expect(value("-inf") == .float(-.infinity))
        #expect(value("nan")?.floatValue?.isNaN == true)
        #expect(value("+nan")?.floatValue?.isNaN == true)
        #expect(value("-nan")?.floatValue?.isNaN == true)
    }

    @Test func booleans() {
        #expect(value("true") == .boolean(true))
        #expect(value("false") == .boolean(false))
        #expect(failure("a = True").message.contains("invalid value 'True'"))
    }

    // MARK: Date-times

    @Test func dateTimes() {
        #expect(value("1979-05-27T07:32:00Z") == .datetime("1979-05-27T07:32:00Z"))
        #expect(value("1979-05-27T00:32:00-07:00") == .datetime("1979-05-27T00:32:00-07:00"))
        #expect(value("1979-05-27T00:32:00.999999-07:00") == .datetime("1979-05-27T00:32:00.999999-07:00"))
        #expect(value("1979-05-27 07:32:00Z") == .datetime("1979-05-27 07:32:00Z"))
        #expect(value("1979-05-27t07:32:00z") == .datetime("1979-05-27t07:32:00z"))
        #expect(value("1979-05-27T07:32:00") == .datetime("1979-05-27T07:32:00"))
        #expect(value("1979-05-27T00:32:00.999999") == .datetime("1979-05-27T00:32:00.999999"))
        #expect(value("1979-05-27") == .datetime("1979-05-27"))
        #expect(value("07:32:00") == .datetime("07:32:00"))
        #expect(value("00:32:00.999999") == .datetime("00:32:00.999999"))
        #expect(value("2024-02-29") == .datetime("2024-02-29"))
        #expect(value("2000-02-29") == .datetime("2000-02-29"))
        #expect(value("1990-12-31T23:59:60Z") == .datetime("1990-12-31T23:59:60Z"))
        let root = parse("a = [1979-05-27 07:32:00, 1979-05-27] # dates\nb = 1979-05-27 # no time")
        #expect(root["a"]?.value.arrayValue?.map(\.value) == [.datetime("1979-05-27 07:32:00"), .datetime("1979-05-27")])
        #expect(root["b"]?.value == .datetime("1979-05-27"))
    }

    @Test func invalidDateTimes() {
        #expect(failure("d = 2023-02-30").message == "invalid date '2023-02-30'")
        #expect(failure("d = 2023-13-01").message == "invalid date '2023-13-01'")
        #expect(failure("d = 2023-00-10").message == "invalid date '2023-00-10'")
        #expect(failure("d = 2023-04-31").message == "invalid date '2023-04-31'")
        #expect(failure("d = 1900-02-29").message == "invalid date '1900-02-29'")
        #expect(failure("d = 2023-01-01T25:00:00").message == "invalid time '2023-01-01T25:00:00'")
        #expect(failure("d = 12:60:00").message == "invalid time '12:60:00'")
        #expect(failure("d = 1979-05-27T07:32Z").message.hasPrefix("invalid date-time"))
        #expect(failure("d = 1979-5-27").message.hasPrefix("invalid"))
        #expect(failure("d = 07:32:00Z").message.hasPrefix("invalid date-time"))
        #expect(failure("d = 1979-05-27T07:32:00+7:00").message.hasPrefix("invalid date-time"))
        #expect(failure("d = 1979-05-27T07:32:00.").message.hasPrefix("invalid date-time"))
        #expect(failure("d = 1979-05-27X07:32:00").message.hasPrefix("invalid date-time"))
        #expect(failure("\n\nd = 2023-02-30").line == 3)
        #expect(failure("\n\nd = 2023-02-30").column == 5)
    }

    // MARK: Arrays

    @Test func arrays() throws {
        let root = parse("""
            integers = [ 1, 2, 3 ]
            colors = [ "red", "yellow", "green" ]
            nested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]
            nested_mixed_array = [ [ 1, 2 ], ["a", "b", "c"] ]
            string_array = [ "all", 'strings', \"\"\"are the same\"\"\", '''type''' ]
            numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]
            contributors = [
              "Foo Bar <foo@example.com>",
              { name = "Baz Qux", email = "bazqux@example.com", url = "https://example.com/bazqux" },
            ]
            empty = []
            empty2 = [
            ]
            trailing = [1,2,]
            """)
        #expect(root["integers"]?.value.arrayValue?.map(\.value) == [.integer(1), .integer(2), .integer(3)])
        #expect(root["nested_arrays_of_ints"]?[1]?[2]?.value == .integer(5))
        #expect(root["nested_mixed_array"]?[1]?[0]?.value == .string("a"))
        #expect(root["string_array"]?.value.arrayValue?.map(\.value)
            == [.string("all"), .string("strings"), .string("are the same"), .string("type")])
        #expect(root["numbers"]?[3]?.value == .integer(1))
        #expect(root["numbers"]?[0]?.value == .float(0.1))
        #expect(root["contributors"]?[1]?["name"]?.value == .string("Baz Qux"))
        #expect(root["empty"]?.value == .array([]))
        #expect(root["empty2"]?.value == .array([]))
        #expect(root["trailing"]?.value.arrayValue?.count == 2)
        // Items remember their own positions.
        #expect(root["contributors"]?[0]?.line == 8)
        #expect(root["contributors"]?[0]?.column == 3)
        #expect(root["contributors"]?[1]?.line == 9)
        #expect(root["contributors"]?.line == 7)
        #expect(root["integers"]?[2]?.column == 20)
    }

    // MARK: Inline tables

    @Test func inlineTables() {
        let root = parse("""
            name = { first = "Tom", last = "Preston-Werner" }
            point = { x = 1, y = 2 }
            animal = { type.name = "pug" }
            nested = { a = { b = { c = 1 } }, d = [ { e = 2 } ] }
            empty = {}
            spaced = {   }
            """)
        #expect(root["name"]?.value.tableValue?.keys == ["first", "last"])
        #expect(root["point"]?["y"]?.value == .integer(2))
        #expect(root["animal"]?["type"]?["name"]?.value == .string("pug"))
        #expect(root["nested"]?["a"]?["b"]?["c"]?.value == .integer(1))
        #expect(root["nested"]?["d"]?[0]?["e"]?.value == .integer(2))
        #expect(root["empty"]?.value == .table(TOMLTable()))
        #expect(root["spaced"]?.value == .table(TOMLTable()))
        #expect(root["point"]?["y"]?.column == 18)
    }

    @Test func inlineTableErrors() {
        let trailing = failure("a = { x = 1, }")
        #expect(trailing.message.contains("trailing comma"))
        #expect(trailing.column == 14)
        #expect(failure("a = { x = 1,\n y = 2 }").message.contains("single line"))
        #expect(failure("a = { x = 1\n}").line == 1)
        #expect(failure("a = { x = 1 y = 2 }").message == "expected ',' or '}' in inline table, found 'y'")
        #expect(failure("a = { x = 1, x = 2 }").message == "duplicate key 'x'")
        #expect(failure("a = { x.y = 1, x = 2 }").message == "duplicate key 'x'")
        #expect(failure("a = { x = 1").message == "unterminated inline table")
    }

    @Test func inlineTablesCannotBeExtended() {
        let dotted = failure("a = { x = 1 }\na.y = 2")
        #expect(dotted.message == "cannot extend inline table 'a'")
        #expect(dotted.line == 2)
        #expect(dotted.column == 1)
        let header = failure("a = { x = 1 }\n[a]\ny = 2")
        #expect(header.message == "cannot extend inline table 'a'")
        #expect(header.line == 2)
        #expect(failure("a = { x = 1 }\n[a.b]").message == "cannot extend inline table 'a'")
        #expect(failure("[t]\na = { x = 1 }\n[t.a.b]").message == "cannot extend inline table 't.a'")
        #expect(failure("a = { b = { c = 1 } }\n[a.b]").message == "cannot extend inline table 'a'")
        #expect(failure("a = {}\n[[a]]").message == "cannot extend inline table 'a'")
    }

    // MARK: Tables

    @Test func tablesAndImplicitSuperTables() throws {
        let root = parse("""
            [table-1]
            key1 = "some string"
            key2 = 123

            [table-2]
            key1 = "another string"

            [dog."tater.man"]
            type.name = "pug"

            [ j . "ʞ" . 'l' ]
            [x.y.z.w]
            [x]
            own = 1
            """)
        #expect(root.keys == ["table-1", "table-2", "dog", "j", "x"])
        #expect(root["table-1"]?["key2"]?.value == .integer(123))
        #expect(root["dog"]?["tater.man"]?["type"]?["name"]?.value == .string("pug"))
        #expect(root["j"]?["ʞ"]?["l"]?.value == .table(TOMLTable()))
        #expect(root["x"]?["y"]?["z"]?["w"]?.value == .table(TOMLTable()))
        #expect(root["x"]?.value.tableValue?.keys == ["y", "own"])
        // Defining the implicit super-table moves its location to the explicit header.
        #expect(root["x"]?.line == 13)
        #expect(root["x"]?["y"]?.line == 12)
        #expect(root["table-2"]?.line == 5)
        #expect(root["table-2"]?.column == 2)
    }

    @Test func subTablesOfDottedKeyTables() {
        let root = parse("""
            [fruit]
            apple.color = "red"
            apple.taste.sweet = true

            [fruit.apple.texture]
            smooth = true
            """)
        #expect(root["fruit"]?["apple"]?["color"]?.value == .string("red"))
        #expect(root["fruit"]?["apple"]?["taste"]?["sweet"]?.value == .boolean(true))
        #expect(root["fruit"]?["apple"]?["texture"]?["smooth"]?.value == .boolean(true))
        #expect(failure("[fruit]\napple.color = \"red\"\n[fruit.apple]").message == "table 'fruit.apple' is already defined")
        #expect(failure("[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]").line == 3)
    }

    @Test func arraysOfTables() throws {
        let root = parse("""
            [[products]]
            name = "Hammer"
            sku = 738594937

            [[products]]  # empty table within the array

            [[products]]
            name = "Nail"
            sku = 284758393

            color = "gray"
            """)
        let products = try #require(root["products"]?.value.arrayValue)
        #expect(products.count == 3)
        #expect(products[0]["name"]?.value == .string("Hammer"))
        #expect(products[1].value == .table(TOMLTable()))
        #expect(products[2]["color"]?.value == .string("gray"))
        #expect(products.map(\.line) == [1, 5, 7])
    }

    @Test func nestedArraysOfTables() throws {
        let root = parse("""
            [[fruits]]
            name = "apple"

            [fruits.physical]  # subtable
            color = "red"
            shape = "round"

            [[fruits.varieties]]  # nested array of tables
            name = "red delicious"

            [[fruits.varieties]]
            name = "granny smith"

            [[fruits]]
            name = "banana"

            [[fruits.varieties]]
            name = "plantain"
            """)
        let fruits = try #require(root["fruits"]?.value.arrayValue)
        #expect(fruits.count == 2)
        #expect(fruits[0]["physical"]?["shape"]?.value == .string("round"))
        #expect(fruits[0]["varieties"]?.value.arrayValue?.compactMap { $0["name"]?.value.stringValue }
            == ["red delicious", "granny smith"])
        #expect(fruits[1]["varieties"]?.value.arrayValue?.compactMap { $0["name"]?.value.stringValue } == ["plantain"])
        #expect(fruits[1]["varieties"]?[0]?.line == 17)
        #expect(fruits[0].value.tableValue?.keys == ["name", "physical", "varieties"])
    }

    @Test func pyprojectServiceSections() throws {
        let root = parse("""
            [project]
            name = "myapp"
            dependencies = ["pixeltable>=0.4"]

            [tool.ruff]
            line-length = 120

            [[tool.pixeltable.service]]
            name = "svc-a"
            port = 8000

            [[tool.pixeltable.service.routes]]
            type = "query"
            path = "/search"

            [[tool.pixeltable.service.routes]]
            type = "insert"
            table = "docs"

            [[tool.pixeltable.service]]
            name = "svc-b"

            [[tool.pixeltable.service.routes]]
            type = "delete"
            """)
        #expect(root.keys == ["project", "tool"])
        #expect(root["tool"]?.value.tableValue?.keys == ["ruff", "pixeltable"])
        let services = try #require(root["tool"]?["pixeltable"]?["service"]?.value.arrayValue)
        #expect(services.count == 2)
        #expect(services[0]["routes"]?.value.arrayValue?.count == 2)
        #expect(services[0]["routes"]?[1]?["table"]?.value == .string("docs"))
        #expect(services[0]["routes"]?[1]?["table"]?.line == 18)
        #expect(services[1]["routes"]?.value.arrayValue?.count == 1)
        #expect(services[1]["routes"]?[0]?["type"]?.value == .string("delete"))
        #expect(services[1].line == 20)
        #expect(services[1].column == 19)  // the last key of "[[tool.pixeltable.service]]"
        #expect(services[1]["routes"]?[0]?.line == 23)
    }

    @Test func implicitTablesFromArraysOfTablesCanBeDefinedLater() {
        let root = parse("""
            [[a.b]]
            x = 1
            [a]
            y = 2
            """)
        #expect(root["a"]?["b"]?[0]?["x"]?.value == .integer(1))
        #expect(root["a"]?["y"]?.value == .integer(2))
    }

    // MARK: Errors

    @Test func duplicateKeys() {
        let error = failure("name = \"a\"\nport = 1\nname = \"b\"")
        #expect(error.message == "duplicate key 'name'")
        #expect(error.line == 3)
        #expect(error.column == 1)
        #expect(failure("[t]\n  a.b = 1\n  a.b = 2").message == "duplicate key 'a.b'")
        #expect(failure("[t]\n  a.b = 1\n  a.b = 2").column == 5)
        #expect(failure("a = 1\na.b = 2").message == "cannot define key 'a.b' because 'a' is an integer")
        #expect(failure("\"a b\" = 1\n'a b' = 2").message == "duplicate key '\"a b\"'")
        #expect(failure("a = 1\n\"a\" = 2").line == 2)
    }

    @Test func tableRedefinition() {
        let twice = failure("[a]\nx = 1\n\n[a]\ny = 2")
        #expect(twice.message == "table 'a' is already defined")
        #expect(twice.line == 4)
        #expect(twice.column == 2)
        #expect(failure("[a.b]\n[a]\n[a]").line == 3)
        #expect(failure("a.b = 1\n[a]").message == "table 'a' is already defined")
        #expect(failure("[a]\nb = 1\n[a.b]").message == "cannot define table 'a.b' because 'a.b' is an integer")
        #expect(failure("[a]\nb = 1\n[a.b.c]").message == "cannot define table 'a.b.c' because 'a.b' is an integer")
        #expect(failure("a = 1\n[a]").line == 2)
        #expect(failure("[[a]]\n[a]").message == "table 'a' is already defined as an array of tables")
        #expect(failure("[a]\n[[a]]").message == "cannot define array of tables 'a' because 'a' is already a table")
        #expect(failure("a = [1]\n[[a]]").message == "cannot append to static array 'a'")
        #expect(failure("a = [{}]\n[a.b]").message == "cannot define table 'a.b' because 'a' is an array")
        #expect(failure("[a.b.c]\nz = 9\n[a]\nb.c.t = 1").message.contains("dotted key 'b.c.t'"))
        #expect(failure("[[a.b]]\n[a]\nb.y = 2").message.contains("array of tables 'b'"))
    }

    @Test func missingEqualsAndJunk() {
        let missing = failure("name = 1\nport 8000")
        #expect(missing.message == "expected '=' after key 'port'")
        #expect(missing.line == 2)
        #expect(missing.column == 6)
        #expect(failure("a.b\n").message == "expected '=' after key 'a.b'")
        #expect(failure("= 1").message == "expected a key, found '='")
        #expect(failure("a = ").message == "expected a value, found end of file")
        #expect(failure("a = # no value").message.hasPrefix("expected a value"))
        let junk = failure("a = 1\nb = \"x\" junk here\n")
        #expect(junk.message == "expected end of line after value, found 'junk'")
        #expect(junk.line == 2)
        #expect(junk.column == 9)
        #expect(failure("a = 1 2").column == 7)
        #expect(failure("[a] b = 1").message == "expected end of line after table header, found 'b'")
        #expect(failure("[a").message == "expected ']' to close table header, found end of file")
        #expect(failure("[[a]").message.hasPrefix("expected ']]'"))
        #expect(failure("[]").message == "expected a key, found ']'")
        #expect(failure("[a.]").message == "expected a key, found ']'")
        #expect(failure("a = hello").message == "invalid value 'hello' (strings must be quoted)")
        #expect(failure("a = [1 2]").message == "expected ',' or ']' in array, found '2'")
        #expect(failure("a = [1,,2]").message == "expected a value, found ','")
        #expect(failure("a = [1, 2").message == "unterminated array")
        #expect(failure("\"\"\"key\"\"\" = 1").message.contains("multi-line"))
    }

    @Test func stringErrors() {
        let escape = failure("a = 1\nb = \"bad \\q escape\"")
        #expect(escape.message == "invalid escape '\\q'")
        #expect(escape.line == 2)
        #expect(escape.column == 10)
        #expect(failure(#"a = "\x41""#).message == "invalid escape '\\x'")
        #expect(failure(#"a = "\u12G4""#).message.hasPrefix("invalid unicode escape"))
        #expect(failure(#"a = "\uD800""#).message.contains("not a Unicode scalar"))
        #expect(failure(#"a = "\U00110000""#).message.contains("not a Unicode scalar"))
        #expect(failure("a = \"\"\"\\ x\"\"\"").message == "invalid escape: '\\' followed by U+0020")
        #expect(failure("a = \"a\rb\"").message == "control character U+000D in string")

        let unterminated = failure("a = 1\nb = \"abc")
        #expect(unterminated.message == "unterminated string")
        #expect(unterminated.line == 2)
        #expect(unterminated.column == 5)
        let newline = failure("a = \"abc\nb = 1\"")
        #expect(newline.message.hasPrefix("unterminated string"))
        #expect(newline.message.contains("newline"))
        #expect(newline.line == 1)
        #expect(failure("a = 'abc\n'").message.contains("newline"))
        let multi = failure("x = 1\na = \"\"\"abc\n\ndef")
        #expect(multi.message == "unterminated multi-line string")
        #expect(multi.line == 2)
        #expect(failure("a = '''abc''").message == "unterminated multi-line string")
        #expect(failure("a = \"a\u{01}b\"").message == "control character U+0001 in string")
        #expect(failure("a = 1 # bell \u{07}").message == "control character U+0007 in comment")
        #expect(failure("a = \"\"\"abc\"\"\"\"\"\"").message.contains("too many quotes"))
    }

    @Test func numberErrors() {
        let leading = failure("a = 1\nb = 0123")
        #expect(leading.message == "invalid number '0123': leading zeros are not allowed")
        #expect(leading.line == 2)
        #expect(leading.column == 5)
        #expect(failure("a = -01").message.contains("leading zeros"))
        #expect(failure("a = 00.5").message.contains("leading zeros"))
        #expect(failure("a = 1__0").message == "invalid number '1__0': underscores must be between digits")
        #expect(failure("a = _1").message.hasPrefix("invalid value"))
        #expect(failure("a = 1_").message.contains("underscores"))
        #expect(failure("a = 1_.5").message.contains("underscores"))
        #expect(failure("a = 1._5").message.contains("underscores"))
        #expect(failure("a = 1e_5").message.contains("underscores"))
        #expect(failure("a = 1.").message.hasPrefix("invalid number '1.'"))
        #expect(failure("a = .5").message.hasPrefix("invalid value '.5'"))
        #expect(failure("a = 1.5.3").message.hasPrefix("invalid number"))
        #expect(failure("a = 1e").message.hasPrefix("invalid number"))
        #expect(failure("a = 0X1F").message.hasPrefix("invalid number"))
        #expect(failure("a = +0x1F").message.contains("sign"))
        #expect(failure("a = 0x").message.hasPrefix("invalid number"))
        #expect(failure("a = 0b102").message.hasPrefix("invalid number"))
        #expect(failure("a = 0o8").message.hasPrefix("invalid number"))
        #expect(failure("a = 9223372036854775808").message.contains("out of range"))
        #expect(failure("a = 0x8000000000000000").message.contains("out of range"))
        #expect(failure("a = 0xFFFFFFFFFFFFFFFFFF").message.contains("out of range"))
        #expect(failure("a = 1_000_").message.contains("underscores"))
        #expect(failure("a = infinity").message.hasPrefix("invalid value"))
    }

    @Test func errorDescriptions() {
        let withFile = failure("name = \"x\"\n\nport 8000", file: "service.toml")
        #expect(withFile.file == "service.toml")
        #expect(withFile.description == "service.toml:3:6: expected '=' after key 'port'")
        let withoutFile = failure("name = \"x\"\n\nport 8000")
        #expect(withoutFile.file == nil)
        #expect(withoutFile.description == "line 3, column 6: expected '=' after key 'port'")
        // Columns count characters, not bytes.
        #expect(failure("\"ñandú\" = 1 x").column == 13)
    }

    @Test func everyPrefixParsesOrFailsCleanly() {
        // Truncating a document anywhere must produce either a table or an error, never a crash or hang.
        let text = #"""
            s = """multi \
              line"""
            l = '''raw'''
            d = 1979-05-27 07:32:00.5+01:00
            n = [0x1F, 0o7, 0b1, 1_000, -2.5e-3, inf, 'é', "\u00e9\n"]

            """# + Self.serviceExample
        let scalars = Array(text.unicodeScalars)
        var failures = 0
        for length in 0...scalars.count {
            var prefix = ""
            prefix.unicodeScalars.append(contentsOf: scalars[0..<length])
            do {
                _ = try TOMLParser.parse(prefix)
            } catch {
                failures += 1
                #expect(error.line >= 1 && error.column >= 1)
            }
        }
        #expect(failures > 0)
        #expect(parse(text)["n"]?.value.arrayValue?.count == 8)
        #expect(parse(text)["s"]?.value == .string("multi line"))
    }

    @Test func longLinesStayFast() {
        let items = (0..<20_000).map(String.init).joined(separator: ", ")
        let root = parse("a = [\(items)]")
        #expect(root["a"]?.value.arrayValue?.count == 20_000)
        #expect(root["a"]?[19_999]?.value == .integer(19_999))
    }

    // MARK: Values API

    @Test func typeNames() {
        let root = parse("""
            s = "x"
            i = 1
            f = 1.5
            b = true
            d = 2024-01-01
            a = []
            t = {}
            """)
        #expect(root.entries.map(\.node.value.typeName) == ["string", "integer", "float", "boolean", "datetime", "array", "table"])
    }

    @Test func tablesAreHashableAndComparable() throws {
        let a = parse("x = 1\ny = [1, 2]")
        let b = parse("x = 1\ny = [1, 2]")
        let reordered = parse("y = [1, 2]\nx = 1")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != reordered)
        #expect(Set([a, b]).count == 1)
        var table = TOMLTable()
        #expect(table.keys.isEmpty)
        table.entries.append((key: "k", node: TOMLNode(value: .boolean(true), line: 1, column: 1)))
        #expect(table["k"]?.value == .boolean(true))
        #expect(table["missing"] == nil)
    }

    // MARK: Examples from the TOML 1.0 specification

    @Test func specExampleDocument() throws {
        let root = parse("""
            # This is a TOML document

            title = "TOML Example"

            [owner]
            name = "Tom Preston-Werner"
            dob = 1979-05-27T07:32:00-08:00

            [database]
            enabled = true
            ports = [ 8000, 8001, 8002 ]
            data = [ ["delta", "phi"], [3.14] ]
            temp_targets = { cpu = 79.5, case = 72.0 }

            [servers]

            [servers.alpha]
            ip = "10.0.0.1"
            role = "frontend"

            [servers.beta]
            ip = "10.0.0.2"
            role = "backend"
            """)
        #expect(root.keys == ["title", "owner", "database", "servers"])
        #expect(root["owner"]?["dob"]?.value == .datetime("1979-05-27T07:32:00-08:00"))
        #expect(root["database"]?["data"]?[1]?[0]?.value == .float(3.14))
        #expect(root["database"]?["temp_targets"]?["case"]?.value == .float(72))
        #expect(root["servers"]?.value.tableValue?.keys == ["alpha", "beta"])
        #expect(root["servers"]?["beta"]?["role"]?.value == .string("backend"))
        #expect(root["servers"]?["beta"]?["role"]?.line == 23)
    }

    @Test func specTableExamples() {
        // Out-of-order tables are valid.
        let root = parse("""
            [fruit.apple]
            [animal]
            [fruit.orange]
            """)
        #expect(root.keys == ["fruit", "animal"])
        #expect(root["fruit"]?.value.tableValue?.keys == ["apple", "orange"])
        // Top-level keys before the first header belong to the root table.
        let root2 = parse("""
            name = "Fido"
            breed = "pug"

            [owner]
            name = "Regina Dogman"
            member_since = 1999-08-04
            """)
        #expect(root2["name"]?.value == .string("Fido"))
        #expect(root2["owner"]?["member_since"]?.value == .datetime("1999-08-04"))
        // Dotted keys define tables.
        let root3 = parse("""
            fruit.apple.color = "red"
            fruit.apple.taste.sweet = true
            """)
        #expect(root3["fruit"]?["apple"]?["taste"]?["sweet"]?.value == .boolean(true))
    }

    @Test func specInvalidExamples() {
        // Defining a key twice via a table and a dotted key.
        #expect(failure("""
            [fruit]
            apple = "red"

            [fruit.apple]
            texture = "smooth"
            """).line == 4)
        // An array of tables cannot be appended to after a static definition.
        #expect(failure("""
            fruits = []

            [[fruits]] # Not allowed
            """).line == 3)
        // A table and an array of tables with the same name.
        let mixed = failure("""
            [[fruits]]
            name = "apple"

            [[fruits.varieties]]
            name = "red delicious"

            # INVALID: This table conflicts with the previous array of tables
            [fruits.varieties]
            name = "granny smith"

            [fruits.physical]
            color = "red"
            shape = "round"

            # INVALID: This array of tables conflicts with the previous table
            [[fruits.physical]]
            color = "green"
            """)
        #expect(mixed.line == 8)
        #expect(mixed.message == "table 'fruits.varieties' is already defined as an array of tables")
        // Inline tables are self-contained.
        #expect(failure("""
            [product]
            type = { name = "Nail" }
            type.edible = false  # INVALID
            """).line == 3)
        #expect(failure("""
            [product]
            type.name = "Nail"
            type = { edible = false }  # INVALID
            """).message == "duplicate key 'type'")
        // Bare keys must be non-empty; a key must have a value on the same line.
        #expect(failure("key = # INVALID").line == 1)
        #expect(failure("first = \"Tom\" last = \"Preston-Werner\" # INVALID").message.hasPrefix("expected end of line"))
    }
}
