package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static vn.medseal.TestSupport.assertMedseal;
import static vn.medseal.TestSupport.read;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** RFC 9162 proofs and tree heads against the openssl-made fixtures of tests/c/ledger_fixtures.sh. */
class LedgerTest {
    static Path ledger(String name) {
        return TestSupport.fixtures().resolve("ledger").resolve(name);
    }

    @Test
    void leafHashesAndInclusion() {
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(read(ledger("leaf-" + i + ".bin")), Ledger.leafHash(read(ledger("entry-" + i + ".json"))));
        }
        try (Key treeHeadKey = Key.load(read(ledger("tree-head.pub.pem")))) {
            Ledger.TreeHead head = Ledger.verifyTreeHead(read(ledger("tree-head.jws")), treeHeadKey);
            assertEquals(5, head.treeSize());
            assertArrayEquals(read(ledger("root.bin")), head.rootHash());
            try (Key other = Key.generate(Algorithm.EDDSA)) {
                assertMedseal(LedgerException.class, "MEDSEAL_LEDGER_TREE_HEAD_INVALID",
                        () -> Ledger.verifyTreeHead(read(ledger("tree-head.jws")), other));
            }
        }
        byte[] root = read(ledger("root.bin"));
        byte[] leaf0 = read(ledger("leaf-2.bin"));
        // leaf 2 of 5: path = leaf 3, n01, leaf 4 (as ledger_fixtures.sh writes path.bin)
        byte[] path = read(ledger("path.bin"));
        Ledger.verifyInclusion(leaf0, 2, 5, path, root);
        assertMedseal(LedgerException.class, "MEDSEAL_LEDGER_PROOF_INVALID", () -> Ledger.verifyInclusion(leaf0, 1, 5, path, root));
        assertMedseal(LedgerException.class, "MEDSEAL_LEDGER_PROOF_INVALID",
                () -> Ledger.verifyInclusion(read(ledger("leaf-0.bin")), 2, 5, path, root));
        assertMedseal(LedgerException.class, "MEDSEAL_LEDGER_RANGE", () -> Ledger.verifyInclusion(leaf0, 9, 5, path, root));
        assertThrows(IllegalArgumentException.class, () -> Ledger.verifyInclusion(Arrays.copyOf(leaf0, 31), 0, 5, path, root));
        // consistency: a tree is consistent with itself with an empty path; different roots are not
        Ledger.verifyConsistency(5, 5, root, root, null);
        assertThrows(LedgerException.class, () -> Ledger.verifyConsistency(5, 5, root, leaf0, null));
        assertMedseal(LedgerException.class, "MEDSEAL_LEDGER_RANGE", () -> Ledger.verifyConsistency(6, 5, root, root, null));
    }
}
