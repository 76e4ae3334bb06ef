package vn.medseal;

/** JWS serializations ({@code medseal_jws_format}). */
public enum JwsFormat {
    /** {@code {"payload","protected","signature"}}: the default. */
    FLATTENED(1),
    /** {@code header.payload.signature}. */
    COMPACT(2),
    /** {@code header..signature} (FHIR {@code Signature.data}). */
    DETACHED_COMPACT(3),
    /** {@code {"protected","signature"}}. */
    DETACHED_FLATTENED(4);

    final int code;

    JwsFormat(int code) {
        this.code = code;
    }
}
