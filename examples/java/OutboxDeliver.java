import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import vn.medseal.Deliverer;
import vn.medseal.Key;
import vn.medseal.LocalReceipt;
import vn.medseal.Outbox;
import vn.medseal.OutboxStatus;
import vn.medseal.Receipt;
import vn.medseal.RecipientKey;
import vn.medseal.Signer;
import vn.medseal.Transport;

/**
 * A hospital's outbox with a background deliverer to the hub, and the hub's receipt checked:
 *
 *   java -cp ... OutboxDeliver HUB_URL FACILITY_DIR FACILITY_ID OUTBOX.db RECORD.json RECORD_ID
 *
 * FACILITY_DIR holds the hospital's own keys ({@code medseal facility init}: signing.key, client.key) and what
 * {@code medseal hub enroll --signing-key signing.pub --csr client.csr} wrote beside them (client certificate,
 * hub CA, hub keys, hub-recipient.pub).
 */
public final class OutboxDeliver {
    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: OutboxDeliver HUB_URL FACILITY_DIR FACILITY_ID OUTBOX.db RECORD.json RECORD_ID");
            System.exit(2);
        }
        Path facility = Paths.get(args[1]);
        String recordId = args[5];
        try (Key signingKey = Key.load(Files.readAllBytes(facility.resolve("signing.key")));
                Signer signer = new Signer(signingKey);
                RecipientKey hub = RecipientKey.load(Files.readAllBytes(facility.resolve("hub-recipient.pub")));
                // The facility's public signing key: the outbox verifies each record with it before
                // numbering it, so a wrong file is refused without leaving a hole in the numbering.
                Key signingPub = Key.load(Files.readAllBytes(facility.resolve("signing.pub")));
                Outbox outbox = Outbox.open(Paths.get(args[3]), args[2], Collections.singletonList(hub),
                        Collections.singletonList(signingPub));
                Transport transport = Transport.forFacility(args[0], facility);
                Deliverer deliverer = outbox.deliverer(transport, 1000)) {
            // 1. Sign and enqueue: durable on disk when enqueue returns, whatever the network does.
            LocalReceipt local = outbox.enqueue(recordId, signer.sign(Files.readAllBytes(Paths.get(args[4]))));
            System.out.println("enqueued " + recordId + " as sequence " + local.sequence());
            deliverer.wakeUp();
            // 2. The background deliverer sends it (retrying while the hub is unreachable).
            long deadline = System.currentTimeMillis() + 30000;
            OutboxStatus status = outbox.status();
            while (status.delivered() == 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
                status = outbox.status();
            }
            System.out.println(status);
            if (status.delivered() == 0) {
                System.err.println("not delivered yet: " + deliverer.lastReport());
                System.exit(1);
            }
            // 3. Check the hub's receipt: signed by the hub, in its ledger, for exactly this envelope.
            Outbox.StoredReceipt kept = outbox.receipt(recordId);
            try (Key receiptKey = Key.load(Files.readAllBytes(facility.resolve("receipt.pub")));
                    Key treeHeadKey = Key.load(Files.readAllBytes(facility.resolve("tree-head.pub")))) {
                Receipt receipt = Receipt.verify(kept.receipt(), kept.inclusionProof(), receiptKey, treeHeadKey, args[2],
                        recordId, local.digest());
                System.out.println("verified " + receipt);
            }
        }
    }
}
