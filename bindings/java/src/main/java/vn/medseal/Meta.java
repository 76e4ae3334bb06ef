package vn.medseal;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * Routing metadata of a sealed envelope: in clear, but bound to the ciphertext. {@code recordId}
 * and {@code source}: 1 to 256 bytes of text without control characters; {@code sequence}: 1 to
 * 2^53-1; {@code created}: RFC 3339 (null: now); {@code contentType}: null for
 * {@code application/jose+json}. Invalid values are {@code MEDSEAL_SEAL_META_INVALID} when used.
 */
public final class Meta {
    private final String recordId;
    private final String source;
    private final long sequence;
    private final String created;
    private final String contentType;

    public Meta(String recordId, String source, long sequence) {
        this(recordId, source, sequence, (String) null, null);
    }

    public Meta(String recordId, String source, long sequence, String created, String contentType) {
        this.recordId = Ffi.notNull(recordId, "recordId");
        this.source = Ffi.notNull(source, "source");
        this.sequence = sequence;
        this.created = created;
        this.contentType = contentType;
    }

    public Meta(String recordId, String source, long sequence, Instant created, String contentType) {
        this(recordId, source, sequence,
                created == null ? null : DateTimeFormatter.ISO_INSTANT.format(created.truncatedTo(ChronoUnit.SECONDS)), contentType);
    }

    public String recordId() {
        return recordId;
    }

    public String source() {
        return source;
    }

    public long sequence() {
        return sequence;
    }

    /** RFC 3339, or null (meaning: now, when sealing). */
    public String created() {
        return created;
    }

    /** The media type, or null (meaning {@code application/jose+json}). */
    public String contentType() {
        return contentType;
    }

    /** A copy with another creation time. */
    public Meta withCreated(String created) {
        return new Meta(recordId, source, sequence, created, contentType);
    }

    /** A copy with another content type. */
    public Meta withContentType(String contentType) {
        return new Meta(recordId, source, sequence, created, contentType);
    }

    /** A new medseal_meta; the caller frees it with {@code medseal_meta_free}. */
    Pointer toNative() {
        byte[] id = Ffi.utf8(recordId);
        byte[] src = Ffi.utf8(source);
        PointerByReference out = new PointerByReference();
        Ffi.check(Lib.medseal_meta_new(id, Ffi.len(id), src, Ffi.len(src), sequence, out));
        Pointer meta = out.getValue();
        try {
            if (created != null) {
                byte[] c = Ffi.utf8(created);
                Ffi.check(Lib.medseal_meta_set_created(meta, c, Ffi.len(c)));
            }
            if (contentType != null) {
                byte[] t = Ffi.utf8(contentType);
                Ffi.check(Lib.medseal_meta_set_content_type(meta, t, Ffi.len(t)));
            }
            return meta;
        } catch (RuntimeException e) {
            Lib.medseal_meta_free(meta);
            throw e;
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Meta)) {
            return false;
        }
        Meta m = (Meta) o;
        return recordId.equals(m.recordId) && source.equals(m.source) && sequence == m.sequence
                && (created == null ? m.created == null : created.equals(m.created))
                && (contentType == null ? m.contentType == null : contentType.equals(m.contentType));
    }

    @Override
    public int hashCode() {
        return (recordId.hashCode() * 31 + source.hashCode()) * 31 + Long.hashCode(sequence);
    }

    @Override
    public String toString() {
        return "Meta(recordId=" + recordId + ", source=" + source + ", sequence=" + sequence + ", created=" + created
                + ", contentType=" + contentType + ")";
    }
}
