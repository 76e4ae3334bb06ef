package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

/**
 * A durable outbox (an SQLite file): signed records are sealed to the hub and stored in one
 * transaction, then delivered by {@link #deliver} or a background {@link Deliverer}. Safe to share
 * between threads; several processes may open the same file.
 */
public final class Outbox extends Handle {
    private static final NativeRef.Freer FREE = new NativeRef.Freer() {
        @Override
        public void free(Pointer p) {
            Lib.medseal_outbox_free(p);
        }
    };

    private Outbox(Pointer peer) {
        super(peer, FREE, "Outbox");
    }

    /**
     * Opens (or creates) the outbox at {@code path} for facility {@code source}, sealing to
     * {@code recipients} (the hub first). It does not verify signatures: an outbox that enqueues
     * signed records should be opened with the facility's signing keys,
     * {@link #open(Path, String, List, List)}.
     */
    public static Outbox open(Path path, String source, List<RecipientKey> recipients) {
        Ffi.notNull(path, "path");
        Ffi.notNull(source, "source");
        List<RecipientKey> keys = recipients == null ? Collections.<RecipientKey>emptyList() : recipients;
        byte[] p = Ffi.utf8(path.toString());
        byte[] s = Ffi.utf8(source);
        Pointer[] acquired = new Pointer[keys.size()];
        try {
            Memory array = Ffi.pointerArray(keys, acquired);
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_outbox_open(p, Ffi.len(p), s, Ffi.len(s), keys.isEmpty() ? null : array, new SizeT(keys.size()), out));
            return new Outbox(out.getValue());
        } finally {
            Ffi.releaseAll(keys, acquired);
        }
    }

    /**
     * Opens (or creates) the outbox as {@link #open(Path, String, List)}, with the facility's own
     * record-signing keys ({@code signingKeys}: 1 to 64, public keys suffice, e.g. the facility
     * directory's signing.pub). Each signed record is then verified with them before it takes a
     * sequence number: an unsigned file, another hospital's record or a forged signature is a
     * {@link JwsException} (e.g. {@code MEDSEAL_JWS_SIGNATURE_INVALID}) and uses no number. Always
     * open an outbox that enqueues signed records this way: a number taken by a record the hub
     * then refuses is a hole in the facility's numbering that only a withdrawal can explain.
     *
     * @throws NullPointerException if {@code signingKeys} or one of its keys is null
     * @throws IllegalArgumentException if {@code signingKeys} is empty or holds more than 64 keys
     */
    public static Outbox open(Path path, String source, List<RecipientKey> recipients, List<Key> signingKeys) {
        Ffi.notNull(path, "path");
        Ffi.notNull(source, "source");
        Ffi.notNull(signingKeys, "signingKeys");
        if (signingKeys.isEmpty() || signingKeys.size() > 64) {
            throw new IllegalArgumentException("an outbox checks records with 1 to 64 signing keys, not " + signingKeys.size());
        }
        List<RecipientKey> keys = recipients == null ? Collections.<RecipientKey>emptyList() : recipients;
        byte[] p = Ffi.utf8(path.toString());
        byte[] s = Ffi.utf8(source);
        Pointer[] acquired = new Pointer[keys.size()];
        Pointer[] acquiredOwn = new Pointer[signingKeys.size()];
        try {
            Memory array = Ffi.pointerArray(keys, acquired);
            Memory own = Ffi.pointerArray(signingKeys, acquiredOwn, "signing key");
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_outbox_open_with_signing_keys(p, Ffi.len(p), s, Ffi.len(s), keys.isEmpty() ? null : array,
                    new SizeT(keys.size()), own, new SizeT(signingKeys.size()), out));
            return new Outbox(out.getValue());
        } finally {
            Ffi.releaseAll(signingKeys, acquiredOwn);
            Ffi.releaseAll(keys, acquired);
        }
    }

    /** Opens an outbox for administration only (no recipients: it cannot enqueue signed records). */
    public static Outbox open(Path path, String source) {
        return open(path, source, null);
    }

    /**
     * Seals {@code signedRecord} (a JWS from {@link Signer#sign}, flattened or compact) to the
     * recipients and stores it, returning once it is durable. The same id with the same bytes
     * again gives the original receipt; other bytes are {@code MEDSEAL_OUTBOX_DUPLICATE}. Bytes
     * that are not a signed record ({@code typ} {@code medseal+jws} and a {@code sigT}) are a
     * {@link JwsException} and use no number; an outbox opened with signing keys also refuses,
     * before numbering, a record that does not verify with one of them.
     */
    public LocalReceipt enqueue(String recordId, byte[] signedRecord) {
        Ffi.notNull(recordId, "recordId");
        Ffi.notNull(signedRecord, "signedRecord");
        byte[] id = Ffi.utf8(recordId);
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_outbox_enqueue_signed(p, id, Ffi.len(id), signedRecord, Ffi.len(signedRecord), out));
            return LocalReceipt.take(out);
        } finally {
            ref.release();
        }
    }

    /** Enqueues an envelope sealed elsewhere (its source must be this outbox's and its sequence the next). */
    public LocalReceipt enqueueSealed(byte[] envelope) {
        Ffi.notNull(envelope, "envelope");
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_outbox_enqueue_sealed(p, envelope, Ffi.len(envelope), out));
            return LocalReceipt.take(out);
        } finally {
            ref.release();
        }
    }

    public OutboxStatus status() {
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_outbox_get_status(p, out));
            return OutboxStatus.take(out);
        } finally {
            ref.release();
        }
    }

    public long deadLetterCount() {
        Pointer p = ref.acquire();
        try {
            Memory out = new Memory(8);
            Ffi.check(Lib.medseal_outbox_dead_letter_count(p, out));
            return out.getLong(0);
        } finally {
            ref.release();
        }
    }

    /** The outbox ids of the dead letters, oldest first. */
    public long[] deadLetters() {
        Pointer p = ref.acquire();
        try {
            Memory written = Ffi.sizeOut();
            while (true) {
                int rc = Lib.medseal_outbox_dead_letter_ids(p, null, new SizeT(0), written);
                long n = Ffi.sizeAt(written);
                if (rc == Ffi.OK) {
                    return new long[0];
                }
                if (rc != Ffi.BUFFER_TOO_SMALL) {
                    Ffi.check(rc);
                }
                long[] ids = new long[(int) n + 4]; // room for a few a deliverer may add meanwhile
                rc = Lib.medseal_outbox_dead_letter_ids(p, ids, new SizeT(ids.length), written);
                if (rc == Ffi.OK) {
                    return java.util.Arrays.copyOf(ids, (int) Ffi.sizeAt(written));
                }
                if (rc != Ffi.BUFFER_TOO_SMALL) {
                    Ffi.check(rc);
                }
            }
        } finally {
            ref.release();
        }
    }

    /** Queues dead letter {@code outboxId} again, due now. */
    public void requeue(long outboxId) {
        Pointer p = ref.acquire();
        try {
            Ffi.check(Lib.medseal_outbox_requeue(p, outboxId));
        } finally {
            ref.release();
        }
    }

    /** Decides not to send dead letter {@code outboxId}, recording {@code why}. */
    public void discard(long outboxId, String why) {
        byte[] w = Ffi.utf8(Ffi.notNull(why, "why"));
        Pointer p = ref.acquire();
        try {
            Ffi.check(Lib.medseal_outbox_discard(p, outboxId, w, Ffi.len(w)));
        } finally {
            ref.release();
        }
    }

    /** Stops queued record {@code outboxId} before delivery (it becomes a dead letter WITHDRAWN with {@code reason}). */
    public void withdraw(long outboxId, String reason) {
        byte[] r = Ffi.utf8(Ffi.notNull(reason, "reason"));
        Pointer p = ref.acquire();
        try {
            Ffi.check(Lib.medseal_outbox_withdraw(p, outboxId, r, Ffi.len(r)));
        } finally {
            ref.release();
        }
    }

    /**
     * Withdraws record {@code outboxId} at the hub too: a tombstone signed with {@code signer}'s key
     * (the facility's record-signing key) over the record's id, sequence, source and {@code reason}
     * is queued in its place, so the hub ledgers the number as withdrawn with the reason instead of
     * leaving a gap. For a queued record or a dead letter ({@code MEDSEAL_OUTBOX_STATE} otherwise, or
     * when already withdrawn); {@code reason} is 1 to 1024 bytes without control characters, and an
     * outbox opened with signing keys takes only one of them ({@code MEDSEAL_INVALID_ARGUMENT}). The
     * original envelope is kept unchanged.
     *
     * @throws NullPointerException if {@code reason} or {@code signer} is null
     */
    public void withdrawSigned(long outboxId, String reason, Signer signer) {
        byte[] r = Ffi.utf8(Ffi.notNull(reason, "reason"));
        Ffi.notNull(signer, "signer");
        Pointer p = ref.acquire();
        try {
            Pointer s = signer.ref.acquire();
            try {
                Ffi.check(Lib.medseal_outbox_withdraw_signed(p, outboxId, r, Ffi.len(r), s));
            } finally {
                signer.ref.release();
            }
        } finally {
            ref.release();
        }
    }

    /** Copies the whole outbox to a new file (never replacing one) while others keep working. */
    public void backup(Path path) {
        byte[] b = Ffi.utf8(Ffi.notNull(path, "path").toString());
        Pointer p = ref.acquire();
        try {
            Ffi.check(Lib.medseal_outbox_backup(p, b, Ffi.len(b)));
        } finally {
            ref.release();
        }
    }

    /** Delivers every due record through {@code transport} (blocking); the hub being down is in the report, not thrown. */
    public DeliveryReport deliver(Transport transport) {
        Ffi.notNull(transport, "transport");
        Pointer p = ref.acquire();
        Pointer t = transport.ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_outbox_deliver(p, t, out));
            return DeliveryReport.take(out);
        } finally {
            transport.ref.release();
            ref.release();
        }
    }

    /** Starts a background deliverer (its own references: this outbox and the transport may be closed while it runs). */
    public Deliverer deliverer(Transport transport, int pollIntervalMillis) {
        Ffi.notNull(transport, "transport");
        Pointer p = ref.acquire();
        Pointer t = transport.ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_deliverer_start(p, t, pollIntervalMillis, out));
            return new Deliverer(out.getValue());
        } finally {
            transport.ref.release();
            ref.release();
        }
    }

    /** The hub's receipt and inclusion proof of delivered record {@code recordId}, as the deliverer verified and kept them. */
    public StoredReceipt receipt(String recordId) {
        byte[] id = Ffi.utf8(Ffi.notNull(recordId, "recordId"));
        Pointer p = ref.acquire();
        try {
            PointerByReference receipt = new PointerByReference();
            PointerByReference proof = new PointerByReference();
            Ffi.check(Lib.medseal_outbox_get_receipt(p, id, Ffi.len(id), receipt, proof));
            byte[] r = Ffi.takeBuffer(receipt);
            return new StoredReceipt(r, Ffi.takeBuffer(proof));
        } finally {
            ref.release();
        }
    }

    /** A receipt (compact JWS) and its inclusion proof (protobuf) kept in the outbox: what {@link Receipt#verify} takes. */
    public static final class StoredReceipt {
        private final byte[] receipt;
        private final byte[] inclusionProof;

        StoredReceipt(byte[] receipt, byte[] inclusionProof) {
            this.receipt = receipt;
            this.inclusionProof = inclusionProof;
        }

        public byte[] receipt() {
            return receipt.clone();
        }

        public byte[] inclusionProof() {
            return inclusionProof.clone();
        }
    }
}
