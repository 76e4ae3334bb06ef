package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Helpers around {@link Lib}: results to exceptions, buffers to arrays, out-parameters. Internal. */
final class Ffi {
    private Ffi() {}

    static final int OK = 0;
    static final int BUFFER_TOO_SMALL = 3;
    static final int SIGNER_FAILED = 600;
    static final int SIZE_T = com.sun.jna.Native.SIZE_T_SIZE;

    /** Throws the exception for {@code rc} (with this thread's last error message) unless it is OK. */
    static void check(int rc) {
        if (rc != OK) {
            throw MedsealException.of(rc, lastErrorMessage());
        }
    }

    static String lastErrorMessage() {
        Memory len = new Memory(SIZE_T);
        int rc = Lib.medseal_last_error_message(null, new SizeT(0), len);
        long n = sizeAt(len);
        if (rc == OK || n == 0) {
            return "";
        }
        Memory buf = new Memory(n + 1);
        if (Lib.medseal_last_error_message(buf, new SizeT(n + 1), len) != OK) {
            return "";
        }
        return new String(buf.getByteArray(0, (int) sizeAt(len)), StandardCharsets.UTF_8);
    }

    static Memory sizeOut() {
        return new Memory(SIZE_T);
    }

    static long sizeAt(Pointer p) {
        return SIZE_T == 8 ? p.getLong(0) : (p.getInt(0) & 0xFFFFFFFFL);
    }

    static SizeT len(byte[] data) {
        return new SizeT(data == null ? 0 : data.length);
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** UTF-8 bytes of a secret (a PIN) without a String copy; the caller wipes them. */
    static byte[] utf8Secret(char[] secret) {
        java.nio.ByteBuffer encoded = StandardCharsets.UTF_8.encode(java.nio.CharBuffer.wrap(secret));
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        if (encoded.hasArray()) {
            wipe(encoded.array());
        }
        return bytes;
    }

    static <T> T notNull(T value, String name) {
        if (value == null) {
            throw new NullPointerException(name + " is null");
        }
        return value;
    }

    /** Copies a medseal_buffer's bytes into a new array and frees (zeroizes) the buffer. */
    static byte[] takeBuffer(PointerByReference out) {
        Pointer buf = out.getValue();
        try {
            long n = Lib.medseal_buffer_len(buf).longValue();
            if (n > Integer.MAX_VALUE - 8) {
                throw new OutOfMemoryError("medseal buffer of " + n + " bytes");
            }
            return n == 0 ? new byte[0] : Lib.medseal_buffer_data(buf).getByteArray(0, (int) n);
        } finally {
            Lib.medseal_buffer_free(buf);
        }
    }

    static String takeString(PointerByReference out) {
        return new String(takeBuffer(out), StandardCharsets.UTF_8);
    }

    /** Copies borrowed bytes (pointer + size_t length) into an array. */
    static byte[] borrowed(PointerByReference data, Pointer len) {
        long n = sizeAt(len);
        return n == 0 ? new byte[0] : data.getValue().getByteArray(0, (int) n);
    }

    static long u64(Memory m) {
        return m.getLong(0);
    }

    /** An array of recipient-key pointers, acquired; release with {@link #releaseAll}. */
    static Memory pointerArray(List<RecipientKey> keys, Pointer[] acquired) {
        return pointerArray(keys, acquired, "recipient");
    }

    /** An array of the handles' pointers ({@code what} names them in errors), acquired; release with {@link #releaseAll}. */
    static Memory pointerArray(List<? extends Handle> keys, Pointer[] acquired, String what) {
        Memory array = new Memory((long) Math.max(1, keys.size()) * com.sun.jna.Native.POINTER_SIZE);
        for (int i = 0; i < keys.size(); i++) {
            Handle key = notNull(keys.get(i), what + " " + i);
            acquired[i] = key.ref.acquire();
            array.setPointer((long) i * com.sun.jna.Native.POINTER_SIZE, acquired[i]);
        }
        return array;
    }

    static void releaseAll(List<? extends Handle> keys, Pointer[] acquired) {
        for (int i = 0; i < keys.size(); i++) {
            if (acquired[i] != null) {
                keys.get(i).ref.release();
            }
        }
    }

    static void wipe(byte[] secret) {
        if (secret != null) {
            Arrays.fill(secret, (byte) 0);
        }
    }
}
