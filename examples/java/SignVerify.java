import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Instant;
import vn.medseal.Algorithm;
import vn.medseal.JwsFormat;
import vn.medseal.Key;
import vn.medseal.KeyFormat;
import vn.medseal.Signer;
import vn.medseal.Verified;
import vn.medseal.Verifier;

/**
 * Sign a FHIR record and verify it: java -cp ... SignVerify [RECORD.json]
 * (default examples/data/patient.json). The key is generated here; a hospital loads its own
 * with Key.load(Files.readAllBytes(path)).
 */
public final class SignVerify {
    public static void main(String[] args) throws Exception {
        byte[] record = Files.readAllBytes(Paths.get(args.length > 0 ? args[0] : "examples/data/patient.json"));
        try (Key key = Key.generate(Algorithm.EDDSA);
                Signer signer = Signer.builder(key).signingTime(Instant.now()).build();
                Key publicKey = key.publicKey();
                Verifier verifier = new Verifier(publicKey)) {
            byte[] jws = signer.sign(record, JwsFormat.FLATTENED); // canonical JSON, then JWS/JAdES
            System.out.println("public key:\n" + new String(publicKey.export(KeyFormat.SPKI_PEM), "UTF-8"));
            System.out.println("signed: " + jws.length + " bytes");
            Verified verified = verifier.verify(jws);
            System.out.println(verified); // valid kid=... alg=EdDSA sigT=...
            System.out.println("payload: " + verified.payloadText());
        }
    }
}
