/// Builds client-to-server frames as a browser would (masked), with knobs to break each rule on purpose.
public enum ClientFrameEncoder {
    /// How the payload length is written.
    public enum LengthForm: Sendable {
        case minimal
        case extended16
        case extended64
    }

    public static let defaultMask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    /// The mask bytes in the module's convention: wire order loaded little-endian.
    public static func maskKey(_ mask: [UInt8]) -> UInt32 {
        mask.enumerated().reduce(0) { $0 | UInt32($1.element) << (UInt32($1.offset) * 8) }
    }

    public static func frame(
        opcode: UInt8,
        _ payload: [UInt8],
        fin: Bool = true,
        rsv: UInt8 = 0,
        mask: [UInt8]? = defaultMask,
        lengthForm: LengthForm = .minimal,
        declaredLength: UInt64? = nil
    ) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        let length = declaredLength ?? UInt64(payload.count)
        var form = lengthForm
        if form == .minimal {
            form = length < 126 ? .minimal : (length <= 0xFFFF ? .extended16 : .extended64)
        }
        switch form {
        case .minimal:
            out.append(maskBit | UInt8(length))
        case .extended16:
            out.append(maskBit | 126)
            out.append(UInt8(length >> 8))
            out.append(UInt8(length & 0xFF))
        case .extended64:
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8((length >> UInt64(shift)) & 0xFF))
            }
        }
        if let mask {
            out += mask
            out += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        } else {
            out += payload
        }
        return out
    }

    public static func text(_ string: String, fin: Bool = true, mask: [UInt8] = defaultMask) -> [UInt8] {
        frame(opcode: 0x1, Array(string.utf8), fin: fin, mask: mask)
    }

    public static func binary(_ bytes: [UInt8], fin: Bool = true) -> [UInt8] {
        frame(opcode: 0x2, bytes, fin: fin)
    }

    public static func continuation(_ bytes: [UInt8], fin: Bool) -> [UInt8] {
        frame(opcode: 0x0, bytes, fin: fin)
    }

    public static func ping(_ bytes: [UInt8]) -> [UInt8] {
        frame(opcode: 0x9, bytes)
    }

    public static func pong(_ bytes: [UInt8] = []) -> [UInt8] {
        frame(opcode: 0xA, bytes)
    }

    public static func close(code: UInt16?, reason: [UInt8] = []) -> [UInt8] {
        guard let code else { return frame(opcode: 0x8, reason) }
        return frame(opcode: 0x8, [UInt8(code >> 8), UInt8(code & 0xFF)] + reason)
    }
}
