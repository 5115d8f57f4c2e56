/// The kind of a JSON value, as far as the contract cares: field rules are about kinds, and
/// rejection messages name the kind the client sent.
enum JSONValueKind: Sendable {
    case string, number, boolean, null, object, array

    /// The kind with its article, for messages such as `must be a string, got a number`.
    var phrase: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .boolean: "a boolean"
        case .null: "null"
        case .object: "an object"
        case .array: "an array"
        }
    }
}
