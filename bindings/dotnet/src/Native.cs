// The P/Invoke declarations of include/medseal.h (ABI 1), the SafeHandle subclasses (one per
// handle type) and the loader that finds libmedseal before the first call.
using System;
using System.IO;
using System.Reflection;
using System.Runtime.ConstrainedExecution;
using System.Runtime.InteropServices;
using System.Security;
using Microsoft.Win32.SafeHandles;

namespace Medseal
{
    // ---- handles: each releases its pointer exactly once, on whatever thread (the finalizer's too) ----

    /// <summary>Base of the handle classes: owns one medseal pointer, freed once by its subclass.</summary>
    public abstract class MedsealHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        protected MedsealHandle() : base(true) { }
    }

    public sealed class BufferHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_buffer_free(handle); return true; } }
    public sealed class KeyHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_key_free(handle); return true; } }
    public sealed class RecipientKeyHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_recipient_key_free(handle); return true; } }
    public sealed class MetaHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_meta_free(handle); return true; } }
    public sealed class EnvelopeHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_envelope_free(handle); return true; } }
    public sealed class VerifierBuilderHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_verifier_builder_free(handle); return true; } }
    public sealed class VerifierHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_verifier_free(handle); return true; } }
    public sealed class VerifiedHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_verified_free(handle); return true; } }
    public sealed class TrustListHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_trust_list_free(handle); return true; } }
    public sealed class OutboxHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_outbox_free(handle); return true; } }
    public sealed class OutboxStatusHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_outbox_status_free(handle); return true; } }
    public sealed class LocalReceiptHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_local_receipt_free(handle); return true; } }
    public sealed class TransportBuilderHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_transport_builder_free(handle); return true; } }
    public sealed class TransportHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_transport_free(handle); return true; } }
    public sealed class DeliveryReportHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_delivery_report_free(handle); return true; } }
    public sealed class DelivererHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_deliverer_free(handle); return true; } }
    public sealed class ReceiptHandle : MedsealHandle { protected override bool ReleaseHandle() { NativeMethods.medseal_receipt_free(handle); return true; } }

    /// <summary>A signer builder. It holds the host callbacks (and so keeps them alive) while native code may call them.</summary>
    public sealed class SignerBuilderHandle : MedsealHandle
    {
        internal object Callbacks;
        protected override bool ReleaseHandle() { NativeMethods.medseal_signer_builder_free(handle); Callbacks = null; return true; }
    }

    /// <summary>A signer. It holds the host callbacks (sign, clock) until the native signer is freed.</summary>
    public sealed class SignerHandle : MedsealHandle
    {
        internal object Callbacks;
        protected override bool ReleaseHandle() { NativeMethods.medseal_signer_free(handle); Callbacks = null; return true; }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int NativeSignCallback(IntPtr ctx, IntPtr message, UIntPtr messageLen, IntPtr signature, UIntPtr signatureCap, IntPtr signatureLen);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate long NativeClockCallback(IntPtr ctx);

    // ---- the declarations ----------------------------------------------------------------------------

    [SuppressUnmanagedCodeSecurity]
    internal static class NativeMethods
    {
        internal const string Lib = "medseal";
        private const CallingConvention C = CallingConvention.Cdecl;

        [DllImport(Lib, CallingConvention = C)] internal static extern uint medseal_abi_version();
        [DllImport(Lib, CallingConvention = C)] internal static extern IntPtr medseal_library_version();
        [DllImport(Lib, CallingConvention = C)] internal static extern IntPtr medseal_result_name(int code);
        [DllImport(Lib, CallingConvention = C)] internal static extern IntPtr medseal_result_describe(int code);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_last_error_message(byte[] buf, UIntPtr cap, out UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern UIntPtr medseal_signer_max_signature_bytes();
        [DllImport(Lib, CallingConvention = C)] internal static extern UIntPtr medseal_key_kid_bytes();

        [DllImport(Lib, CallingConvention = C)] internal static extern IntPtr medseal_buffer_data(BufferHandle buf);
        [DllImport(Lib, CallingConvention = C)] internal static extern UIntPtr medseal_buffer_len(BufferHandle buf);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_buffer_free(IntPtr buf);

        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_json_canonicalize(byte[] json, UIntPtr len, uint flags, out BufferHandle output);

        // keys
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_key_generate(uint alg, out KeyHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_key_import(byte[] data, UIntPtr len, uint alg, out KeyHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_key_export(KeyHandle key, uint format, out BufferHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_key_kid(KeyHandle key, out BufferHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_key_algorithm(KeyHandle key, out uint alg);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_key_has_private(KeyHandle key, out uint hasPrivate);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_key_free(IntPtr key);

        // recipient keys, meta, envelopes
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_recipient_key_generate(out RecipientKeyHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_recipient_key_import(byte[] data, UIntPtr len, out RecipientKeyHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_recipient_key_from_raw(byte[] data, UIntPtr len, uint kind, out RecipientKeyHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_recipient_key_export(RecipientKeyHandle key, uint format, out BufferHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_recipient_key_kid(RecipientKeyHandle key, out BufferHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_recipient_key_has_private(RecipientKeyHandle key, out uint hasPrivate);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_recipient_key_free(IntPtr key);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_meta_new(byte[] recordId, UIntPtr recordIdLen, byte[] source, UIntPtr sourceLen, ulong sequence, out MetaHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_meta_set_created(MetaHandle meta, byte[] created, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_meta_set_content_type(MetaHandle meta, byte[] contentType, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_meta_free(IntPtr meta);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_envelope_seal(byte[] plaintext, UIntPtr len, MetaHandle meta, IntPtr[] recipients, UIntPtr recipientsLen, uint aead, uint encoding, out BufferHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_envelope_seal_into(byte[] plaintext, UIntPtr len, MetaHandle meta, IntPtr[] recipients, UIntPtr recipientsLen, uint aead, byte[] output, UIntPtr cap, out UIntPtr written);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_sign_and_seal(SignerHandle signer, byte[] document, UIntPtr len, MetaHandle meta, IntPtr[] recipients, UIntPtr recipientsLen, uint aead, uint encoding, out BufferHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_envelope_decode(byte[] data, UIntPtr len, out EnvelopeHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_envelope_meta(EnvelopeHandle envelope, out BufferHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_recipient_key_open_into(RecipientKeyHandle key, byte[] data, UIntPtr len, byte[] output, UIntPtr cap, out UIntPtr written);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_envelope_open_into(EnvelopeHandle envelope, RecipientKeyHandle key, byte[] output, UIntPtr cap, out UIntPtr written);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_envelope_open(EnvelopeHandle envelope, RecipientKeyHandle key, out BufferHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_envelope_open_verified(EnvelopeHandle envelope, RecipientKeyHandle key, VerifierHandle verifier, out VerifiedHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_envelope_free(IntPtr envelope);

        // signers
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_new(KeyHandle key, out SignerBuilderHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_from_callback(KeyHandle publicKey, NativeSignCallback callback, IntPtr ctx, out SignerBuilderHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_from_pkcs11(byte[] module, UIntPtr moduleLen, byte[] token, UIntPtr tokenLen, byte[] keyLabel, UIntPtr keyLabelLen, byte[] pin, UIntPtr pinLen, uint alg, out SignerBuilderHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_set_certificate_chain(SignerBuilderHandle builder, byte[] chain, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_set_max_clock_skew(SignerBuilderHandle builder, uint seconds);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_set_clock(SignerBuilderHandle builder, NativeClockCallback now, IntPtr ctx);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_set_kid(SignerBuilderHandle builder, byte[] kid, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_set_commitment(SignerBuilderHandle builder, byte[] oid, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_set_signing_time(SignerBuilderHandle builder, long unixSeconds);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_set_canon_flags(SignerBuilderHandle builder, uint flags);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_builder_build(SignerBuilderHandle builder, out SignerHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_signer_builder_free(IntPtr builder);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_sign(SignerHandle signer, byte[] document, UIntPtr len, uint format, out IntPtr output);
        [DllImport(Lib, CallingConvention = C)] internal static extern IntPtr medseal_buffer_data(IntPtr buf);
        [DllImport(Lib, CallingConvention = C)] internal static extern UIntPtr medseal_buffer_len(IntPtr buf);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_signer_public_key(SignerHandle signer, out KeyHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_signer_free(IntPtr signer);

        // verifiers, trust lists
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verifier_builder_new(out VerifierBuilderHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verifier_builder_add_key(VerifierBuilderHandle builder, KeyHandle key);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verifier_builder_add_trust_anchors(VerifierBuilderHandle builder, byte[] anchors, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verifier_builder_set_trust_list(VerifierBuilderHandle builder, TrustListHandle list);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verifier_builder_set_canon_flags(VerifierBuilderHandle builder, uint flags);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verifier_builder_build(VerifierBuilderHandle builder, out VerifierHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_verifier_builder_free(IntPtr builder);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verifier_verify(VerifierHandle verifier, byte[] jws, UIntPtr len, out VerifiedHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verifier_verify_detached(VerifierHandle verifier, byte[] jws, UIntPtr len, byte[] payload, UIntPtr payloadLen, uint kind, out VerifiedHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verifier_verify_record(VerifierHandle verifier, byte[] jws, UIntPtr len, out VerifiedHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_verifier_free(IntPtr verifier);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verified_payload(VerifiedHandle v, out IntPtr data, out UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verified_key_id(VerifiedHandle v, out IntPtr data, out UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verified_signing_time(VerifiedHandle v, out IntPtr data, out UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verified_header(VerifiedHandle v, out IntPtr data, out UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verified_algorithm(VerifiedHandle v, out uint alg);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verified_trusted_by(VerifiedHandle v, out uint kind);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_verified_signer(VerifiedHandle v, out IntPtr data, out UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_verified_free(IntPtr verified);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_trust_list_verify(byte[] jws, UIntPtr len, KeyHandle listKey, long now, ulong minSequence, out TrustListHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_trust_list_sequence(TrustListHandle list, out ulong sequence);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_trust_list_expires(TrustListHandle list, out long expires);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_trust_list_entry_count(TrustListHandle list, out UIntPtr count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_trust_list_sign(byte[] json, UIntPtr len, KeyHandle key, out BufferHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_trust_list_free(IntPtr list);

        // outbox and delivery
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_open(byte[] path, UIntPtr pathLen, byte[] source, UIntPtr sourceLen, IntPtr[] recipients, UIntPtr n, out OutboxHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_open_with_signing_keys(byte[] path, UIntPtr pathLen, byte[] source, UIntPtr sourceLen, IntPtr[] recipients, UIntPtr n, IntPtr[] signingKeys, UIntPtr nKeys, out OutboxHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_outbox_free(IntPtr outbox);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_enqueue_signed(OutboxHandle outbox, byte[] recordId, UIntPtr recordIdLen, byte[] signedRecord, UIntPtr signedRecordLen, out LocalReceiptHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_enqueue_sealed(OutboxHandle outbox, byte[] envelope, UIntPtr len, out LocalReceiptHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_get_receipt(OutboxHandle outbox, byte[] recordId, UIntPtr len, out BufferHandle receipt, out BufferHandle inclusionProof);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_local_receipt_outbox_id(LocalReceiptHandle r, out long id);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_local_receipt_sequence(LocalReceiptHandle r, out ulong sequence);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_local_receipt_enqueued_at(LocalReceiptHandle r, out long at);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_local_receipt_already_queued(LocalReceiptHandle r, out uint already);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_local_receipt_digest(LocalReceiptHandle r, byte[] output, UIntPtr cap, out UIntPtr written);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_local_receipt_free(IntPtr r);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_get_status(OutboxHandle outbox, out OutboxStatusHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_status_queued(OutboxStatusHandle s, out ulong count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_status_in_flight(OutboxStatusHandle s, out ulong count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_status_delivered(OutboxStatusHandle s, out ulong count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_status_dead_letter(OutboxStatusHandle s, out ulong count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_status_discarded(OutboxStatusHandle s, out ulong count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_status_next_sequence(OutboxStatusHandle s, out ulong sequence);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_status_oldest_queued_at(OutboxStatusHandle s, out uint present, out long at);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_status_next_attempt_at(OutboxStatusHandle s, out uint present, out long at);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_outbox_status_free(IntPtr s);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_dead_letter_count(OutboxHandle outbox, out ulong count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_dead_letter_ids(OutboxHandle outbox, long[] ids, UIntPtr cap, out UIntPtr written);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_requeue(OutboxHandle outbox, long id);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_discard(OutboxHandle outbox, long id, byte[] why, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_withdraw(OutboxHandle outbox, long id, byte[] reason, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_withdraw_signed(OutboxHandle outbox, long id, byte[] reason, UIntPtr len, SignerHandle signer);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_backup(OutboxHandle outbox, byte[] path, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_new(byte[] url, UIntPtr len, out TransportBuilderHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_client_certificate(TransportBuilderHandle b, byte[] pem, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_client_key(TransportBuilderHandle b, byte[] pem, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_client_key_pkcs11(TransportBuilderHandle b, byte[] module, UIntPtr moduleLen, byte[] token, UIntPtr tokenLen, byte[] keyLabel, UIntPtr keyLabelLen, byte[] pin, UIntPtr pinLen);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_hub_ca(TransportBuilderHandle b, byte[] pem, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_public_roots(TransportBuilderHandle b, uint on);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_receipt_key(TransportBuilderHandle b, KeyHandle key);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_tree_head_key(TransportBuilderHandle b, KeyHandle key);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_facility_dir(TransportBuilderHandle b, byte[] path, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_connect_timeout_ms(TransportBuilderHandle b, uint ms);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_timeout_ms(TransportBuilderHandle b, uint ms);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_batch_size(TransportBuilderHandle b, uint records);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_proxy(TransportBuilderHandle b, byte[] url, UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_set_proxy_from_env(TransportBuilderHandle b, uint on);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_transport_builder_build(TransportBuilderHandle b, out TransportHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_transport_builder_free(IntPtr b);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_transport_free(IntPtr t);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_outbox_deliver(OutboxHandle outbox, TransportHandle transport, out DeliveryReportHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_delivery_report_delivered(DeliveryReportHandle r, out ulong count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_delivery_report_duplicates(DeliveryReportHandle r, out ulong count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_delivery_report_dead_letters(DeliveryReportHandle r, out ulong count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_delivery_report_retried(DeliveryReportHandle r, out ulong count);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_delivery_report_next_attempt_at(DeliveryReportHandle r, out uint present, out long at);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_delivery_report_last_error(DeliveryReportHandle r, out int code, out IntPtr message, out UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_delivery_report_free(IntPtr r);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_deliverer_start(OutboxHandle outbox, TransportHandle transport, uint pollMs, out DelivererHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_deliverer_notify(DelivererHandle d);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_deliverer_stop(DelivererHandle d);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_deliverer_last_report(DelivererHandle d, out DeliveryReportHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_deliverer_free(IntPtr d);

        // receipts and the ledger
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_receipt_verify(byte[] receipt, UIntPtr receiptLen, byte[] proof, UIntPtr proofLen, KeyHandle receiptKey, KeyHandle treeHeadKey, byte[] source, UIntPtr sourceLen, byte[] recordId, UIntPtr recordIdLen, byte[] digest, UIntPtr digestLen, out ReceiptHandle output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_receipt_ledger_index(ReceiptHandle r, out ulong index);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_receipt_tree_size(ReceiptHandle r, out ulong size);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_receipt_sequence(ReceiptHandle r, out ulong sequence);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_receipt_received(ReceiptHandle r, out long received);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_receipt_record_id(ReceiptHandle r, out IntPtr data, out UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_receipt_source(ReceiptHandle r, out IntPtr data, out UIntPtr len);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_receipt_digest(ReceiptHandle r, byte[] digest);
        [DllImport(Lib, CallingConvention = C)] internal static extern void medseal_receipt_free(IntPtr r);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_ledger_verify_tree_head(byte[] jws, UIntPtr len, KeyHandle key, out ulong treeSize, out long timestamp, byte[] rootHash);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_ledger_leaf_hash(byte[] entry, UIntPtr len, byte[] output);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_ledger_verify_inclusion(byte[] leaf, ulong index, ulong size, byte[] path, UIntPtr pathLen, byte[] root);
        [DllImport(Lib, CallingConvention = C)] internal static extern int medseal_ledger_verify_consistency(ulong first, ulong second, byte[] firstRoot, byte[] secondRoot, byte[] path, UIntPtr pathLen);
    }

    // ---- the loader -----------------------------------------------------------------------------------

    /// <summary>
    /// Finds libmedseal before the first call and checks its ABI version. Order: <c>$MEDSEAL_LIB</c>
    /// (.NET Core and .NET Framework), then beside Medseal.dll, its <c>runtimes/&lt;rid&gt;/native/</c>
    /// and the NuGet package's <c>../../runtimes/&lt;rid&gt;/native/</c>; on Windows <c>x64\</c> or
    /// <c>x86\</c> by <see cref="Environment.Is64BitProcess"/>. On .NET Core 3+ the chosen file is
    /// handed to <c>NativeLibrary</c> through a DllImport resolver; on .NET Framework it is loaded
    /// with LoadLibrary first, so the DllImport finds it by name; on Mono, which probes the
    /// assembly's directory and LD_LIBRARY_PATH itself, Medseal.dll.config maps the name.
    /// </summary>
    internal static class Loader
    {
        private static readonly object Gate = new object();
        private static volatile bool loaded;
        private static Exception failure;
        internal static string ChosenPath;

        internal static void Ensure()
        {
            if (loaded) return;
            lock (Gate)
            {
                if (loaded) return;
                if (failure != null) throw failure;
                try
                {
                    Load();
                    loaded = true;
                }
                catch (MedsealLoadException e) { failure = e; throw; }
            }
        }

        internal static bool IsMono { get { return Type.GetType("Mono.Runtime") != null; } }
        internal static bool IsWindows { get { return Path.DirectorySeparatorChar == '\\'; } }

        private static string FileName { get { return IsWindows ? "medseal.dll" : (IsMac ? "libmedseal.dylib" : "libmedseal.so"); } }
        private static bool IsMac { get { return !IsWindows && Directory.Exists("/System/Library/Frameworks") && !File.Exists("/proc/self/maps"); } }

        private static string Rid
        {
            get
            {
                string arch = Environment.Is64BitProcess ? "x64" : "x86";
                return (IsWindows ? "win-" : IsMac ? "osx-" : "linux-") + arch;
            }
        }

        internal static string[] Candidates()
        {
            var list = new System.Collections.Generic.List<string>();
            string env = Environment.GetEnvironmentVariable("MEDSEAL_LIB");
            if (!string.IsNullOrEmpty(env)) { list.Add(env); return list.ToArray(); }
            string dir = Path.GetDirectoryName(typeof(Loader).Assembly.Location) ?? ".";
            string arch = Environment.Is64BitProcess ? "x64" : "x86";
            list.Add(Path.Combine(dir, FileName));
            if (IsWindows) list.Add(Path.Combine(Path.Combine(dir, arch), FileName));
            list.Add(Path.Combine(dir, "runtimes", Rid, "native", FileName));
            list.Add(Path.GetFullPath(Path.Combine(dir, "..", "..", "runtimes", Rid, "native", FileName)));
            return list.ToArray();
        }

        private static string Find()
        {
            foreach (string c in Candidates())
                if (File.Exists(c)) return c;
            return null;
        }

        private static void Load()
        {
            string env = Environment.GetEnvironmentVariable("MEDSEAL_LIB");
            if (IsMono)
            {
                // Mono resolves the DllImport itself (Medseal.dll.config): beside the assembly first.
                string beside = Path.Combine(Path.GetDirectoryName(typeof(Loader).Assembly.Location) ?? ".", FileName);
                ChosenPath = File.Exists(beside) ? beside : null;
                CheckAbi(ChosenPath);
                return;
            }
            string path = Find();
            if (!string.IsNullOrEmpty(env) && path == null)
                throw new MedsealLoadException("medseal: MEDSEAL_LIB names " + env + ", which does not exist");
            ChosenPath = path;
            if (path != null)
            {
                if (!RegisterCoreResolver(path) && IsWindows)
                {
                    // .NET Framework: load the x86 or x64 DLL by full path; DllImport("medseal") then finds it loaded.
                    if (LoadLibraryW(path) == IntPtr.Zero)
                        throw new MedsealLoadException("medseal: cannot load " + path + " (Windows error " + Marshal.GetLastWin32Error() + ")");
                }
            }
            CheckAbi(path);
        }

        private static void CheckAbi(string path)
        {
            uint abi;
            try
            {
                abi = NativeMethods.medseal_abi_version();
            }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException || e is BadImageFormatException)
            {
                throw new MedsealLoadException("medseal: cannot load the native library (" + FileName + "; looked at " +
                    string.Join(", ", Candidates()) + " and the system's search path): " + e.Message, e);
            }
            if (abi != MedsealLibrary.AbiVersion)
                throw new MedsealAbiException("medseal: the native library " + (path ?? FileName) + " has ABI version " + abi +
                    ", this binding needs ABI version " + MedsealLibrary.AbiVersion, (int)abi);
        }

        // NativeLibrary and DllImportResolver exist from .NET Core 3.0 on; the assembly is compiled
        // against net462, so they are reached through reflection. False where they do not exist.
        private static string resolvedPath;
        private static IntPtr resolvedHandle;

        private static bool RegisterCoreResolver(string path)
        {
            Type nativeLibrary = Type.GetType("System.Runtime.InteropServices.NativeLibrary", false);
            Type resolverType = Type.GetType("System.Runtime.InteropServices.DllImportResolver", false);
            if (nativeLibrary == null || resolverType == null) return false;
            MethodInfo set = nativeLibrary.GetMethod("SetDllImportResolver", new[] { typeof(Assembly), resolverType });
            MethodInfo load = nativeLibrary.GetMethod("Load", new[] { typeof(string) });
            if (set == null || load == null) return false;
            try
            {
                resolvedHandle = (IntPtr)load.Invoke(null, new object[] { path });
            }
            catch (TargetInvocationException e)
            {
                throw new MedsealLoadException("medseal: cannot load " + path + ": " + e.InnerException.Message, e.InnerException);
            }
            resolvedPath = path;
            Delegate resolver = Delegate.CreateDelegate(resolverType, typeof(Loader).GetMethod("Resolve", BindingFlags.NonPublic | BindingFlags.Static));
            try
            {
                set.Invoke(null, new object[] { typeof(Loader).Assembly, resolver });
            }
            catch (TargetInvocationException e) when (e.InnerException is InvalidOperationException)
            {
                // A resolver was set already (an AppDomain-wide host did it): let it decide.
            }
            return true;
        }

        private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
        {
            return name == NativeMethods.Lib && resolvedPath != null ? resolvedHandle : IntPtr.Zero;
        }

        [DllImport("kernel32", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern IntPtr LoadLibraryW(string path);
    }
}
