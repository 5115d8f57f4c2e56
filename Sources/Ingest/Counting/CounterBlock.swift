import Atomics

/// A few counters with one writer thread, alone on their own cache lines.
///
/// Counters that several threads bump per message (`lock xadd` on one shared line) bounce that line
/// between the cores on every message; so do separate counters that merely sit on the same line.
/// Each event loop and the producer thread therefore get a block of their own, aligned to 64 bytes and
/// padded to whole lines, which its owner bumps with a relaxed load and store (plain moves on x86)
/// and anyone may read.
public final class CounterBlock: @unchecked Sendable {
    // @unchecked Sendable: the raw storage is allocated once in init and freed in deinit; each slot has one
    // writer (the block's owner thread) and is read with atomic loads.
    private static let lineBytes = 64
    private let storage: UnsafeMutableRawPointer
    private let slots: UnsafeMutablePointer<Int.AtomicRepresentation>
    public let count: Int

    public init(count: Int) {
        precondition(count > 0)
        let bytes = (count * MemoryLayout<Int>.stride + Self.lineBytes - 1) / Self.lineBytes * Self.lineBytes
        self.storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.lineBytes)
        self.slots = self.storage.bindMemory(to: Int.AtomicRepresentation.self, capacity: count)
        self.slots.initialize(repeating: Int.AtomicRepresentation(0), count: count)
        self.count = count
    }

    deinit {
        self.slots.deinitialize(count: self.count)
        self.storage.deallocate()
    }

    /// Adds `value` to slot `index`. Only the block's owner thread may call this.
    @inline(__always)
    public func bump(_ index: Int, by value: Int = 1) {
        let atomic = UnsafeAtomic<Int>(at: self.slots + index)
        atomic.store(atomic.load(ordering: .relaxed) &+ value, ordering: .relaxed)
    }

    /// Reads slot `index`, from any thread.
    public func load(_ index: Int) -> Int {
        UnsafeAtomic<Int>(at: self.slots + index).load(ordering: .relaxed)
    }
}
