package vn.medseal;

/**
 * A medseal error: the library's stable result code ({@link #getCode()}), its constant's name
 * ({@link #getName()}, e.g. {@code MEDSEAL_JWS_SIGNATURE_INVALID}, from the library's
 * {@code medseal_result_name}) and the library's message. One subclass per block of codes:
 * {@link GeneralException} (1-99), {@link JsonException} (100s), {@link KeyException} (200s),
 * {@link JwsException} (300s), {@link SealException} (400s), {@link TrustException} (500s),
 * {@link SignerException} (600s), {@link OutboxException} (700s), {@link TransportException} (800s),
 * {@link LedgerException} (900s).
 */
public class MedsealException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String name;
    private final String detail;

    public MedsealException(int code, String name, String message) {
        this(code, name, message, null);
    }

    public MedsealException(int code, String name, String message, Throwable cause) {
        super(name + " (" + code + "): " + message, cause);
        this.code = code;
        this.name = name;
        this.detail = message;
    }

    /** The result code, e.g. 307. */
    public int getCode() {
        return code;
    }

    /** The result code's name, e.g. {@code MEDSEAL_JWS_SIGNATURE_INVALID}. */
    public String getName() {
        return name;
    }

    /** The library's message alone (without name and code). */
    public String getDetail() {
        return detail;
    }

    /** The exception for {@code code}: an instance of the subclass of its block. */
    public static MedsealException of(int code, String message) {
        return of(code, message, null);
    }

    static MedsealException of(int code, String message, Throwable cause) {
        String name = ResultCodes.name(code);
        switch (code / 100) {
            case 0: return new GeneralException(code, name, message, cause);
            case 1: return new JsonException(code, name, message, cause);
            case 2: return new KeyException(code, name, message, cause);
            case 3: return new JwsException(code, name, message, cause);
            case 4: return new SealException(code, name, message, cause);
            case 5: return new TrustException(code, name, message, cause);
            case 6: return new SignerException(code, name, message, cause);
            case 7: return new OutboxException(code, name, message, cause);
            case 8: return new TransportException(code, name, message, cause);
            case 9: return new LedgerException(code, name, message, cause);
            default: return new MedsealException(code, name, message, cause);
        }
    }
}
