package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.time.Instant;
import java.util.Base64;

/** RFC 9162 ledger proofs and signed tree heads. */
public final class Ledger {
    private Ledger() {}

    /** A verified signed tree head. */
    public static final class TreeHead {
        private final long treeSize;
        private final Instant timestamp;
        private final byte[] rootHash;

        TreeHead(long treeSize, Instant timestamp, byte[] rootHash) {
            this.treeSize = treeSize;
            this.timestamp = timestamp;
            this.rootHash = rootHash;
        }

        public long treeSize() {
            return treeSize;
        }

        public Instant timestamp() {
            return timestamp;
        }

        public byte[] rootHash() {
            return rootHash.clone();
        }
    }

    /** The RFC 9162 leaf hash of a ledger entry: SHA-256(0x00 || entry). */
    public static byte[] leafHash(byte[] entry) {
        Ffi.notNull(entry, "entry");
        byte[] out = new byte[32];
        Ffi.check(Lib.medseal_ledger_leaf_hash(entry, Ffi.len(entry), out));
        return out;
    }

    /** Checks that {@code path} (concatenated 32-byte hashes) leads from {@code leaf} at {@code index} to {@code root}. */
    public static void verifyInclusion(byte[] leaf, long index, long size, byte[] path, byte[] root) {
        hash(leaf, "leaf");
        hash(root, "root");
        Ffi.check(Lib.medseal_ledger_verify_inclusion(leaf, index, size, path == null || path.length == 0 ? null : path,
                Ffi.len(path), root));
    }

    /** Checks that the tree of {@code first} leaves is a prefix of the tree of {@code second} leaves. */
    public static void verifyConsistency(long first, long second, byte[] firstRoot, byte[] secondRoot, byte[] path) {
        hash(firstRoot, "firstRoot");
        hash(secondRoot, "secondRoot");
        Ffi.check(Lib.medseal_ledger_verify_consistency(first, second, firstRoot, secondRoot,
                path == null || path.length == 0 ? null : path, Ffi.len(path)));
    }

    /** Verifies a signed tree head (compact JWS) with the hub's tree-head key. */
    public static TreeHead verifyTreeHead(byte[] jws, Key treeHeadKey) {
        Ffi.notNull(jws, "jws");
        Ffi.notNull(treeHeadKey, "treeHeadKey");
        Pointer k = treeHeadKey.ref.acquire();
        try {
            Memory size = new Memory(8);
            Memory time = new Memory(8);
            byte[] root = new byte[32];
            Ffi.check(Lib.medseal_ledger_verify_tree_head(jws, Ffi.len(jws), k, size, time, root));
            return new TreeHead(size.getLong(0), Instant.ofEpochSecond(time.getLong(0)), root);
        } finally {
            treeHeadKey.ref.release();
        }
    }

    /** A digest as receipts write it: base64url without padding. */
    public static String digestText(byte[] digest) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    }

    private static void hash(byte[] h, String name) {
        if (Ffi.notNull(h, name).length != 32) {
            throw new IllegalArgumentException(name + " must be 32 bytes, not " + h.length);
        }
    }
}
