package vn.medseal;

import com.sun.jna.Callback;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.Buffer;

/**
 * The C ABI (include/medseal.h), bound with JNA's direct mapping. Internal: use the public classes.
 * Loading happens once, in {@link NativeLoader}; the ABI version is checked right after.
 */
final class Lib {
    private Lib() {}

    /** The path the library was loaded from. */
    static final String PATH;

    static {
        NativeLibrary library = NativeLoader.load();
        Native.register(Lib.class, library);
        PATH = NativeLoader.loadedPath();
        int abi = medseal_abi_version();
        if (abi != Medseal.ABI_VERSION) {
            throw new UnsatisfiedLinkError("medseal: the library at " + PATH + " has ABI version " + abi
                    + " but this binding was written for ABI version " + Medseal.ABI_VERSION
                    + "; use the libmedseal of the same release (or set -D" + NativeLoader.PATH_PROPERTY + ")");
        }
    }

    interface SignCallback extends Callback {
        int invoke(Pointer ctx, Pointer message, SizeT messageLen, Pointer signature, SizeT signatureCap, Pointer signatureLen);
    }

    interface ClockCallback extends Callback {
        long invoke(Pointer ctx);
    }

    // general
    static native Pointer medseal_buffer_data(Pointer buf);
    static native SizeT medseal_buffer_len(Pointer buf);
    static native void medseal_buffer_free(Pointer buf);
    static native int medseal_json_canonicalize(byte[] json, SizeT len, int flags, PointerByReference out);
    static native int medseal_json_canonicalize(Buffer json, SizeT len, int flags, PointerByReference out);
    static native String medseal_result_describe(int code);
    static native String medseal_result_name(int code);
    static native int medseal_last_error_message(Pointer buf, SizeT cap, Pointer len);
    static native String medseal_library_version();
    static native int medseal_abi_version();
    static native SizeT medseal_key_kid_bytes();
    static native SizeT medseal_signer_max_signature_bytes();

    // keys
    static native int medseal_key_generate(int alg, PointerByReference out);
    static native int medseal_key_import(byte[] data, SizeT len, int alg, PointerByReference out);
    static native int medseal_key_export(Pointer key, int format, PointerByReference out);
    static native int medseal_key_kid(Pointer key, PointerByReference out);
    static native int medseal_key_algorithm(Pointer key, Pointer alg);
    static native int medseal_key_has_private(Pointer key, Pointer hasPrivate);
    static native void medseal_key_free(Pointer key);

    // receipts and ledger
    static native int medseal_receipt_verify(byte[] receipt, SizeT receiptLen, byte[] proof, SizeT proofLen,
            Pointer receiptKey, Pointer treeHeadKey, byte[] source, SizeT sourceLen, byte[] recordId, SizeT recordIdLen,
            byte[] digest, SizeT digestLen, PointerByReference out);
    static native int medseal_receipt_ledger_index(Pointer r, Pointer out);
    static native int medseal_receipt_tree_size(Pointer r, Pointer out);
    static native int medseal_receipt_sequence(Pointer r, Pointer out);
    static native int medseal_receipt_received(Pointer r, Pointer out);
    static native int medseal_receipt_record_id(Pointer r, PointerByReference data, Pointer len);
    static native int medseal_receipt_source(Pointer r, PointerByReference data, Pointer len);
    static native int medseal_receipt_digest(Pointer r, byte[] digest);
    static native void medseal_receipt_free(Pointer r);
    static native int medseal_ledger_verify_tree_head(byte[] jws, SizeT len, Pointer key, Pointer treeSize, Pointer timestamp, byte[] root);
    static native int medseal_ledger_leaf_hash(byte[] entry, SizeT len, byte[] out);
    static native int medseal_ledger_verify_inclusion(byte[] leaf, long index, long size, byte[] path, SizeT pathLen, byte[] root);
    static native int medseal_ledger_verify_consistency(long first, long second, byte[] firstRoot, byte[] secondRoot, byte[] path, SizeT pathLen);

    // outbox
    static native int medseal_outbox_open(byte[] path, SizeT pathLen, byte[] source, SizeT sourceLen, Pointer recipients, SizeT n, PointerByReference out);
    static native int medseal_outbox_open_with_signing_keys(byte[] path, SizeT pathLen, byte[] source, SizeT sourceLen, Pointer recipients, SizeT n,
            Pointer signingKeys, SizeT nKeys, PointerByReference out);
    static native void medseal_outbox_free(Pointer outbox);
    static native int medseal_outbox_enqueue_signed(Pointer outbox, byte[] recordId, SizeT recordIdLen, byte[] signed, SizeT signedLen, PointerByReference out);
    static native int medseal_outbox_get_receipt(Pointer outbox, byte[] recordId, SizeT len, PointerByReference receipt, PointerByReference proof);
    static native int medseal_outbox_enqueue_sealed(Pointer outbox, byte[] envelope, SizeT len, PointerByReference out);
    static native int medseal_local_receipt_outbox_id(Pointer r, Pointer out);
    static native int medseal_local_receipt_sequence(Pointer r, Pointer out);
    static native int medseal_local_receipt_enqueued_at(Pointer r, Pointer out);
    static native int medseal_local_receipt_already_queued(Pointer r, Pointer out);
    static native int medseal_local_receipt_digest(Pointer r, byte[] out, SizeT cap, Pointer written);
    static native void medseal_local_receipt_free(Pointer r);
    static native int medseal_outbox_get_status(Pointer outbox, PointerByReference out);
    static native int medseal_outbox_status_queued(Pointer s, Pointer out);
    static native int medseal_outbox_status_in_flight(Pointer s, Pointer out);
    static native int medseal_outbox_status_delivered(Pointer s, Pointer out);
    static native int medseal_outbox_status_dead_letter(Pointer s, Pointer out);
    static native int medseal_outbox_status_discarded(Pointer s, Pointer out);
    static native int medseal_outbox_status_next_sequence(Pointer s, Pointer out);
    static native int medseal_outbox_status_oldest_queued_at(Pointer s, Pointer present, Pointer at);
    static native int medseal_outbox_status_next_attempt_at(Pointer s, Pointer present, Pointer at);
    static native void medseal_outbox_status_free(Pointer s);
    static native int medseal_outbox_dead_letter_count(Pointer outbox, Pointer out);
    static native int medseal_outbox_dead_letter_ids(Pointer outbox, long[] ids, SizeT cap, Pointer written);
    static native int medseal_outbox_requeue(Pointer outbox, long id);
    static native int medseal_outbox_discard(Pointer outbox, long id, byte[] why, SizeT len);
    static native int medseal_outbox_withdraw(Pointer outbox, long id, byte[] reason, SizeT len);
    static native int medseal_outbox_withdraw_signed(Pointer outbox, long id, byte[] reason, SizeT len, Pointer signer);
    static native int medseal_outbox_backup(Pointer outbox, byte[] path, SizeT len);

    // recipient keys, meta, envelopes
    static native int medseal_recipient_key_generate(PointerByReference out);
    static native int medseal_recipient_key_import(byte[] data, SizeT len, PointerByReference out);
    static native int medseal_recipient_key_from_raw(byte[] data, SizeT len, int kind, PointerByReference out);
    static native int medseal_recipient_key_export(Pointer key, int format, PointerByReference out);
    static native int medseal_recipient_key_kid(Pointer key, PointerByReference out);
    static native int medseal_recipient_key_has_private(Pointer key, Pointer out);
    static native void medseal_recipient_key_free(Pointer key);
    static native int medseal_meta_new(byte[] recordId, SizeT recordIdLen, byte[] source, SizeT sourceLen, long sequence, PointerByReference out);
    static native int medseal_meta_set_created(Pointer meta, byte[] created, SizeT len);
    static native int medseal_meta_set_content_type(Pointer meta, byte[] type, SizeT len);
    static native void medseal_meta_free(Pointer meta);
    static native int medseal_envelope_seal_into(Buffer plaintext, SizeT len, Pointer meta, Pointer recipients, SizeT n, int aead, Buffer out, SizeT cap, Pointer written);
    static native int medseal_envelope_seal_into(byte[] plaintext, SizeT len, Pointer meta, Pointer recipients, SizeT n, int aead, Pointer out, SizeT cap, Pointer written);
    static native int medseal_envelope_seal(byte[] plaintext, SizeT len, Pointer meta, Pointer recipients, SizeT n, int aead, int encoding, PointerByReference out);
    static native int medseal_signer_sign_and_seal(Pointer signer, byte[] doc, SizeT len, Pointer meta, Pointer recipients, SizeT n, int aead, int encoding, PointerByReference out);
    static native int medseal_envelope_decode(byte[] data, SizeT len, PointerByReference out);
    static native int medseal_envelope_meta(Pointer envelope, PointerByReference out);
    static native int medseal_recipient_key_open_into(Pointer key, byte[] data, SizeT len, Pointer out, SizeT cap, Pointer written);
    static native int medseal_recipient_key_open_into(Pointer key, Buffer data, SizeT len, Buffer out, SizeT cap, Pointer written);
    static native int medseal_envelope_open_into(Pointer envelope, Pointer key, Buffer out, SizeT cap, Pointer written);
    static native int medseal_envelope_open(Pointer envelope, Pointer key, PointerByReference out);
    static native int medseal_envelope_open_verified(Pointer envelope, Pointer key, Pointer verifier, PointerByReference out);
    static native void medseal_envelope_free(Pointer envelope);

    // signers
    static native int medseal_signer_builder_new(Pointer key, PointerByReference out);
    static native int medseal_signer_builder_from_callback(Pointer publicKey, SignCallback callback, Pointer ctx, PointerByReference out);
    static native int medseal_signer_builder_from_pkcs11(byte[] module, SizeT moduleLen, byte[] token, SizeT tokenLen,
            byte[] keyLabel, SizeT keyLabelLen, byte[] pin, SizeT pinLen, int alg, PointerByReference out);
    static native int medseal_signer_builder_set_certificate_chain(Pointer b, byte[] chain, SizeT len);
    static native int medseal_signer_builder_set_max_clock_skew(Pointer b, int seconds);
    static native int medseal_signer_builder_set_clock(Pointer b, ClockCallback now, Pointer ctx);
    static native int medseal_signer_builder_set_kid(Pointer b, byte[] kid, SizeT len);
    static native int medseal_signer_builder_set_commitment(Pointer b, byte[] oid, SizeT len);
    static native int medseal_signer_builder_set_signing_time(Pointer b, long unixSeconds);
    static native int medseal_signer_builder_set_canon_flags(Pointer b, int flags);
    static native int medseal_signer_builder_build(Pointer b, PointerByReference out);
    static native void medseal_signer_builder_free(Pointer b);
    static native int medseal_signer_sign(Pointer signer, byte[] doc, SizeT len, int format, PointerByReference out);
    static native int medseal_signer_public_key(Pointer signer, PointerByReference out);
    static native void medseal_signer_free(Pointer signer);

    // transport and delivery
    static native int medseal_transport_builder_new(byte[] url, SizeT len, PointerByReference out);
    static native int medseal_transport_builder_set_client_certificate(Pointer b, byte[] pem, SizeT len);
    static native int medseal_transport_builder_set_client_key(Pointer b, byte[] pem, SizeT len);
    static native int medseal_transport_builder_set_client_key_pkcs11(Pointer b, byte[] module, SizeT moduleLen, byte[] token,
            SizeT tokenLen, byte[] keyLabel, SizeT keyLabelLen, byte[] pin, SizeT pinLen);
    static native int medseal_transport_builder_set_hub_ca(Pointer b, byte[] pem, SizeT len);
    static native int medseal_transport_builder_set_public_roots(Pointer b, int on);
    static native int medseal_transport_builder_set_receipt_key(Pointer b, Pointer key);
    static native int medseal_transport_builder_set_tree_head_key(Pointer b, Pointer key);
    static native int medseal_transport_builder_set_facility_dir(Pointer b, byte[] path, SizeT len);
    static native int medseal_transport_builder_set_connect_timeout_ms(Pointer b, int ms);
    static native int medseal_transport_builder_set_timeout_ms(Pointer b, int ms);
    static native int medseal_transport_builder_set_batch_size(Pointer b, int records);
    static native int medseal_transport_builder_set_proxy(Pointer b, byte[] url, SizeT len);
    static native int medseal_transport_builder_set_proxy_from_env(Pointer b, int on);
    static native int medseal_transport_builder_build(Pointer b, PointerByReference out);
    static native void medseal_transport_builder_free(Pointer b);
    static native void medseal_transport_free(Pointer t);
    static native int medseal_outbox_deliver(Pointer outbox, Pointer transport, PointerByReference out);
    static native int medseal_delivery_report_delivered(Pointer r, Pointer out);
    static native int medseal_delivery_report_duplicates(Pointer r, Pointer out);
    static native int medseal_delivery_report_dead_letters(Pointer r, Pointer out);
    static native int medseal_delivery_report_retried(Pointer r, Pointer out);
    static native int medseal_delivery_report_next_attempt_at(Pointer r, Pointer present, Pointer at);
    static native int medseal_delivery_report_last_error(Pointer r, Pointer code, PointerByReference message, Pointer len);
    static native void medseal_delivery_report_free(Pointer r);
    static native int medseal_deliverer_start(Pointer outbox, Pointer transport, int pollMs, PointerByReference out);
    static native void medseal_deliverer_notify(Pointer d);
    static native void medseal_deliverer_stop(Pointer d);
    static native int medseal_deliverer_last_report(Pointer d, PointerByReference out);
    static native void medseal_deliverer_free(Pointer d);

    // trust lists
    static native int medseal_trust_list_verify(byte[] jws, SizeT len, Pointer listKey, long now, long minSequence, PointerByReference out);
    static native int medseal_trust_list_sequence(Pointer l, Pointer out);
    static native int medseal_trust_list_expires(Pointer l, Pointer out);
    static native int medseal_trust_list_entry_count(Pointer l, Pointer out);
    static native int medseal_trust_list_sign(byte[] json, SizeT len, Pointer key, PointerByReference out);
    static native void medseal_trust_list_free(Pointer l);

    // verifiers
    static native int medseal_verifier_builder_new(PointerByReference out);
    static native int medseal_verifier_builder_add_key(Pointer b, Pointer key);
    static native int medseal_verifier_builder_add_trust_anchors(Pointer b, byte[] anchors, SizeT len);
    static native int medseal_verifier_builder_set_trust_list(Pointer b, Pointer list);
    static native int medseal_verifier_builder_set_canon_flags(Pointer b, int flags);
    static native int medseal_verifier_builder_build(Pointer b, PointerByReference out);
    static native void medseal_verifier_builder_free(Pointer b);
    static native int medseal_verifier_verify(Pointer v, byte[] jws, SizeT len, PointerByReference out);
    static native int medseal_verifier_verify_detached(Pointer v, byte[] jws, SizeT len, byte[] payload, SizeT payloadLen, int kind, PointerByReference out);
    static native int medseal_verifier_verify_record(Pointer v, byte[] jws, SizeT len, PointerByReference out);
    static native void medseal_verifier_free(Pointer v);
    static native int medseal_verified_payload(Pointer v, PointerByReference data, Pointer len);
    static native int medseal_verified_key_id(Pointer v, PointerByReference data, Pointer len);
    static native int medseal_verified_signing_time(Pointer v, PointerByReference data, Pointer len);
    static native int medseal_verified_header(Pointer v, PointerByReference data, Pointer len);
    static native int medseal_verified_algorithm(Pointer v, Pointer alg);
    static native int medseal_verified_trusted_by(Pointer v, Pointer kind);
    static native int medseal_verified_signer(Pointer v, PointerByReference data, Pointer len);
    static native void medseal_verified_free(Pointer v);
}
