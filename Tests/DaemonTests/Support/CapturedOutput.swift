import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child's stdout and stderr, captured in a file, and the `JOURNAL_STREAM` value (`device:inode`) that
/// names it, the way systemd names the journald socket it connects a service's output to.
final class CapturedOutput: @unchecked Sendable {
    let path = NSTemporaryDirectory() + "kcp-output-\(UUID().uuidString.prefix(8)).log"
    let handle: FileHandle
    let journalStream: String

    init() throws {
        let fd = open(self.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw TestWebSocketClient.ClientError.connectFailed(errno) }
        var status = stat()
        fstat(fd, &status)
        self.journalStream = "\(UInt64(status.st_dev)):\(UInt64(status.st_ino))"
        self.handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    deinit { unlink(self.path) }

    var text: String { (try? String(contentsOfFile: self.path, encoding: .utf8)) ?? "" }
    var lines: [String] { self.text.split(separator: "\n").map(String.init) }
}
