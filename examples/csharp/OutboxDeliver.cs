// A hospital's outbox with a background deliverer to the hub, and the hub's receipt checked
// (examples/csharp/OutboxDeliver.cs).
//   mono build/dotnet/OutboxDeliver.exe HUB_URL FACILITY_DIR FACILITY_ID OUTBOX.db
// FACILITY_DIR is the hospital's own keys (`medseal facility init`: signing.key, client.key) and
// what `medseal hub enroll --signing-key signing.pub --csr client.csr` wrote beside them: client
// certificate, hub CA, hub keys and the hub's recipient key (hub-recipient.pub).
using System;
using System.IO;
using System.Text;
using System.Threading;
using Medseal;

internal static class OutboxDeliver
{
    private static int Main(string[] args)
    {
        if (args.Length != 4) { Console.Error.WriteLine("usage: OutboxDeliver HUB_URL FACILITY_DIR FACILITY_ID OUTBOX.db"); return 2; }
        string url = args[0], facilityDir = args[1], facility = args[2], path = args[3];
        using (Key signingKey = Key.LoadFile(Path.Combine(facilityDir, "signing.key")))
        using (var signer = new Signer(signingKey))
        using (RecipientKey hub = RecipientKey.LoadFile(Path.Combine(facilityDir, "hub-recipient.pub")))
        // The facility's public signing key: the outbox verifies each record with it before numbering
        // it, so a wrong file is refused without leaving a hole in the numbering.
        using (Key signingPub = Key.LoadFile(Path.Combine(facilityDir, "signing.pub")))
        using (var outbox = new Outbox(path, facility, new[] { hub }, new[] { signingPub }))
        using (var transport = new Transport(url, new TransportOptions { FacilityDir = facilityDir }))
        using (Deliverer deliverer = outbox.StartDeliverer(transport, TimeSpan.FromSeconds(1)))
        {
            string recordId = "enc-" + Guid.NewGuid().ToString("N");
            byte[] record = Encoding.UTF8.GetBytes("{\"resourceType\":\"Encounter\",\"id\":\"" + recordId + "\",\"status\":\"finished\"}");
            LocalReceipt local = outbox.Enqueue(recordId, signer.Sign(record));   // durable once this returns
            deliverer.Notify();
            Console.WriteLine("enqueued {0} as #{1}", recordId, local.Sequence);
            DateTime deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    StoredReceipt stored = outbox.GetReceipt(recordId);
                    using (Key receiptKey = Key.LoadFile(Path.Combine(facilityDir, "receipt.pub")))
                    using (Key treeHeadKey = Key.LoadFile(Path.Combine(facilityDir, "tree-head.pub")))
                    {
                        Receipt receipt = Receipt.Verify(stored.Receipt, stored.InclusionProof, receiptKey, treeHeadKey, facility, recordId, local.Digest);
                        Console.WriteLine("delivered: ledger entry {0} of {1}, received {2:u}", receipt.LedgerIndex, receipt.TreeSize, receipt.Received);
                        return 0;
                    }
                }
                catch (OutboxException e) when (e.Name == "MEDSEAL_OUTBOX_STATE")
                {
                    Thread.Sleep(100); // not delivered yet
                }
            }
            DeliveryReport last = deliverer.LastReport();
            Console.Error.WriteLine("not delivered in 30 s: {0}", last.Error != null ? last.Error.Message : "no error reported");
            return 1;
        }
    }
}
