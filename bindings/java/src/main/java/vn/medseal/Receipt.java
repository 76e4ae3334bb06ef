package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/** A hub receipt that verified ({@link #verify}): the record's place in the hub's ledger. */
public final class Receipt {
    private final long ledgerIndex;
    private final long treeSize;
    private final long sequence;
    private final Instant received;
    private final String recordId;
    private final String source;
    private final byte[] digest;

    private Receipt(long ledgerIndex, long treeSize, long sequence, Instant received, String recordId, String source, byte[] digest) {
        this.ledgerIndex = ledgerIndex;
        this.treeSize = treeSize;
        this.sequence = sequence;
        this.received = received;
        this.recordId = recordId;
        this.source = source;
        this.digest = digest;
    }

    /**
     * Checks a receipt (compact JWS by {@code receiptKey}) and its inclusion proof (tree head by
     * {@code treeHeadKey}) for exactly this record: facility {@code source}, {@code recordId} and
     * envelope {@code digest} (32 bytes, e.g. {@link LocalReceipt#digest()}).
     */
    public static Receipt verify(byte[] receipt, byte[] inclusionProof, Key receiptKey, Key treeHeadKey, String source,
            String recordId, byte[] digest) {
        Ffi.notNull(digest, "digest");
        return verify(receipt, inclusionProof, receiptKey, treeHeadKey, source, recordId, Ledger.digestText(digest));
    }

    /** As above, with the digest as the receipt writes it (base64url, 43 characters). */
    public static Receipt verify(byte[] receipt, byte[] inclusionProof, Key receiptKey, Key treeHeadKey, String source,
            String recordId, String digestText) {
        Ffi.notNull(receipt, "receipt");
        Ffi.notNull(inclusionProof, "inclusionProof");
        Ffi.notNull(receiptKey, "receiptKey");
        Ffi.notNull(treeHeadKey, "treeHeadKey");
        byte[] s = Ffi.utf8(Ffi.notNull(source, "source"));
        byte[] id = Ffi.utf8(Ffi.notNull(recordId, "recordId"));
        byte[] d = Ffi.utf8(Ffi.notNull(digestText, "digest"));
        Pointer rk = receiptKey.ref.acquire();
        try {
            Pointer tk = treeHeadKey.ref.acquire();
            try {
                PointerByReference out = new PointerByReference();
                Ffi.check(Lib.medseal_receipt_verify(receipt, Ffi.len(receipt), inclusionProof, Ffi.len(inclusionProof), rk, tk,
                        s, Ffi.len(s), id, Ffi.len(id), d, Ffi.len(d), out));
                return take(out);
            } finally {
                treeHeadKey.ref.release();
            }
        } finally {
            receiptKey.ref.release();
        }
    }

    private static Receipt take(PointerByReference out) {
        Pointer r = out.getValue();
        try {
            Memory m = new Memory(8);
            Ffi.check(Lib.medseal_receipt_ledger_index(r, m));
            long index = m.getLong(0);
            Ffi.check(Lib.medseal_receipt_tree_size(r, m));
            long size = m.getLong(0);
            Ffi.check(Lib.medseal_receipt_sequence(r, m));
            long seq = m.getLong(0);
            Ffi.check(Lib.medseal_receipt_received(r, m));
            Instant received = Instant.ofEpochSecond(m.getLong(0));
            PointerByReference data = new PointerByReference();
            Memory len = Ffi.sizeOut();
            Ffi.check(Lib.medseal_receipt_record_id(r, data, len));
            String recordId = new String(Ffi.borrowed(data, len), StandardCharsets.UTF_8);
            Ffi.check(Lib.medseal_receipt_source(r, data, len));
            String source = new String(Ffi.borrowed(data, len), StandardCharsets.UTF_8);
            byte[] digest = new byte[32];
            Ffi.check(Lib.medseal_receipt_digest(r, digest));
            return new Receipt(index, size, seq, received, recordId, source, digest);
        } finally {
            Lib.medseal_receipt_free(r);
        }
    }

    public long ledgerIndex() {
        return ledgerIndex;
    }

    public long treeSize() {
        return treeSize;
    }

    public long sequence() {
        return sequence;
    }

    public Instant received() {
        return received;
    }

    public String recordId() {
        return recordId;
    }

    public String source() {
        return source;
    }

    public byte[] digest() {
        return digest.clone();
    }

    @Override
    public String toString() {
        return "Receipt(ledgerIndex=" + ledgerIndex + ", treeSize=" + treeSize + ", sequence=" + sequence + ", recordId="
                + recordId + ", source=" + source + ", digest=" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest) + ")";
    }
}
