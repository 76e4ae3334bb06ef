// Hub receipts and RFC 9162 ledger proofs.
using System;

namespace Medseal
{
    /// <summary>A hub receipt that verified (receipt key, tree head, inclusion proof, and names this record).</summary>
    public sealed class Receipt
    {
        public ulong LedgerIndex { get; private set; }
        public ulong TreeSize { get; private set; }
        public ulong Sequence { get; private set; }
        public DateTimeOffset Received { get; private set; }
        public string RecordId { get; private set; }
        public string Source { get; private set; }
        /// <summary>SHA-256 of the protobuf envelope (32 bytes).</summary>
        public byte[] Digest { get; private set; }

        /// <summary>Checks a receipt and its inclusion proof for the record the caller sent (<paramref name="digest"/>: 32 bytes).</summary>
        public static Receipt Verify(byte[] receipt, byte[] inclusionProof, Key receiptKey, Key treeHeadKey,
            string source, string recordId, byte[] digest)
        {
            if (digest == null) throw new ArgumentNullException("digest");
            return Verify(receipt, inclusionProof, receiptKey, treeHeadKey, source, recordId, Ledger.DigestText(digest));
        }

        /// <summary>As above with the digest as the receipt writes it (base64url, 43 characters).</summary>
        public static Receipt Verify(byte[] receipt, byte[] inclusionProof, Key receiptKey, Key treeHeadKey,
            string source, string recordId, string digestText)
        {
            if (receipt == null) throw new ArgumentNullException("receipt");
            if (inclusionProof == null) throw new ArgumentNullException("inclusionProof");
            if (receiptKey == null) throw new ArgumentNullException("receiptKey");
            if (treeHeadKey == null) throw new ArgumentNullException("treeHeadKey");
            byte[] s = Native.Bytes(source, "source"), id = Native.Bytes(recordId, "recordId"), d = Native.Bytes(digestText, "digestText");
            ReceiptHandle h;
            Native.Check(NativeMethods.medseal_receipt_verify(receipt, Native.Len(receipt), inclusionProof, Native.Len(inclusionProof),
                receiptKey.Handle, treeHeadKey.Handle, s, Native.Len(s), id, Native.Len(id), d, Native.Len(d), out h));
            using (h)
            {
                var r = new Receipt();
                ulong n; long t; IntPtr p; UIntPtr len;
                Native.Check(NativeMethods.medseal_receipt_ledger_index(h, out n)); r.LedgerIndex = n;
                Native.Check(NativeMethods.medseal_receipt_tree_size(h, out n)); r.TreeSize = n;
                Native.Check(NativeMethods.medseal_receipt_sequence(h, out n)); r.Sequence = n;
                Native.Check(NativeMethods.medseal_receipt_received(h, out t)); r.Received = Native.FromUnix(t);
                Native.Check(NativeMethods.medseal_receipt_record_id(h, out p, out len)); r.RecordId = Native.Utf8.GetString(Native.Borrowed(p, len));
                Native.Check(NativeMethods.medseal_receipt_source(h, out p, out len)); r.Source = Native.Utf8.GetString(Native.Borrowed(p, len));
                var dg = new byte[32];
                Native.Check(NativeMethods.medseal_receipt_digest(h, dg)); r.Digest = dg;
                return r;
            }
        }
    }

    /// <summary>A signed tree head that verified.</summary>
    public sealed class TreeHead
    {
        public ulong TreeSize { get; internal set; }
        public DateTimeOffset Timestamp { get; internal set; }
        public byte[] RootHash { get; internal set; }
    }

    /// <summary>RFC 9162 proofs of the hub's ledger.</summary>
    public static class Ledger
    {
        /// <summary>SHA-256(0x00 || entry).</summary>
        public static byte[] LeafHash(byte[] entry)
        {
            if (entry == null) throw new ArgumentNullException("entry");
            Loader.Ensure();
            var output = new byte[32];
            Native.Check(NativeMethods.medseal_ledger_leaf_hash(entry, Native.Len(entry), output));
            return output;
        }

        private static void Hash32(byte[] h, string name)
        {
            if (h == null) throw new ArgumentNullException(name);
            if (h.Length != 32) throw new ArgumentException(name + " must be 32 bytes", name);
        }

        private static void Path(byte[] path)
        {
            if (path != null && path.Length % 32 != 0) throw new ArgumentException("the path is a sequence of 32-byte hashes", "path");
        }

        /// <summary>Checks an audit path (concatenated 32-byte hashes) from leaf <paramref name="index"/> to the root of a tree of <paramref name="size"/> leaves.</summary>
        public static void VerifyInclusion(byte[] leaf, ulong index, ulong size, byte[] path, byte[] root)
        {
            Hash32(leaf, "leaf"); Hash32(root, "root"); Path(path);
            Loader.Ensure();
            Native.Check(NativeMethods.medseal_ledger_verify_inclusion(leaf, index, size, path != null && path.Length > 0 ? path : null, Native.Len(path), root));
        }

        /// <summary>Checks that the first tree is a prefix of the second.</summary>
        public static void VerifyConsistency(ulong first, ulong second, byte[] firstRoot, byte[] secondRoot, byte[] path)
        {
            Hash32(firstRoot, "firstRoot"); Hash32(secondRoot, "secondRoot"); Path(path);
            Loader.Ensure();
            Native.Check(NativeMethods.medseal_ledger_verify_consistency(first, second, firstRoot, secondRoot,
                path != null && path.Length > 0 ? path : null, Native.Len(path)));
        }

        /// <summary>Verifies a signed tree head with the hub's tree-head key.</summary>
        public static TreeHead VerifyTreeHead(byte[] jws, Key treeHeadKey)
        {
            if (jws == null) throw new ArgumentNullException("jws");
            if (treeHeadKey == null) throw new ArgumentNullException("treeHeadKey");
            ulong size; long ts; var root = new byte[32];
            Native.Check(NativeMethods.medseal_ledger_verify_tree_head(jws, Native.Len(jws), treeHeadKey.Handle, out size, out ts, root));
            return new TreeHead { TreeSize = size, Timestamp = Native.FromUnix(ts), RootHash = root };
        }

        /// <summary>A digest as receipts write it: base64url without padding.</summary>
        public static string DigestText(byte[] digest)
        {
            if (digest == null) throw new ArgumentNullException("digest");
            return Convert.ToBase64String(digest).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }
    }
}
