// swift-tools-version:6.1
import PackageDescription

/// libFuzzer targets for the code that reads what clients send: WebSocket frames, chat messages and chat
/// names. A package of its own, like Benchmarks/, so the daemon's `swift build` never needs
/// `-sanitize=fuzzer`. Build and run them with `scripts/fuzz` (see it for the flags): every target exports
/// `LLVMFuzzerTestOneInput`, and its main.swift hands it to libFuzzer's driver (SwiftPM reserves `main`
/// for the executable's own module, so libFuzzer's `main` cannot be used).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "kafka-chat-producer-fuzz",
    dependencies: [
        .package(name: "kafka-chat-producer", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // The declaration of libFuzzer's driver, `LLVMFuzzerRunDriver`.
        .target(name: "CLibFuzzer"),
        // Oracles written independently of Sources/: a plain recursive JSON parser, the message contract
        // restated over its output, and the checks every target applies to a validated message.
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "ChatContract", package: "kafka-chat-producer")],
            swiftSettings: swiftSettings
        ),
        // bytes → WebSocketFrameReader (split at fuzzer-chosen points, with backpressure) → validator → record.
        .executableTarget(
            name: "fuzz-frames",
            dependencies: [
                "CLibFuzzer",
                "FuzzSupport",
                .product(name: "WebSocketProtocol", package: "kafka-chat-producer"),
                .product(name: "ChatContract", package: "kafka-chat-producer"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // ChatMessageValidator alone: plain and masked with several keys, against the reference contract.
        .executableTarget(
            name: "fuzz-message",
            dependencies: [
                "CLibFuzzer",
                "FuzzSupport",
                .product(name: "ChatContract", package: "kafka-chat-producer"),
            ],
            swiftSettings: swiftSettings
        ),
        // Request URI → HandshakeClassifier (percent-decoding, TopicName.forChat, ?ack=). The classifier is
        // internal to Gateway, so this target uses `@testable import Gateway`: scripts/fuzz builds with
        // -enable-testing.
        .executableTarget(
            name: "fuzz-chat-name",
            dependencies: [
                "CLibFuzzer",
                "FuzzSupport",
                .product(name: "Gateway", package: "kafka-chat-producer"),
                .product(name: "ChatContract", package: "kafka-chat-producer"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
