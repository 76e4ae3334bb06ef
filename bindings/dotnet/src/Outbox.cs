// The durable outbox, the transport to the hub and delivery.
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace Medseal
{
    /// <summary>What an enqueue returns once the record is on disk.</summary>
    public sealed class LocalReceipt
    {
        public long OutboxId { get; internal set; }
        public ulong Sequence { get; internal set; }
        public DateTimeOffset EnqueuedAt { get; internal set; }
        /// <summary>SHA-256 of the protobuf envelope, as the hub receives it (32 bytes).</summary>
        public byte[] Digest { get; internal set; }
        /// <summary>True when the same record was already queued (this is the original receipt).</summary>
        public bool AlreadyQueued { get; internal set; }

        internal static LocalReceipt Read(LocalReceiptHandle h)
        {
            using (h)
            {
                var r = new LocalReceipt();
                long id, at; ulong seq; uint already; UIntPtr written;
                Native.Check(NativeMethods.medseal_local_receipt_outbox_id(h, out id)); r.OutboxId = id;
                Native.Check(NativeMethods.medseal_local_receipt_sequence(h, out seq)); r.Sequence = seq;
                Native.Check(NativeMethods.medseal_local_receipt_enqueued_at(h, out at)); r.EnqueuedAt = Native.FromUnix(at);
                Native.Check(NativeMethods.medseal_local_receipt_already_queued(h, out already)); r.AlreadyQueued = already != 0;
                var digest = new byte[32];
                Native.Check(NativeMethods.medseal_local_receipt_digest(h, digest, (UIntPtr)32, out written));
                r.Digest = digest;
                return r;
            }
        }
    }

    /// <summary>A snapshot of an outbox's counts and times.</summary>
    public sealed class OutboxStatus
    {
        public ulong Queued { get; internal set; }
        public ulong InFlight { get; internal set; }
        public ulong Delivered { get; internal set; }
        public ulong DeadLetter { get; internal set; }
        public ulong Discarded { get; internal set; }
        public ulong NextSequence { get; internal set; }
        public DateTimeOffset? OldestQueuedAt { get; internal set; }
        public DateTimeOffset? NextAttemptAt { get; internal set; }
    }

    /// <summary>What a delivery run did. <see cref="Error"/> is the last transport error of the run (not thrown).</summary>
    public sealed class DeliveryReport
    {
        public ulong Delivered { get; internal set; }
        public ulong Duplicates { get; internal set; }
        public ulong DeadLetters { get; internal set; }
        public ulong Retried { get; internal set; }
        public DateTimeOffset? NextAttemptAt { get; internal set; }
        public MedsealException Error { get; internal set; }

        internal static DeliveryReport Read(DeliveryReportHandle h)
        {
            using (h)
            {
                var r = new DeliveryReport();
                ulong n; uint present; long at; int code; IntPtr msg; UIntPtr len;
                Native.Check(NativeMethods.medseal_delivery_report_delivered(h, out n)); r.Delivered = n;
                Native.Check(NativeMethods.medseal_delivery_report_duplicates(h, out n)); r.Duplicates = n;
                Native.Check(NativeMethods.medseal_delivery_report_dead_letters(h, out n)); r.DeadLetters = n;
                Native.Check(NativeMethods.medseal_delivery_report_retried(h, out n)); r.Retried = n;
                Native.Check(NativeMethods.medseal_delivery_report_next_attempt_at(h, out present, out at));
                if (present != 0) r.NextAttemptAt = Native.FromUnix(at);
                Native.Check(NativeMethods.medseal_delivery_report_last_error(h, out code, out msg, out len));
                if (code != 0) r.Error = MedsealException.Create(code, Native.Utf8.GetString(Native.Borrowed(msg, len)));
                return r;
            }
        }
    }

    /// <summary>The hub's receipt and inclusion proof of a delivered record, as the outbox kept them.</summary>
    public sealed class StoredReceipt
    {
        /// <summary>The receipt (a compact JWS by the hub's receipt key).</summary>
        public byte[] Receipt { get; internal set; }
        /// <summary>The inclusion proof (protobuf medseal.v1.InclusionProof).</summary>
        public byte[] InclusionProof { get; internal set; }
    }

    /// <summary>A durable outbox (an SQLite file). Thread-safe; several processes may open one file.</summary>
    public sealed class Outbox : NativeObject<OutboxHandle>
    {
        /// <summary>Opens (or creates) the outbox at <paramref name="path"/> for facility <paramref name="source"/>,
        /// sealing to <paramref name="recipients"/> (the hub's key first; none: administration only).
        /// It does not verify signatures: an outbox that enqueues signed records should be given the facility's
        /// signing keys (the other constructor).</summary>
        public Outbox(string path, string source, IList<RecipientKey> recipients = null) : base(Open(path, source, recipients, null)) { }

        /// <summary>Opens (or creates) the outbox as the other constructor does, with the facility's own record-signing
        /// keys (<paramref name="signingKeys"/>: 1 to 64, public keys suffice, e.g. the facility directory's signing.pub).
        /// Each signed record is then verified with them before it takes a sequence number: an unsigned file, another
        /// hospital's record or a forged signature is a <see cref="JwsException"/> (e.g.
        /// <c>MEDSEAL_JWS_SIGNATURE_INVALID</c>) and uses no number. Always give them when enqueueing signed records: a
        /// number taken by a record the hub then refuses is a hole in the facility's numbering that only a withdrawal
        /// can explain. <see cref="ArgumentNullException"/> for a null list or key, <see cref="ArgumentException"/> for
        /// an empty list or more than 64 keys.</summary>
        public Outbox(string path, string source, IList<RecipientKey> recipients, IList<Key> signingKeys)
            : base(Open(path, source, recipients, CheckSigningKeys(signingKeys))) { }

        private static IList<Key> CheckSigningKeys(IList<Key> signingKeys)
        {
            if (signingKeys == null) throw new ArgumentNullException("signingKeys");
            if (signingKeys.Count < 1 || signingKeys.Count > 64)
                throw new ArgumentException("an outbox checks records with 1 to 64 signing keys, not " + signingKeys.Count, "signingKeys");
            for (int i = 0; i < signingKeys.Count; i++)
                if (signingKeys[i] == null) throw new ArgumentNullException("signingKeys", "signing key " + i + " is null");
            return signingKeys;
        }

        private static OutboxHandle Open(string path, string source, IList<RecipientKey> recipients, IList<Key> signingKeys)
        {
            Loader.Ensure();
            byte[] p = Native.Bytes(path, "path"), s = Native.Bytes(source, "source");
            using (var keys = RecipientKey.Pin(recipients ?? new RecipientKey[0]))
            {
                OutboxHandle h;
                if (signingKeys == null)
                {
                    Native.Check(NativeMethods.medseal_outbox_open(p, Native.Len(p), s, Native.Len(s),
                        keys.Pointers.Length == 0 ? null : keys.Pointers, (UIntPtr)keys.Pointers.Length, out h));
                    return h;
                }
                var hs = new SafeHandle[signingKeys.Count];
                for (int i = 0; i < hs.Length; i++) hs[i] = signingKeys[i].Handle;
                using (var own = new Native.HandleArray(hs))
                {
                    Native.Check(NativeMethods.medseal_outbox_open_with_signing_keys(p, Native.Len(p), s, Native.Len(s),
                        keys.Pointers.Length == 0 ? null : keys.Pointers, (UIntPtr)keys.Pointers.Length,
                        own.Pointers, (UIntPtr)own.Pointers.Length, out h));
                    return h;
                }
            }
        }

        /// <summary>Seals a signed record (a JWS, flattened or compact) and stores it durably. Bytes that are not a signed
        /// record (<c>typ</c> <c>medseal+jws</c> and a <c>sigT</c>) are a <see cref="JwsException"/> and use no number; an
        /// outbox opened with signing keys also refuses, before numbering, a record that does not verify with them.</summary>
        public LocalReceipt Enqueue(string recordId, byte[] signedRecord)
        {
            byte[] id = Native.Bytes(recordId, "recordId");
            if (signedRecord == null) throw new ArgumentNullException("signedRecord");
            LocalReceiptHandle h;
            Native.Check(NativeMethods.medseal_outbox_enqueue_signed(Handle, id, Native.Len(id), signedRecord, Native.Len(signedRecord), out h));
            return LocalReceipt.Read(h);
        }

        /// <summary>Enqueues an envelope sealed elsewhere (the next sequence number, addressed to the hub).</summary>
        public LocalReceipt EnqueueSealed(byte[] envelope)
        {
            if (envelope == null) throw new ArgumentNullException("envelope");
            LocalReceiptHandle h;
            Native.Check(NativeMethods.medseal_outbox_enqueue_sealed(Handle, envelope, Native.Len(envelope), out h));
            return LocalReceipt.Read(h);
        }

        public OutboxStatus Status()
        {
            OutboxStatusHandle h;
            Native.Check(NativeMethods.medseal_outbox_get_status(Handle, out h));
            using (h)
            {
                var s = new OutboxStatus();
                ulong n; uint present; long at;
                Native.Check(NativeMethods.medseal_outbox_status_queued(h, out n)); s.Queued = n;
                Native.Check(NativeMethods.medseal_outbox_status_in_flight(h, out n)); s.InFlight = n;
                Native.Check(NativeMethods.medseal_outbox_status_delivered(h, out n)); s.Delivered = n;
                Native.Check(NativeMethods.medseal_outbox_status_dead_letter(h, out n)); s.DeadLetter = n;
                Native.Check(NativeMethods.medseal_outbox_status_discarded(h, out n)); s.Discarded = n;
                Native.Check(NativeMethods.medseal_outbox_status_next_sequence(h, out n)); s.NextSequence = n;
                Native.Check(NativeMethods.medseal_outbox_status_oldest_queued_at(h, out present, out at));
                if (present != 0) s.OldestQueuedAt = Native.FromUnix(at);
                Native.Check(NativeMethods.medseal_outbox_status_next_attempt_at(h, out present, out at));
                if (present != 0) s.NextAttemptAt = Native.FromUnix(at);
                return s;
            }
        }

        public ulong DeadLetterCount
        {
            get { ulong n; Native.Check(NativeMethods.medseal_outbox_dead_letter_count(Handle, out n)); return n; }
        }

        /// <summary>The outbox ids of the dead letters, oldest first.</summary>
        public long[] DeadLetters()
        {
            while (true)
            {
                UIntPtr count;
                int r = NativeMethods.medseal_outbox_dead_letter_ids(Handle, null, UIntPtr.Zero, out count);
                if (r == 0) return new long[0];
                if (r != 3) throw Native.Error(r);
                var ids = new long[(int)count.ToUInt64() + 4];
                r = NativeMethods.medseal_outbox_dead_letter_ids(Handle, ids, (UIntPtr)ids.Length, out count);
                if (r == 3) continue; // grew meanwhile
                Native.Check(r);
                Array.Resize(ref ids, (int)count.ToUInt64());
                return ids;
            }
        }

        public void Requeue(long outboxId) { Native.Check(NativeMethods.medseal_outbox_requeue(Handle, outboxId)); }

        public void Discard(long outboxId, string why)
        {
            byte[] w = Native.Bytes(why, "why");
            Native.Check(NativeMethods.medseal_outbox_discard(Handle, outboxId, w, Native.Len(w)));
        }

        public void Withdraw(long outboxId, string reason)
        {
            byte[] w = Native.Bytes(reason, "reason");
            Native.Check(NativeMethods.medseal_outbox_withdraw(Handle, outboxId, w, Native.Len(w)));
        }

        /// <summary>Withdraws record <paramref name="outboxId"/> at the hub too: a tombstone signed with
        /// <paramref name="signer"/>'s key (the facility's record-signing key) over the record's id, sequence, source and
        /// <paramref name="reason"/> is queued in its place, so the hub ledgers the number as withdrawn with the reason
        /// instead of leaving a gap. For a queued record or a dead letter (<c>MEDSEAL_OUTBOX_STATE</c> otherwise, or when
        /// already withdrawn); <paramref name="reason"/> is 1 to 1024 bytes without control characters, and an outbox
        /// opened with signing keys takes only one of them (<c>MEDSEAL_INVALID_ARGUMENT</c>). The original envelope is
        /// kept unchanged. <see cref="ArgumentNullException"/> for a null reason or signer.</summary>
        public void WithdrawSigned(long outboxId, string reason, Signer signer)
        {
            byte[] w = Native.Bytes(reason, "reason");
            if (signer == null) throw new ArgumentNullException("signer");
            Native.Check(NativeMethods.medseal_outbox_withdraw_signed(Handle, outboxId, w, Native.Len(w), signer.Handle));
        }

        /// <summary>Copies the outbox to a new file (SQLite online backup); an existing file is never replaced.</summary>
        public void Backup(string path)
        {
            byte[] p = Native.Bytes(path, "path");
            Native.Check(NativeMethods.medseal_outbox_backup(Handle, p, Native.Len(p)));
        }

        /// <summary>The hub's receipt and proof of a delivered record.</summary>
        public StoredReceipt GetReceipt(string recordId)
        {
            byte[] id = Native.Bytes(recordId, "recordId");
            BufferHandle receipt, proof;
            Native.Check(NativeMethods.medseal_outbox_get_receipt(Handle, id, Native.Len(id), out receipt, out proof));
            return new StoredReceipt { Receipt = Native.Take(receipt), InclusionProof = Native.Take(proof) };
        }

        /// <summary>Delivers every due record through <paramref name="transport"/> (blocks). Transport errors are in the report.</summary>
        public DeliveryReport Deliver(Transport transport)
        {
            if (transport == null) throw new ArgumentNullException("transport");
            DeliveryReportHandle h;
            Native.Check(NativeMethods.medseal_outbox_deliver(Handle, transport.Handle, out h));
            return DeliveryReport.Read(h);
        }

        /// <summary>Starts a background deliverer (runs at once, on <see cref="Deliverer.Notify"/>, and at least every <paramref name="pollInterval"/>).</summary>
        public Deliverer StartDeliverer(Transport transport, TimeSpan? pollInterval = null)
        {
            if (transport == null) throw new ArgumentNullException("transport");
            double ms = (pollInterval ?? TimeSpan.FromSeconds(1)).TotalMilliseconds;
            if (ms < 0 || ms > uint.MaxValue) throw new ArgumentOutOfRangeException("pollInterval");
            DelivererHandle h;
            Native.Check(NativeMethods.medseal_deliverer_start(Handle, transport.Handle, (uint)ms, out h));
            return new Deliverer(h);
        }
    }

    /// <summary>A background delivery thread; <see cref="NativeObject{T}.Dispose"/> stops and frees it.</summary>
    public sealed class Deliverer : NativeObject<DelivererHandle>
    {
        internal Deliverer(DelivererHandle h) : base(h) { }
        public void Notify() { NativeMethods.medseal_deliverer_notify(Handle); }
        /// <summary>Stops the thread (a batch in progress is finished first).</summary>
        public void Stop() { NativeMethods.medseal_deliverer_stop(Handle); }
        public DeliveryReport LastReport()
        {
            DeliveryReportHandle h;
            Native.Check(NativeMethods.medseal_deliverer_last_report(Handle, out h));
            return DeliveryReport.Read(h);
        }
    }

    /// <summary>A TLS client key that stays on a PKCS#11 token (made there by <c>medseal facility init --tls-pkcs11-module M
    /// --tls-pkcs11-token T --tls-key-label L</c>): every TLS handshake is signed on the token (P-256, or RSA with RSA-PSS).</summary>
    public sealed class Pkcs11Key
    {
        /// <param name="module">The PKCS#11 module's path (e.g. SoftHSM2's libsofthsm2.so).</param>
        /// <param name="tokenLabel">The token's label.</param>
        /// <param name="keyLabel">The key's label (CKA_LABEL, unique on the token).</param>
        /// <param name="pin">The user PIN: never in a message or in <see cref="ToString"/>.</param>
        public Pkcs11Key(string module, string tokenLabel, string keyLabel, string pin)
        {
            if (module == null) throw new ArgumentNullException("module");
            if (tokenLabel == null) throw new ArgumentNullException("tokenLabel");
            if (keyLabel == null) throw new ArgumentNullException("keyLabel");
            if (pin == null) throw new ArgumentNullException("pin");
            Module = module; TokenLabel = tokenLabel; KeyLabel = keyLabel; Pin = pin;
        }
        public string Module { get; private set; }
        public string TokenLabel { get; private set; }
        public string KeyLabel { get; private set; }
        internal string Pin { get; private set; }
        public override string ToString() { return "Pkcs11Key(" + Module + ", token " + TokenLabel + ", key " + KeyLabel + ")"; }
    }

    /// <summary>How to reach the hub; every option is optional except what the hub needs (mutual TLS, hub keys).</summary>
    public sealed class TransportOptions
    {
        /// <summary>A facility directory: the hospital's client key (<c>medseal facility init</c>) and what <c>medseal hub enroll</c> wrote beside it (client cert, hub CA, hub keys).</summary>
        public string FacilityDir { get; set; }
        public byte[] ClientCertificate { get; set; }
        /// <summary>The client key (PEM); the transport keeps a wiped copy, this array is not changed.</summary>
        public byte[] ClientKey { get; set; }
        /// <summary>The client key on a PKCS#11 token instead of <see cref="ClientKey"/>; the facility directory then needs no client.key.
        /// A wrong PIN is a <see cref="SignerException"/> (MEDSEAL_PKCS11_PIN) when the transport is made.</summary>
        public Pkcs11Key ClientKeyPkcs11 { get; set; }
        public byte[] HubCa { get; set; }
        public bool PublicRoots { get; set; }
        public Key ReceiptKey { get; set; }
        public Key TreeHeadKey { get; set; }
        public TimeSpan? ConnectTimeout { get; set; }
        public TimeSpan? Timeout { get; set; }
        public int? BatchSize { get; set; }
        public string Proxy { get; set; }
        public bool ProxyFromEnvironment { get; set; }
    }

    /// <summary>The HTTPS connection to the hub (mutual TLS, plain http refused). Immutable and thread-safe.</summary>
    public sealed class Transport : NativeObject<TransportHandle>
    {
        public Transport(string hubUrl, TransportOptions options = null) : base(Build(hubUrl, options ?? new TransportOptions())) { }

        private static uint Ms(TimeSpan t, string what)
        {
            if (t.TotalMilliseconds < 0 || t.TotalMilliseconds > uint.MaxValue) throw new ArgumentOutOfRangeException(what);
            return (uint)t.TotalMilliseconds;
        }

        private static TransportHandle Build(string url, TransportOptions o)
        {
            Loader.Ensure();
            byte[] u = Native.Bytes(url, "hubUrl");
            TransportBuilderHandle b;
            Native.Check(NativeMethods.medseal_transport_builder_new(u, Native.Len(u), out b));
            using (b)
            {
                if (o.ClientKeyPkcs11 != null)
                {
                    // Before the facility directory, which then reads no client.key.
                    Pkcs11Key k = o.ClientKeyPkcs11;
                    byte[] module = Native.Bytes(k.Module, "Module"), tokenLabel = Native.Bytes(k.TokenLabel, "TokenLabel"),
                        keyLabel = Native.Bytes(k.KeyLabel, "KeyLabel"), pin = Native.Bytes(k.Pin, "Pin");
                    try
                    {
                        Native.Check(NativeMethods.medseal_transport_builder_set_client_key_pkcs11(b, module, Native.Len(module),
                            tokenLabel, Native.Len(tokenLabel), keyLabel, Native.Len(keyLabel), pin, Native.Len(pin)));
                    }
                    finally { Array.Clear(pin, 0, pin.Length); }
                }
                if (o.FacilityDir != null)
                {
                    byte[] d = Native.Bytes(o.FacilityDir, "FacilityDir");
                    Native.Check(NativeMethods.medseal_transport_builder_set_facility_dir(b, d, Native.Len(d)));
                }
                if (o.ClientCertificate != null) Native.Check(NativeMethods.medseal_transport_builder_set_client_certificate(b, o.ClientCertificate, Native.Len(o.ClientCertificate)));
                if (o.ClientKey != null) Native.Check(NativeMethods.medseal_transport_builder_set_client_key(b, o.ClientKey, Native.Len(o.ClientKey)));
                if (o.HubCa != null) Native.Check(NativeMethods.medseal_transport_builder_set_hub_ca(b, o.HubCa, Native.Len(o.HubCa)));
                if (o.PublicRoots) Native.Check(NativeMethods.medseal_transport_builder_set_public_roots(b, 1));
                if (o.ReceiptKey != null) Native.Check(NativeMethods.medseal_transport_builder_set_receipt_key(b, o.ReceiptKey.Handle));
                if (o.TreeHeadKey != null) Native.Check(NativeMethods.medseal_transport_builder_set_tree_head_key(b, o.TreeHeadKey.Handle));
                if (o.ConnectTimeout.HasValue) Native.Check(NativeMethods.medseal_transport_builder_set_connect_timeout_ms(b, Ms(o.ConnectTimeout.Value, "ConnectTimeout")));
                if (o.Timeout.HasValue) Native.Check(NativeMethods.medseal_transport_builder_set_timeout_ms(b, Ms(o.Timeout.Value, "Timeout")));
                if (o.BatchSize.HasValue)
                {
                    if (o.BatchSize.Value < 0) throw new ArgumentOutOfRangeException("BatchSize");
                    Native.Check(NativeMethods.medseal_transport_builder_set_batch_size(b, (uint)o.BatchSize.Value));
                }
                if (o.Proxy != null)
                {
                    byte[] p = Native.Bytes(o.Proxy, "Proxy");
                    Native.Check(NativeMethods.medseal_transport_builder_set_proxy(b, p, Native.Len(p)));
                }
                if (o.ProxyFromEnvironment) Native.Check(NativeMethods.medseal_transport_builder_set_proxy_from_env(b, 1));
                TransportHandle t;
                Native.Check(NativeMethods.medseal_transport_builder_build(b, out t));
                return t;
            }
        }
    }
}
