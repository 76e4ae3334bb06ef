package vn.medseal;

/**
 * Names and descriptions of result codes, as the loaded library gives them
 * ({@code medseal_result_name}, {@code medseal_result_describe}): no table is copied here.
 */
public final class ResultCodes {
    private ResultCodes() {}

    /** The constant's name for {@code code}, e.g. {@code "MEDSEAL_JSON_LOSSY_NUMBER"}. */
    public static String name(int code) {
        return Lib.medseal_result_name(code);
    }

    /** The library's short description of {@code code}. */
    public static String describe(int code) {
        return Lib.medseal_result_describe(code);
    }
}
