package vn.medseal;

/** Result codes 500-599 certificates and trust lists. */
public class TrustException extends MedsealException {
    private static final long serialVersionUID = 1L;

    public TrustException(int code, String name, String message, Throwable cause) {
        super(code, name, message, cause);
    }
}
