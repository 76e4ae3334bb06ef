package vn.medseal;

/** Result codes 200-299 keys. */
public class KeyException extends MedsealException {
    private static final long serialVersionUID = 1L;

    public KeyException(int code, String name, String message, Throwable cause) {
        super(code, name, message, cause);
    }
}
