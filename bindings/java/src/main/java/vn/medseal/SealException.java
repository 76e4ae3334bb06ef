package vn.medseal;

/** Result codes 400-499 sealed envelopes. */
public class SealException extends MedsealException {
    private static final long serialVersionUID = 1L;

    public SealException(int code, String name, String message, Throwable cause) {
        super(code, name, message, cause);
    }
}
