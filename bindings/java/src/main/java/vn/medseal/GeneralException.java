package vn.medseal;

/** Result codes 1-99 general (null or invalid argument, buffer too small, panic, unsupported, system). */
public class GeneralException extends MedsealException {
    private static final long serialVersionUID = 1L;

    public GeneralException(int code, String name, String message, Throwable cause) {
        super(code, name, message, cause);
    }
}
