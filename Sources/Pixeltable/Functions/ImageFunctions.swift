import Foundation

/// `image.*`: Pixeltable's image UDFs (`pixeltable.functions.image`), as methods and
/// properties of Image columns: `photo.thumbnail((64, 64))`, `photo.width`.
enum ImageFunctions {
    static let imageType = ColumnType(.image, nullable: false)

    static let all: [ExpressionFunction] = [
        property("width", returns: BuiltinFunctions.intType) { h in .int(Int64(h.width)) },
        property("height", returns: BuiltinFunctions.intType) { h in .int(Int64(h.height)) },
        property("mode", returns: BuiltinFunctions.stringType) { h in .string(h.mode.rawValue) },
        property("size", returns: ColumnType(.json, nullable: false)) { h in .json([.int(Int64(h.width)), .int(Int64(h.height))]) },
        ExpressionFunction(
            "image.resize", [.init("self", .kind(.image)), .init("size", .json), .init("resample", .int, default: .int(Int64(ResampleFilter.bicubic.rawValue)))],
            returnType: BuiltinFunctions.same(imageType)
        ) { a in
            let img = try pixels(a[0])
            let (w, h) = try pair(a[1], "size")
            guard w > 0, h > 0 else { throw FunctionError("ValueError", "height and width must be > 0") }
            return .image(ImageValue(Resampler.resize(img, width: w, height: h, filter: try filter(a[2]))))
        },
        ExpressionFunction(
            "image.thumbnail",
            [
                .init("self", .kind(.image)), .init("size", .json), .init("resample", .int, default: .int(Int64(ResampleFilter.lanczos.rawValue))),
                .init("reducing_gap", .float, default: .float(2.0)),
            ],
            returnType: BuiltinFunctions.same(imageType), propagatesNull: false
        ) { a in
            if a[0].isNull { return .null }
            return try thumbnail(image(a[0]), box: try pair(a[1], "size"), filter: try filter(a[2]), reducingGap: a[3].isNull ? nil : try BuiltinFunctions.double(a[3]))
        },
        ExpressionFunction("image.rotate", [.init("self", .kind(.image)), .init("angle", .number)], returnType: BuiltinFunctions.same(imageType)) { a in
            .image(ImageValue(try ImageTransforms.rotate(try pixels(a[0]), degrees: try BuiltinFunctions.double(a[1]))))
        },
        ExpressionFunction("image.crop", [.init("self", .kind(.image)), .init("box", .json)], returnType: BuiltinFunctions.same(imageType)) { a in
            let box = try ints(a[1], count: 4, "box")
            return .image(ImageValue(try ImageTransforms.crop(try pixels(a[0]), left: box[0], top: box[1], right: box[2], bottom: box[3])))
        },
        ExpressionFunction("image.convert", [.init("self", .kind(.image)), .init("mode", .string)], returnType: BuiltinFunctions.same(imageType)) { a in
            let name = BuiltinFunctions.str(a[1])
            guard let mode = ImageMode(name: name) else {
                throw FunctionError("ValueError", "conversion to mode '\(name)' is not supported (L, LA, RGB and RGBA are)")
            }
            return .image(ImageValue(ImageTransforms.convert(try pixels(a[0]), to: mode)))
        },
        ExpressionFunction("image.transpose", [.init("self", .kind(.image)), .init("method", .int)], returnType: BuiltinFunctions.same(imageType)) { a in
            .image(ImageValue(try ImageTransforms.transpose(try pixels(a[0]), Int(try BuiltinFunctions.int(a[1])))))
        },
        ExpressionFunction("image.getchannel", [.init("self", .kind(.image)), .init("channel", .int)], returnType: BuiltinFunctions.same(imageType)) { a in
            let img = try pixels(a[0])
            let c = Int(try BuiltinFunctions.int(a[1]))
            guard c >= 0, c < img.mode.channels else { throw FunctionError("ValueError", "bad band number \(c) for a \(img.mode.rawValue) image") }
            let n = img.width * img.height
            var out = [UInt8](repeating: 0, count: n)
            for i in 0..<n { out[i] = img.pixels[i * img.mode.channels + c] }
            return .image(ImageValue(img.derived(width: img.width, height: img.height, mode: .l, pixels: out)))
        },
        ExpressionFunction("image.reduce", [.init("self", .kind(.image)), .init("factor", .int)], returnType: BuiltinFunctions.same(imageType)) { a in
            let f = Int(try BuiltinFunctions.int(a[1]))
            guard f >= 1 else { throw FunctionError("ValueError", "factor must be at least 1") }
            return .image(ImageValue(Resampler.reduce(try pixels(a[0]), factorX: f, factorY: f)))
        },
        ExpressionFunction(
            "image.b64_encode", [.init("self", .kind(.image)), .init("image_format", .string, default: .string("png"))],
            returnType: BuiltinFunctions.same(BuiltinFunctions.stringType)
        ) { a in
            let name = BuiltinFunctions.str(a[1])
            guard let format = ImageFormat(name: name) else { throw FunctionError("KeyError", "'\(name.uppercased())'") }
            do {
                return .string(Data(try ImageCodec.encode(try pixels(a[0]), as: format)).base64EncodedString())
            } catch let e as ImageCodecError {
                throw e.functionError
            }
        },
        ExpressionFunction("image.getpixel", [.init("self", .kind(.image)), .init("xy", .json)], returnType: { _ in BuiltinFunctions.jsonType }) { a in
            let (x, y) = try pair(a[1], "xy")
            return .json(try ImageTransforms.pixel(try pixels(a[0]), x: x, y: y))
        },
        ExpressionFunction("image.histogram", [.init("self", .kind(.image))], returnType: BuiltinFunctions.same(ColumnType(.json, nullable: false))) { a in
            .json(.array(ImageTransforms.histogram(try pixels(a[0])).map { .int(Int64($0)) }))
        },
        ExpressionFunction("image.get_metadata", [.init("self", .kind(.image))], returnType: BuiltinFunctions.same(ColumnType(.json, nullable: false))) { a in
            let h = try header(a[0])
            let path = try image(a[0]).path
            return .json([
                "width": .int(Int64(h.width)), "height": .int(Int64(h.height)), "mode": .string(h.mode.rawValue), "bits": .int(8),
                "format": path == nil ? .null : .string(h.format.rawValue),
            ])
        },
    ]

    /// A property of the image that only needs its header.
    static func property(_ name: String, returns t: ColumnType, _ get: @escaping @Sendable (ImageHeader) -> Value) -> ExpressionFunction {
        ExpressionFunction("image.\(name)", [.init("self", .kind(.image))], returnType: BuiltinFunctions.same(t), property: true) { a in
            get(try header(a[0]))
        }
    }

    // MARK: arguments

    static func image(_ v: Value) throws(FunctionError) -> ImageValue {
        guard case .image(let i) = v else { throw FunctionError("TypeError", "expected an Image, got \(v.kindDescription)") }
        return i
    }

    static func header(_ v: Value) throws(FunctionError) -> ImageHeader {
        let i = try image(v)
        do { return try i.header() } catch { throw error.functionError }
    }

    static func pixels(_ v: Value) throws(FunctionError) -> PixelImage {
        let i = try image(v)
        do { return try i.pixels() } catch { throw error.functionError }
    }

    /// Integers from a tuple or list argument: `(32, 32)`, `[0, 0, 10, 10]`.
    static func ints(_ v: Value, count: Int, _ name: String) throws(FunctionError) -> [Int] {
        var items: [JSONValue] = []
        switch v {
        case .json(.array(let a)): items = a
        case .array(let a): if case .array(let j) = a.json { items = j }
        default: break
        }
        guard items.count == count else {
            throw FunctionError("TypeError", "'\(name)' must be a tuple of \(count) integers, such as (\(Array(repeating: "0", count: count).joined(separator: ", "))); got \(v.displayString)")
        }
        var out: [Int] = []
        for j in items {
            switch j {
            case .int(let i): out.append(Int(i))
            case .double(let d) where d.rounded() == d && abs(d) < 1e9: out.append(Int(d))
            default: throw FunctionError("TypeError", "'\(name)' must hold integers, not \(j.kindName)")
            }
        }
        return out
    }

    static func pair(_ v: Value, _ name: String) throws(FunctionError) -> (Int, Int) {
        let p = try ints(v, count: 2, name)
        return (p[0], p[1])
    }

    static func filter(_ v: Value) throws(FunctionError) -> ResampleFilter {
        guard case .int(let i) = v else { throw FunctionError("TypeError", "resample must be an integer filter number, not \(v.kindDescription)") }
        let n = Int(i)
        guard let f = ResampleFilter(rawValue: n) else { throw FunctionError("ValueError", "Unknown resampling filter (\(n))") }
        return f
    }

    /// Pillow's `thumbnail`: the largest size within `box` that keeps the aspect ratio, made in
    /// two steps when `reducingGap` is set. A JPEG is first decoded in the DCT domain at the
    /// smallest scale (1/2, 1/4, 1/8) that still covers the thumbnail, as libvips' shrink-on-load
    /// does — Pillow's `draft` keeps twice the requested box instead, which for a 12-megapixel
    /// photo means decoding at 1/4 rather than 1/8, a fifth more time for a difference no
    /// thumbnail shows — then reduced by whole factors while at least `reducingGap` times the
    /// target is left, and resampled with `filter`.
    static func thumbnail(_ source: ImageValue, box: (Int, Int), filter: ResampleFilter, reducingGap: Double?) throws(FunctionError) -> Value {
        guard box.0 > 0, box.1 > 0 else { throw FunctionError("ValueError", "thumbnail size must be positive, got \(box)") }
        do {
            let h = try source.header()
            guard let size = ImageTransforms.thumbnailSize(width: h.width, height: h.height, box: box) else {
                return .image(ImageValue(try source.pixels()))
            }
            var drafted: (PixelImage, box: (Double, Double, Double, Double))
            if reducingGap != nil {
                drafted = try source.draft(minimum: size)
            } else {
                let img = try source.pixels()
                drafted = (img, (0, 0, Double(img.width), Double(img.height)))
            }
            let out = ImageTransforms.resizeReducing(drafted.0, width: size.0, height: size.1, filter: filter, box: drafted.box, reducingGap: reducingGap)
            return .image(ImageValue(out))
        } catch {
            throw error.functionError
        }
    }
}
