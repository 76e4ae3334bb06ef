// RFC 9162 proofs (the hub's real receipts are checked in OutboxTests).
using System;
using Medseal;
using NUnit.Framework;

namespace Medseal.Tests
{
    [TestFixture]
    public class LedgerTests
    {
        private static byte[] Hex(string h)
        {
            var b = new byte[h.Length / 2];
            for (int i = 0; i < b.Length; i++) b[i] = Convert.ToByte(h.Substring(2 * i, 2), 16);
            return b;
        }

        [Test]
        public void LeafHashAndSingleLeafProofs()
        {
            // RFC 6962: the hash of the empty leaf, SHA-256(0x00).
            byte[] empty = Ledger.LeafHash(new byte[0]);
            CollectionAssert.AreEqual(Hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"), empty);
            byte[] leaf = Ledger.LeafHash(T.Utf8("{\"entry\":1}\n"));
            Assert.AreEqual(32, leaf.Length);
            CollectionAssert.AreNotEqual(empty, leaf);
            Ledger.VerifyInclusion(leaf, 0, 1, null, leaf);
            Ledger.VerifyInclusion(leaf, 0, 1, new byte[0], leaf);
            T.Fails<LedgerException>("MEDSEAL_LEDGER_PROOF_INVALID", () => Ledger.VerifyInclusion(leaf, 0, 1, null, empty));
            T.Fails<LedgerException>("MEDSEAL_LEDGER_RANGE", () => Ledger.VerifyInclusion(leaf, 1, 1, null, leaf));
            Ledger.VerifyConsistency(1, 1, leaf, leaf, null);
            T.Fails<LedgerException>("MEDSEAL_LEDGER_RANGE", () => Ledger.VerifyConsistency(2, 1, leaf, leaf, null));
            Assert.Throws<ArgumentException>(() => Ledger.VerifyInclusion(new byte[31], 0, 1, null, leaf));
            Assert.Throws<ArgumentException>(() => Ledger.VerifyInclusion(leaf, 0, 1, new byte[33], leaf));
            Assert.AreEqual("bjQLnP-zepicpUTmu3gKLHiQHT-zNzh2hRGjBhevoB0", Ledger.DigestText(empty));
            T.Fails<LedgerException>("MEDSEAL_LEDGER_TREE_HEAD_INVALID", () => Ledger.VerifyTreeHead(T.Utf8("a.b.c"), Key.Generate()));
        }
    }
}
