import Testing
@testable import Pixeltable

@Suite struct ExpressionTests {
    let functions = FunctionRegistry()

    func scope(params: [String: ColumnType]? = nil) -> ExpressionScope {
        ExpressionScope(
            columns: [
                .init(id: 0, name: "a", type: .int, isComputed: false),
                .init(id: 1, name: "title", type: .string, isComputed: false),
                .init(id: 2, name: "meta", type: .json, isComputed: false),
                .init(id: 3, name: "x", type: .float, isComputed: false),
                .init(id: 4, name: "ts", type: .timestamp, isComputed: false),
            ], parameters: params, functions: functions)
    }

    func eval(_ text: String, _ values: [Value] = [7, "Hello World", .json(["k": [1, 2, ["z": "deep"]], "n": 3]), 2.5, .timestamp(Timestamp.parse("2024-05-17T10:20:30Z")!)], params: [String: Value] = [:]) throws -> Value {
        let syntax = try ExpressionParser.parse(text, allowAlias: false)
        let (typed, _) = try ExpressionBinder(scope: scope(params: params.mapValues { $0.inferredType }), source: text).bind(syntax)
        var ctx = RowContext(width: 5, parameters: params)
        for (i, v) in values.enumerated() { ctx.values[i] = v }
        return try ExpressionEvaluator().evaluate(typed, ctx)
    }

    func bindError(_ text: String) -> ExpressionError? {
        do {
            let syntax = try ExpressionParser.parse(text)
            _ = try ExpressionBinder(scope: scope(), source: text).bind(syntax)
            return nil
        } catch {
            return error
        }
    }

    @Test func tuplesAreListLiteralsAndParenthesesStillGroup() throws {
        #expect(try eval("(32, 32)") == .json([32, 32]))
        #expect(try eval("(a, a + 1,)") == .json([7, 8]))
        #expect(try eval("(1,)") == .json([1]))
        #expect(try eval("()") == .json([]))
        #expect(try eval("(a + 1) * 2") == 16)
        #expect(throws: ExpressionError.self) { try ExpressionParser.parse("(1, 2") }
        // A stored tuple prints back as a list and binds the same way.
        let syntax = try ExpressionParser.parse("title.upper() + string.format('{}', (1, 2))")
        #expect(SyntaxCoding.display(syntax) { "#\($0)" }.contains("[1, 2]"))
    }

    @Test func arithmeticFollowsPython() throws {
        #expect(try eval("a + 1") == .int(8))
        #expect(try eval("a / 2") == .float(3.5))
        #expect(try eval("a // 2") == .int(3))
        #expect(try eval("-a // 2") == .int(-4))
        #expect(try eval("-a % 3") == .int(2))
        #expect(try eval("a * x") == .float(17.5))
        #expect(try eval("2 + 3 * 4 - 1") == .int(13))
        #expect(try eval("(2 + 3) * 4") == .int(20))
        #expect(try eval("title + '!'") == .string("Hello World!"))
        #expect(throws: FunctionError.self) { try eval("a / 0") }
        do { _ = try eval("a // 0") } catch let e as FunctionError { #expect(e.type == "ZeroDivisionError") }
    }

    @Test func logicUsesThreeValuedNulls() throws {
        #expect(try eval("a > 3 and title == 'Hello World'") == .bool(true))
        #expect(try eval("a > 3 and null") == .null)
        #expect(try eval("a < 3 and null") == .bool(false))
        #expect(try eval("a > 3 or null") == .bool(true))
        #expect(try eval("not (a > 3)") == .bool(false))
        #expect(try eval("a == null") == .null)
        #expect(try eval("a is not null") == .bool(true))
        #expect(try eval("a in [1, 7]") == .bool(true))
        #expect(try eval("a not in [1, 7]") == .bool(false))
        #expect(try eval("a > 3", [.null]) == .null)
    }

    @Test func jsonAccess() throws {
        #expect(try eval("meta.n") == .json(3))
        #expect(try eval("meta['k'][2].z") == .json("deep"))
        #expect(try eval("meta.k[-1]['z']") == .json("deep"))
        #expect(try eval("meta.missing") == .null)
        #expect(try eval("meta.n + 1") == .int(4))
        #expect(try eval("meta.n > 2") == .bool(true))
    }

    @Test func stringFunctions() throws {
        #expect(try eval("title.upper()") == .string("HELLO WORLD"))
        #expect(try eval("string.lower(title)") == .string("hello world"))
        #expect(try eval("upper(title)") == .string("HELLO WORLD"))
        #expect(try eval("title.len()") == .int(11))
        #expect(try eval("title.contains('lo W')") == .bool(true))
        #expect(try eval("title.startswith('Hell')") == .bool(true))
        #expect(try eval("title.replace('o', '0')") == .string("Hell0 W0rld"))
        #expect(try eval("title.replace('o', '0', 1)") == .string("Hell0 World"))
        #expect(try eval("'  pad '.strip()") == .string("pad"))
        #expect(try eval("title.slice(0, 5)") == .string("Hello"))
        #expect(try eval("title.slice(-5)") == .string("World"))
        #expect(try eval("title.split()") == .json(["Hello", "World"]))
        #expect(try eval("'-'.join(title.split())") == .string("Hello-World"))
        #expect(try eval("'{} is {}'.format(title, a)") == .string("Hello World is 7"))
        #expect(try eval("title[0]") == .string("H"))
    }

    @Test func mathJsonCastsAndTime() throws {
        #expect(try eval("math.abs(-3)") == .int(3))
        #expect(try eval("x.round()") == .float(2))
        #expect(try eval("round(3.5)") == .float(4))
        #expect(try eval("math.floor(x)") == .float(2))
        #expect(try eval("math.sqrt(16)") == .float(4))
        #expect(try eval("math.pow(2, 10)") == .float(1024))
        #expect(try eval("math.max(a, 3, 9)") == .int(9))
        #expect(try eval("json.dumps(meta)") == .string(#"{"k": [1, 2, {"z": "deep"}], "n": 3}"#))
        #expect(try eval("json.loads('[1, 2]')") == .json([1, 2]))
        #expect(try eval("json.get(meta, 'k.2.z')") == .json("deep"))
        #expect(try eval("a.astype('String')") == .string("7"))
        #expect(try eval("cast.float(a)") == .float(7))
        #expect(try eval("cast.int('42')") == .int(42))
        #expect(try eval("ts.year()") == .int(2024))
        #expect(try eval("timestamp.hour(ts)") == .int(10))
        #expect(try eval("ts.strftime('%Y/%m/%d')") == .string("2024/05/17"))
        #expect(try eval("ts.weekday()") == .int(4))
        guard case .uuid = try eval("uuid.uuid4()") else { Issue.record("uuid4 is not a UUID"); return }
    }

    @Test func parametersBind() throws {
        #expect(try eval("a > :min", params: ["min": .int(5)]) == .bool(true))
        #expect(throws: ExpressionError.self) {
            let s = try ExpressionParser.parse(":p")
            _ = try ExpressionBinder(scope: scope(), source: ":p").bind(s)
        }
    }

    @Test func errorsPointAtTheProblem() throws {
        let e1 = try #require(bindError("titel.upper()"))
        #expect(e1.message.contains("unknown column 'titel'"))
        #expect(e1.message.contains("did you mean 'title'"))
        #expect(e1.column == 1)
        let e2 = try #require(bindError("a + title"))
        #expect(e2.message.contains("'+' does not apply to Int and String"))
        #expect(e2.column == 3)
        let e3 = try #require(bindError("title.upper(1)"))
        #expect(e3.message.contains("takes 1 argument"))
        let e4 = try #require(bindError("title.nosuch()"))
        #expect(e4.message.contains("unknown function 'nosuch'"))
        // A misspelt method or namespaced function is reported at its name, not its receiver.
        #expect(e4.column == 7)
        let e5 = try #require(bindError("string.lowr(title)"))
        #expect(e5.message.contains("unknown function 'string.lowr'"))
        #expect(e5.column == 8)
        let e6 = try #require(bindError("a + title.upper().uper()"))
        #expect(e6.column == 19)
        do {
            _ = try ExpressionParser.parse("a + (1")
            Issue.record("no error")
        } catch {
            #expect(error.message.contains("expected ')'"))
            #expect(error.column == 7)
        }
        #expect(throws: ExpressionError.self) { try ExpressionParser.parse("a = 1") }
        #expect(throws: ExpressionError.self) { try ExpressionParser.parse("'open") }
    }

    @Test func storedFormRoundTripsAndSurvivesRenames() throws {
        let text = "meta['k'][0] + a * 2 > 3 and title.upper().startswith('H') and a in [1, 2]"
        let (_, stored) = try ExpressionBinder(scope: scope(), source: text).bind(try ExpressionParser.parse(text))
        let json = SyntaxCoding.encode(stored)
        let back = try #require(SyntaxCoding.decode(try JSONParser.parse(JSONWriter.compact.string(json))))
        let names = [0: "renamed_a", 1: "title", 2: "meta", 3: "x", 4: "ts"]
        let shown = SyntaxCoding.display(back) { names[$0]! }
        #expect(shown == "meta['k'][0] + renamed_a * 2 > 3 and title.upper().startswith('H') and renamed_a in [1, 2]")
        // Re-binding the stored form by id works whatever the columns are called now.
        let (typed, _) = try ExpressionBinder(scope: scope(), source: shown).bind(back)
        var ctx = RowContext(width: 5)
        ctx.values = [1, "Hi", .json(["k": [5]]), 0, .null]
        #expect(try ExpressionEvaluator().evaluate(typed, ctx) == .bool(true))
    }

    @Test func registeredFunctionsAreCallable() throws {
        try functions.register(ExpressionFunction("my.double", [.init("x", .int)], returns: .int) { args in
            .int((args[0].intValue ?? 0) * 2)
        })
        #expect(try eval("my.double(a)") == .int(14))
        #expect(try eval("a.double()") == .int(14))
        #expect(throws: PixeltableError.self) {
            try functions.register(ExpressionFunction("nonamespace", [], returns: .int) { _ in .int(1) })
        }
    }
}
