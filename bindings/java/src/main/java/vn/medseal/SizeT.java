package vn.medseal;

import com.sun.jna.IntegerType;
import com.sun.jna.Native;

/** C {@code size_t} (4 or 8 bytes, as the platform has it). Public only because JNA instantiates it; not part of the API. */
public final class SizeT extends IntegerType {
    private static final long serialVersionUID = 1L;

    public SizeT() {
        this(0);
    }

    public SizeT(long value) {
        super(Native.SIZE_T_SIZE, value, true);
    }
}
