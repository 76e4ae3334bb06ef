package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vn.medseal.TestSupport.assertMedseal;
import static vn.medseal.TestSupport.env;
import static vn.medseal.TestSupport.pki;
import static vn.medseal.TestSupport.read;

import org.junit.jupiter.api.Test;

/** medseal's own PKCS#11 signer on the SoftHSM2 test token (tests/c/fixtures.sh). */
class Pkcs11Test {
    static String module() {
        return env("MEDSEAL_TEST_PKCS11_MODULE");
    }

    static String token() {
        return env("MEDSEAL_TEST_PKCS11_TOKEN");
    }

    static char[] pin() {
        return env("MEDSEAL_TEST_PKCS11_PIN").toCharArray();
    }

    @Test
    void signWithTokenKeys() {
        Object[][] cases = {
            {env("MEDSEAL_TEST_PKCS11_EC_KEY"), null, Algorithm.ES256, "signer-ec"},
            {env("MEDSEAL_TEST_PKCS11_RSA_KEY"), null, Algorithm.RS256, "signer-rsa"},
            {env("MEDSEAL_TEST_PKCS11_RSA_KEY"), Algorithm.PS256, Algorithm.PS256, "signer-rsa"},
        };
        for (Object[] c : cases) {
            String name = (String) c[3];
            try (Signer signer = Signer.pkcs11Builder(module(), token(), (String) c[0], pin(), (Algorithm) c[1])
                    .certificateChain(read(pki(name + "-chain.pem"))).signingTime(SignTest.T).build();
                    Key pub = Key.load(read(pki(name + ".pub.pem")), (Algorithm) c[1]);
                    Verifier byKey = new Verifier(pub);
                    Verifier anchored = Verifier.builder().addTrustAnchors(read(pki("root.pem"))).build()) {
                assertEquals(pub.kid(), signer.kid());
                byte[] jws = signer.sign(SignTest.PATIENT);
                assertEquals(c[2], byKey.verify(jws).algorithm());
                assertEquals(TrustedBy.CERTIFICATE, anchored.verify(jws).trustedBy());
            }
        }
    }

    @Test
    void tokenErrors() {
        String ec = env("MEDSEAL_TEST_PKCS11_EC_KEY");
        assertMedseal(SignerException.class, "MEDSEAL_PKCS11_PIN",
                () -> Signer.pkcs11Builder(module(), token(), ec, "000000".toCharArray(), null).build());
        assertMedseal(SignerException.class, "MEDSEAL_PKCS11_TOKEN_NOT_FOUND",
                () -> Signer.pkcs11Builder(module(), "no-such-token", ec, pin(), null).build());
        assertMedseal(SignerException.class, "MEDSEAL_PKCS11_KEY_NOT_FOUND",
                () -> Signer.pkcs11Builder(module(), token(), "no-such-key", pin(), null).build());
        assertMedseal(SignerException.class, "MEDSEAL_PKCS11_MODULE",
                () -> Signer.pkcs11Builder("/nonexistent/libpkcs11.so", token(), ec, pin(), null).build());
        MedsealException e = assertMedseal(KeyException.class, "MEDSEAL_KEY_UNSUPPORTED",
                () -> Signer.pkcs11Builder(module(), token(), ec, pin(), Algorithm.PS256).build());
        assertTrue(e.getDetail().length() > 0);
    }
}
