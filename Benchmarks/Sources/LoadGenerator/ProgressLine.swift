#if canImport(Glibc)
import Glibc
#endif

/// The live status line: rewritten in place on stderr every 500 ms, and only when stderr is a terminal,
/// so logs, pipes and `--json` on stdout never see it.
struct ProgressLine {
    static let interval: UInt64 = 500_000_000

    let enabled = isatty(STDERR_FILENO) == 1
    private let start: UInt64
    private var lastPrint: UInt64
    private var lastSent = 0
    private var printed = false

    init(start: UInt64) {
        self.start = start
        self.lastPrint = start
    }

    /// True when a new line is due (callers can skip computing a p99 otherwise).
    func isDue(now: UInt64) -> Bool {
        self.enabled && now > self.lastPrint && now - self.lastPrint >= Self.interval
    }

    /// `acked` and `p99Micros` are nil when acks are not measured.
    mutating func print(now: UInt64, sent: Int, acked: Int?, failed: Int, p99Micros: UInt64?) {
        guard self.isDue(now: now) else { return }
        let seconds = MonotonicClock.seconds(from: self.lastPrint, to: now)
        let sendRate = seconds > 0 ? Double(sent - self.lastSent) / seconds : 0
        var line = "\r\u{1B}[2K" + Self.fixed(MonotonicClock.seconds(from: self.start, to: now), 1) + " s"
        line += "  sent \(Self.count(Double(sent))) (\(Self.count(sendRate))/s)"
        if let acked {
            line += "  acked \(Self.count(Double(acked)))"
            line += "  in flight \(Self.count(Double(max(0, sent - acked - failed))))"
        }
        if failed > 0 { line += "  failed \(failed)" }
        if let p99Micros { line += "  p99 " + Self.fixed(Double(p99Micros) / 1000, 2) + " ms" }
        Diagnostics.write(line, to: STDERR_FILENO)
        self.printed = true
        self.lastPrint = now
        self.lastSent = sent
    }

    /// Ends the line so the report starts on a fresh one.
    mutating func finish() {
        if self.printed {
            Diagnostics.write("\n", to: STDERR_FILENO)
            self.printed = false
        }
    }

    static func count(_ value: Double) -> String {
        switch value {
        case 1e6...: return Self.fixed(value / 1e6, 2) + "M"
        case 1e4...: return Self.fixed(value / 1e3, 0) + "k"
        default: return Self.fixed(value, 0)
        }
    }

    /// `value` with `decimals` digits after the point, without Foundation's String(format:).
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int64(scaled / scale)
        let fraction = Int64(scaled - Double(whole) * scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
        if decimals > 0 {
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: max(0, decimals - digits.count)) + digits
        }
        return text
    }
}
