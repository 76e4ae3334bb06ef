package vn.medseal;

/** Result codes 700-799 the outbox. */
public class OutboxException extends MedsealException {
    private static final long serialVersionUID = 1L;

    public OutboxException(int code, String name, String message, Throwable cause) {
        super(code, name, message, cause);
    }
}
