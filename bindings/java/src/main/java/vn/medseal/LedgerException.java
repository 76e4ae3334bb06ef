package vn.medseal;

/** Result codes 900-999 the ledger and receipts. */
public class LedgerException extends MedsealException {
    private static final long serialVersionUID = 1L;

    public LedgerException(int code, String name, String message, Throwable cause) {
        super(code, name, message, cause);
    }
}
