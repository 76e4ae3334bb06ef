package vn.medseal;

/** Encodings of a sealed envelope. Decoding reads both. */
public enum EnvelopeEncoding {
    /** The JSON mapping (canonical JSON, bytes as base64url). */
    JSON(1),
    /** Protobuf {@code medseal.v1.SealedRecord}: the default, what the hub receives. */
    PROTOBUF(2);

    final int code;

    EnvelopeEncoding(int code) {
        this.code = code;
    }
}
