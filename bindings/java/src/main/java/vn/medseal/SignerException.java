package vn.medseal;

/** Result codes 600-699 signers (tokens, callbacks, clock). */
public class SignerException extends MedsealException {
    private static final long serialVersionUID = 1L;

    public SignerException(int code, String name, String message, Throwable cause) {
        super(code, name, message, cause);
    }
}
