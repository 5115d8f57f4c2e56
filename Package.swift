// swift-tools-version:6.1
import PackageDescription

/// Settings shared by every Swift target, in the spirit of hummingbird's.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The per-message modules are confined to one thread per object (event loop or producer thread), so
/// the runtime's dynamic exclusivity checks on class properties buy nothing there; in a perf profile at
/// full load they cost about 8 % of CPU samples (swift_beginAccess, AccessSet::insert, __tls_get_addr).
/// Compile-time exclusivity checking stays on.
let hotPathSwiftSettings: [SwiftSetting] =
    swiftSettings + [
        .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
    ]

/// Tests import what they use through their dependencies; only `ExistentialAny` applies to them.
let testSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "kafka-chat-producer",
    products: [
        .executable(name: "kafka-chat-producer", targets: ["kafka-chat-producer"]),
        .library(name: "Daemon", targets: ["Daemon"]),
        .library(name: "Kafka", targets: ["Kafka"]),
        .library(name: "ChatContract", targets: ["ChatContract"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "WebSocketProtocol", targets: ["WebSocketProtocol"]),
        .library(name: "Gateway", targets: ["Gateway"]),
        .library(name: "Monitoring", targets: ["Monitoring"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // C shims, found by pkg-config (Debian: librdkafka-dev, libsystemd-dev).
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // eventfd, pthread_setname_np and mallopt, which Glibc's overlay does not export.
        .systemLibrary(name: "CLinux"),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),

        // frame: RFC 6455 parsing and writing, independent of HTTP and Kafka.
        .target(
            name: "WebSocketProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: hotPathSwiftSettings
        ),
        // Kafka: the only module that calls librdkafka.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPathSwiftSettings
        ),
        // The chat message contract: single-pass JSON check, canonical record bytes, topic names. Depends on
        // nothing (no NIO, no Kafka), so the message fuzz target links only this.
        .target(
            name: "ChatContract",
            swiftSettings: hotPathSwiftSettings
        ),
        // ring → batch: the topic rings, the producer thread and delivery routing; owns the interface the
        // gateway writes to (`MessageIngest`).
        .target(
            name: "Ingest",
            dependencies: [
                "ChatContract",
                "Kafka",
                "CLinux",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPathSwiftSettings
        ),
        // What the daemon reports about itself: /metrics (swift-prometheus), /ready, librdkafka statistics.
        .target(
            name: "Monitoring",
            dependencies: [
                "Ingest",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // Handshake access control: bearer tokens (static, JWT via jwt-kit), Origin allowlist, trusted proxies.
        .target(
            name: "Access",
            dependencies: [
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The AsyncAPI document, the /docs page and the JavaScript client it uses, compiled into the binary.
        .target(
            name: "APIDocs",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            // kafka-chat-producer-client.js is a symlink to clients/javascript/: one copy of the JS client.
            resources: [
                .embedInCode("Resources/asyncapi.json"), .embedInCode("Resources/docs.html"),
                .embedInCode("Resources/kafka-chat-producer-client.js"),
            ],
            swiftSettings: swiftSettings
        ),
        // socket: HTTP routing, WebSocket upgrade, connections, /health, /ready, /metrics, /docs.
        .target(
            name: "Gateway",
            dependencies: [
                "Access",
                "APIDocs",
                "ChatContract",
                "Ingest",
                "Monitoring",
                "WebSocketProtocol",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: hotPathSwiftSettings
        ),
        // Configuration and the wiring of all services with ordered shutdown.
        .target(
            name: "Daemon",
            dependencies: [
                "Access",
                "ChatContract",
                "Gateway",
                "Monitoring",
                "Ingest",
                "Kafka",
                "CSystemd",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "kafka-chat-producer",
            dependencies: [
                "Daemon",
                "Monitoring",
                "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Helpers shared by the test targets (deterministic randomness, client frame building).
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: testSwiftSettings),
        .testTarget(
            name: "WebSocketProtocolTests",
            dependencies: ["WebSocketProtocol", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "ChatContractTests",
            dependencies: ["ChatContract", "TestSupport"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Ingest", "ChatContract", "Kafka", "TestSupport", .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "MonitoringTests",
            dependencies: ["Monitoring", "Ingest"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "AccessTests",
            dependencies: [
                "Access",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "ChatContract", "Ingest", "Kafka", "Monitoring", "WebSocketProtocol", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Daemon", "ChatContract", "Gateway", "Ingest", "Kafka", "Monitoring", "CRdKafka", "TestSupport",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: testSwiftSettings
        ),
    ]
)
