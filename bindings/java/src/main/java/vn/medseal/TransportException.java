package vn.medseal;

/** Result codes 800-899 transport to the hub. */
public class TransportException extends MedsealException {
    private static final long serialVersionUID = 1L;

    public TransportException(int code, String name, String message, Throwable cause) {
        super(code, name, message, cause);
    }
}
