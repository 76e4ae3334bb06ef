package vn.medseal;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.PSSParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;

/** JCA helpers for the tests: PEM to JCA objects, SunPKCS11 on Java 8 and 9+, JWS checked with the JDK's Signature. */
final class Jca {
    private Jca() {}

    static PrivateKey privateKey(Path pem, String algorithm) throws Exception {
        String text = TestSupport.str(TestSupport.read(pem));
        String body = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
    }

    static X509Certificate[] chain(Path pem) throws Exception {
        Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(TestSupport.read(pem)));
        List<X509Certificate> out = new ArrayList<X509Certificate>();
        for (Certificate c : certs) {
            out.add((X509Certificate) c);
        }
        return out.toArray(new X509Certificate[0]);
    }

    /** SunPKCS11 for the SoftHSM2 test token: {@code Provider.configure} on 9+, the constructor on 8. */
    static Provider sunPkcs11(Path dir) throws Exception {
        Path config = dir.resolve("pkcs11.cfg");
        String module = TestSupport.env("MEDSEAL_TEST_PKCS11_MODULE");
        Files.write(config, TestSupport.utf8("name = medseal-softhsm\nlibrary = " + module + "\nslotListIndex = 0\n"));
        Provider base = Security.getProvider("SunPKCS11");
        if (base != null) {
            try {
                return (Provider) Provider.class.getMethod("configure", String.class).invoke(base, config.toString());
            } catch (NoSuchMethodException java8) {
                // fall through
            }
        }
        return (Provider) Class.forName("sun.security.pkcs11.SunPKCS11").getConstructor(String.class).newInstance(config.toString());
    }

    /** Checks a compact JWS with the JDK's own Signature (ES256: raw r||s turned into DER first). */
    static boolean jdkVerifies(String compact, PublicKey key, Algorithm alg) throws Exception {
        int second = compact.lastIndexOf('.');
        byte[] input = compact.substring(0, second).getBytes("US-ASCII");
        byte[] sig = Base64.getUrlDecoder().decode(compact.substring(second + 1));
        Signature s;
        switch (alg) {
            case ES256:
                s = Signature.getInstance("SHA256withECDSA");
                sig = der(sig);
                break;
            case RS256:
                s = Signature.getInstance("SHA256withRSA");
                break;
            case PS256:
                s = Signature.getInstance("RSASSA-PSS");
                s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
                break;
            default:
                s = Signature.getInstance("Ed25519");
        }
        s.initVerify(key);
        s.update(input);
        return s.verify(sig);
    }

    /** JWS ES256 (r||s, 64 bytes) to ASN.1 DER. */
    static byte[] der(byte[] raw) {
        byte[] r = new BigInteger(1, java.util.Arrays.copyOfRange(raw, 0, 32)).toByteArray();
        byte[] s = new BigInteger(1, java.util.Arrays.copyOfRange(raw, 32, 64)).toByteArray();
        byte[] out = new byte[6 + r.length + s.length];
        out[0] = 0x30;
        out[1] = (byte) (4 + r.length + s.length);
        out[2] = 0x02;
        out[3] = (byte) r.length;
        System.arraycopy(r, 0, out, 4, r.length);
        out[4 + r.length] = 0x02;
        out[5 + r.length] = (byte) s.length;
        System.arraycopy(s, 0, out, 6 + r.length, s.length);
        return out;
    }
}
