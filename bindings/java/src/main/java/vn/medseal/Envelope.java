package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A decoded sealed envelope (JSON or protobuf). Immutable: share it between threads. */
public final class Envelope extends Handle {
    private static final NativeRef.Freer FREE = new NativeRef.Freer() {
        @Override
        public void free(Pointer p) {
            Lib.medseal_envelope_free(p);
        }
    };

    private Envelope(Pointer peer) {
        super(peer, FREE, "Envelope");
    }

    /** Decodes an envelope: checks structure, suite and meta (not the ciphertext: that is {@link #open}). */
    public static Envelope decode(byte[] data) {
        Ffi.notNull(data, "data");
        PointerByReference out = new PointerByReference();
        Ffi.check(Lib.medseal_envelope_decode(data, Ffi.len(data), out));
        return new Envelope(out.getValue());
    }

    /** The routing metadata as canonical JSON (needs no key; authenticated only when opened). */
    public byte[] metaJson() {
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_envelope_meta(p, out));
            return Ffi.takeBuffer(out);
        } finally {
            ref.release();
        }
    }

    private static final Pattern STRING_MEMBER = Pattern.compile("\"(content_type|created|record_id|source)\":\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern SEQUENCE = Pattern.compile("\"sequence\":([0-9]+)");

    /** The routing metadata. */
    public Meta meta() {
        String json = new String(metaJson(), StandardCharsets.UTF_8);
        String recordId = null;
        String source = null;
        String created = null;
        String contentType = null;
        Matcher m = STRING_MEMBER.matcher(json);
        while (m.find()) {
            String value = unescape(m.group(2));
            switch (m.group(1)) {
                case "content_type": contentType = value; break;
                case "created": created = value; break;
                case "record_id": recordId = value; break;
                default: source = value; break;
            }
        }
        Matcher s = SEQUENCE.matcher(json);
        if (recordId == null || source == null || !s.find()) {
            throw new IllegalStateException("medseal returned unexpected meta JSON: " + json);
        }
        return new Meta(recordId, source, Long.parseLong(s.group(1)), created, contentType);
    }

    /** Undoes canonical JSON string escapes (RFC 8785 writes only these). */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'b': b.append('\b'); break;
                case 'f': b.append('\f'); break;
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                case 't': b.append('\t'); break;
                case 'u': b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16)); i += 4; break;
                default: b.append(e); break;
            }
        }
        return b.toString();
    }

    /** Opens with a private recipient key; returns the plaintext. */
    public byte[] open(RecipientKey key) {
        Ffi.notNull(key, "key");
        Pointer p = ref.acquire();
        Pointer k = key.ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_envelope_open(p, k, out));
            return Ffi.takeBuffer(out);
        } finally {
            key.ref.release();
            ref.release();
        }
    }

    /** Opens into {@code out} (a direct buffer, from its position): returns the length, advances the position. */
    public int openInto(RecipientKey key, ByteBuffer out) {
        Ffi.notNull(key, "key");
        RecipientKey.requireDirect(out, "out");
        Pointer p = ref.acquire();
        Pointer k = key.ref.acquire();
        try {
            ByteBuffer target = out.slice();
            Memory written = Ffi.sizeOut();
            Ffi.check(Lib.medseal_envelope_open_into(p, k, target, new SizeT(target.remaining()), written));
            int n = (int) Ffi.sizeAt(written);
            out.position(out.position() + n);
            return n;
        } finally {
            key.ref.release();
            ref.release();
        }
    }

    /** Opens the signed record inside and verifies it with {@code verifier}, as the hub does. */
    public Verified openVerified(RecipientKey key, Verifier verifier) {
        Ffi.notNull(key, "key");
        Ffi.notNull(verifier, "verifier");
        Pointer p = ref.acquire();
        Pointer k = key.ref.acquire();
        Pointer v = verifier.ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_envelope_open_verified(p, k, v, out));
            return Verified.take(out);
        } finally {
            verifier.ref.release();
            key.ref.release();
            ref.release();
        }
    }
}
