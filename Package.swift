// swift-tools-version:6.2
import PackageDescription

// Upcoming features adopted as Hummingbird does: explicit `any`, and imports that are visible
// only where they are declared.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

#if arch(x86_64)
let hnswArchFlags = ["-mavx2", "-mfma"]
#else
let hnswArchFlags: [String] = []
#endif

let package = Package(
    name: "pxt",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Pixeltable", targets: ["Pixeltable"]),
        .library(name: "PixeltableServing", targets: ["PixeltableServing"]),
        .library(name: "PixeltableCLI", targets: ["PixeltableCLI"]),
        .executable(name: "pxt", targets: ["pxt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        // HMAC for signed media URLs; the version jwt-kit and postgres-nio already resolve.
        .package(url: "https://github.com/apple/swift-crypto.git", "4.1.0"..<"6.0.0"),
    ],
    targets: [
        // C helpers the Swift standard library does not reach (glibc's mallopt).
        .target(name: "CPxtShims"),
        // Image codecs: libjpeg-turbo, libpng and libwebp behind a fixed-argument C surface (their
        // setjmp/longjmp error handling must not cross Swift frames). The static build links
        // their static archives (`-static-executable` makes the linker pick the .a files).
        .target(
            name: "CPxtMedia",
            cSettings: [.unsafeFlags(["-Wall", "-Wextra", "-Wno-unused-parameter"])],
            linkerSettings: [
                .linkedLibrary("jpeg"), .linkedLibrary("png16"), .linkedLibrary("webp"), .linkedLibrary("m"),
                // libpng needs zlib after it on a static link line; a plain linkedLibrary("z") is
                // merged with other packages' earlier -lz and lands before -lpng16.
                .unsafeFlags(["-Xlinker", "-lz"]),
            ]
        ),
        // The sentence-embedding model's kernels: matrix products through OpenBLAS (libopenblas-dev,
        // its pthread build; the static link needs no Fortran runtime for sgemm) and the
        // element-wise parts.
        .target(
            name: "CPxtBLAS",
            // Optimized in every configuration: the tests run debug builds and embed text.
            cSettings: [.unsafeFlags(["-Wall", "-Wextra", "-O3"])],
            linkerSettings: [.linkedLibrary("openblas"), .linkedLibrary("pthread"), .linkedLibrary("m")]
        ),
        // Approximate nearest-neighbour search: hnswlib (libhnswlib-dev, header-only C++) behind
        // a C surface that catches every C++ exception. Optimized in every configuration; AVX2
        // on x86-64 (hnswlib picks its distance kernels at run time within what it was built for).
        .target(
            name: "CPxtHNSW",
            cxxSettings: [.unsafeFlags(["-O3", "-Wall", "-Wno-unused-function", "-Wno-sign-compare", "-Wno-unused-variable"] + hnswArchFlags)],
            linkerSettings: [.linkedLibrary("stdc++"), .linkedLibrary("pthread")]
        ),
        .target(
            name: "Pixeltable",
            dependencies: [
                "CPxtShims", "CPxtMedia", "CPxtBLAS", "CPxtHNSW", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PixeltableServing",
            dependencies: [
                "Pixeltable",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PixeltableCLI",
            dependencies: [
                "Pixeltable",
                "PixeltableServing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "pxt", dependencies: ["Pixeltable", "PixeltableCLI"], swiftSettings: swiftSettings),
        // Benchmark driver for the scripts in bench/ (and the hello-world ceiling server).
        .executableTarget(
            name: "pxt-bench",
            dependencies: [
                "Pixeltable", "PixeltableServing", "PixeltableTestSupport", "CPxtBLAS",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        // What several test targets share: generated test media.
        .target(name: "PixeltableTestSupport", dependencies: ["Pixeltable"], path: "Tests/PixeltableTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "PixeltableTests", dependencies: ["Pixeltable", "PixeltableTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PixeltableServingTests",
            dependencies: [
                "PixeltableServing", "PixeltableTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // Tokens and keys for the auth tests are made with the libraries that check them.
                .product(name: "JWTKit", package: "jwt-kit"), .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "PixeltableCLITests", dependencies: ["PixeltableCLI", "PixeltableTestSupport"], swiftSettings: swiftSettings),
    ]
)
