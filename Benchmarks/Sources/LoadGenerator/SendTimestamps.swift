/// Send (or intended send) times of the messages awaiting their ack, in a power-of-two ring indexed by
/// the message's 1-based id, so an ack finds its timestamp with one load and nothing is allocated per
/// message. Acks come out of order; an acked slot is zeroed and `lowest` (the oldest id still waiting)
/// only moves past zeroed slots. The ring's size is the sender's window: with no free slot it stops
/// writing until acks return (the daemon itself caps acks in flight per connection).
struct SendTimestamps {
    private var slots: [UInt64]
    private let mask: Int
    /// Oldest id not yet acked.
    private(set) var lowest = 1
    /// Next id to be sent.
    private(set) var next = 1

    init(capacity: Int) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "capacity must be a power of two")
        self.slots = [UInt64](repeating: 0, count: capacity)
        self.mask = capacity - 1
    }

    var free: Int { self.slots.count - (self.next - self.lowest) }

    /// Records the next message's time (never 0: monotonic nanoseconds are far from it).
    @inline(__always)
    mutating func append(_ time: UInt64) {
        self.slots[self.next & self.mask] = time
        self.next += 1
    }

    /// Records the times of the next `count` messages (≤ `free`) in one access: `time(i)` for the i-th.
    @inline(__always)
    mutating func append(count: Int, time: (Int) -> UInt64) {
        let mask = self.mask
        var id = self.next
        self.slots.withUnsafeMutableBufferPointer { slots in
            for offset in 0..<count {
                slots[id & mask] = time(offset)
                id += 1
            }
        }
        self.next = id
    }

    /// The time stored for `id`, once; nil for an unknown or already acked id.
    @inline(__always)
    mutating func take(_ id: Int) -> UInt64? {
        guard id >= self.lowest, id < self.next else { return nil }
        let time = self.slots[id & self.mask]
        guard time != 0 else { return nil }
        self.slots[id & self.mask] = 0
        while self.lowest < self.next, self.slots[self.lowest & self.mask] == 0 {
            self.lowest += 1
        }
        return time
    }
}
