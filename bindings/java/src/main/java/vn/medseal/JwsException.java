package vn.medseal;

/** Result codes 300-399 JWS. */
public class JwsException extends MedsealException {
    private static final long serialVersionUID = 1L;

    public JwsException(int code, String name, String message, Throwable cause) {
        super(code, name, message, cause);
    }
}
