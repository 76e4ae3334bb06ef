import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Collections;
import vn.medseal.Algorithm;
import vn.medseal.Envelope;
import vn.medseal.Key;
import vn.medseal.Meta;
import vn.medseal.RecipientKey;
import vn.medseal.Signer;
import vn.medseal.Verified;
import vn.medseal.Verifier;

/** Sign and seal a record to the hub's X25519 key, then open and verify it as the hub does: java -cp ... SealOpen [RECORD.json] */
public final class SealOpen {
    public static void main(String[] args) throws Exception {
        byte[] record = Files.readAllBytes(Paths.get(args.length > 0 ? args[0] : "examples/data/patient.json"));
        try (Key hospitalKey = Key.generate(Algorithm.EDDSA);
                Signer signer = new Signer(hospitalKey);
                RecipientKey hubKey = RecipientKey.generate();          // the hub's private key (hub side)
                RecipientKey hubPublic = hubKey.publicKey();            // what the hospital has
                Key hospitalPublic = hospitalKey.publicKey();
                Verifier verifier = new Verifier(hospitalPublic)) {
            Meta meta = new Meta("patient-0001", "79001", 1);        // routing metadata, bound to the ciphertext
            byte[] envelope = signer.signAndSeal(record, meta, Collections.singletonList(hubPublic));
            System.out.println("sealed: " + envelope.length + " bytes (protobuf)");
            try (Envelope e = Envelope.decode(envelope)) {
                System.out.println("meta: " + e.meta());
                Verified verified = e.openVerified(hubKey, verifier);
                System.out.println(verified);
                System.out.println("record: " + verified.payloadText());
            }
        }
    }
}
