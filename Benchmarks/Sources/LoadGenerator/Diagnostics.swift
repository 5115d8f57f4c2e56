#if canImport(Glibc)
import Glibc
#endif

/// Messages for the person running the benchmark; always stderr, because stdout may carry `--json`.
/// Written with write(2) on the descriptors: unbuffered, and no shared C `FILE *` globals.
enum Diagnostics {
    static func warn(_ message: String) {
        Self.write("load-generator: \(message)\n", to: STDERR_FILENO)
    }

    static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
