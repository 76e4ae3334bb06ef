package vn.medseal;

/** Result codes 100-199 canonical JSON. */
public class JsonException extends MedsealException {
    private static final long serialVersionUID = 1L;

    public JsonException(int code, String name, String message, Throwable cause) {
        super(code, name, message, cause);
    }
}
