import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import vn.medseal.JcaSigner;
import vn.medseal.Signer;

/**
 * Sign with a key on a USB token through the JDK's SunPKCS11 (docs/java.md, "Signing with a token"):
 *
 *   java -cp ... SignWithToken PKCS11_CONFIG ALIAS RECORD.json OUT.jws     (the PIN in $TOKEN_PIN)
 *
 * PKCS11_CONFIG is a SunPKCS11 configuration file ("name = token" / "library = /path/to/vendor-pkcs11.so").
 * The private key never leaves the token: medseal hands the JWS signing input to the token's
 * Signature and checks what comes back against the certificate before writing the JWS.
 */
public final class SignWithToken {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: SignWithToken PKCS11_CONFIG ALIAS RECORD.json OUT.jws");
            System.exit(2);
        }
        Provider token = configure(args[0]);
        Security.addProvider(token);
        char[] pin = System.getenv("TOKEN_PIN").toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS11", token);
        store.load(null, pin);
        Arrays.fill(pin, '\0');
        PrivateKey key = (PrivateKey) store.getKey(args[1], null);
        Certificate[] certs = store.getCertificateChain(args[1]);
        X509Certificate[] chain = Arrays.copyOf(certs, certs.length, X509Certificate[].class);
        try (Signer signer = JcaSigner.builder(key, chain).commitment("1.2.840.10065.1.12.1.1").build()) {
            Files.write(Paths.get(args[3]), signer.sign(Files.readAllBytes(Paths.get(args[2]))));
        }
        System.out.println("signed with " + chain[0].getSubjectX500Principal());
    }

    /** SunPKCS11 from a configuration file: Provider.configure on Java 9+, the constructor on Java 8. */
    static Provider configure(String config) throws Exception {
        Provider base = Security.getProvider("SunPKCS11");
        try {
            return (Provider) Provider.class.getMethod("configure", String.class).invoke(base, config);
        } catch (NoSuchMethodException java8) {
            return (Provider) Class.forName("sun.security.pkcs11.SunPKCS11").getConstructor(String.class).newInstance(config);
        }
    }
}
