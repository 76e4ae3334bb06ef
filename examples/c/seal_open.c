/*
 * seal_open.c -- a hospital signs and seals a record to the hub; the hub opens and verifies it.
 *
 *   seal_open [json|protobuf]
 *
 * Both sides run in this one program to keep it short; in real life they share only public
 * keys (each side's public half, as SPKI PEM here) and the sealed envelope bytes.
 *
 *   hospital: canonicalize + sign the record (JWS, its Ed25519 key), then seal the JWS with HPKE
 *             to the hub's X25519 public key, with routing metadata in clear (bound to it);
 *   hub:      decode the envelope, read the metadata (no key needed: routing, deduplication),
 *             open it with its X25519 private key and verify the signature.
 *
 * Build (from the medseal repository, after `cargo build --lib`):
 *
 *   cc -std=c11 -Iinclude examples/c/seal_open.c -Ltarget/debug -lmedseal \
 *      -Wl,-rpath,"$PWD/target/debug" -o seal_open
 *
 * Conventions as in sign_verify.c: MEDSEAL_OK or an error code, the detail from
 * medseal_last_error_message() read right away, outputs written only on success, _free(NULL)
 * a no-op.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medseal.h"

static const char RECORD[] = "{\"resourceType\": \"Observation\", \"id\": \"obs-8841\", \"status\": \"final\",\n"
                             " \"code\": {\"text\": \"HbA1c\"}, \"valueQuantity\": {\"value\": 6.1, \"unit\": \"%\"}}\n";

/* Prints "medseal: <what> failed: <NAME> (<code>): <message>" (the message, truncated if long). */
static void print_error(const char *what, medseal_result rc) {
    char message[512] = "";
    size_t len = 0;
    medseal_result mrc = medseal_last_error_message((uint8_t *)message, sizeof message, &len);
    if (mrc != MEDSEAL_OK) {
        snprintf(message, sizeof message, "(message unavailable: %s)", medseal_result_name(mrc));
    }
    fprintf(stderr, "medseal: %s failed: %s (%d): %s\n", what, medseal_result_name(rc), (int)rc, message);
}

/* Runs a medseal call; on error prints it and jumps to the cleanup. */
#define TRY(what, call)                       \
    do {                                      \
        medseal_result rc_ = (call);          \
        if (rc_ != MEDSEAL_OK) {              \
            print_error((what), rc_);         \
            goto done;                        \
        }                                     \
    } while (0)

static void print_buffer(const char *label, const medseal_buffer *buf) {
    printf("%s: %.*s\n", label, (int)medseal_buffer_len(buf), (const char *)medseal_buffer_data(buf));
}

int main(int argc, char **argv) {
    int status = EXIT_FAILURE;
    uint32_t encoding = MEDSEAL_ENVELOPE_JSON;
    if (argc == 2 && strcmp(argv[1], "protobuf") == 0) {
        encoding = MEDSEAL_ENVELOPE_PROTOBUF;
    } else if (argc > 2 || (argc == 2 && strcmp(argv[1], "json") != 0)) {
        fprintf(stderr, "usage: %s [json|protobuf]\n", argv[0]);
        return EXIT_FAILURE;
    }

    /* Every handle starts NULL and is freed once at the end. */
    medseal_recipient_key *hub_key = NULL, *hub_public = NULL;
    medseal_key *hospital_key = NULL, *hospital_public = NULL;
    medseal_buffer *hub_public_pem = NULL, *hospital_public_pem = NULL, *sealed = NULL, *meta_json = NULL,
                   *canonical = NULL;
    medseal_signer_builder *signer_builder = NULL;
    medseal_signer *signer = NULL;
    medseal_meta *meta = NULL;
    medseal_verifier_builder *verifier_builder = NULL;
    medseal_verifier *verifier = NULL;
    medseal_envelope *envelope = NULL;
    medseal_verified *verified = NULL;
    const uint8_t *data = NULL; /* borrowed from `verified` */
    size_t len = 0;

    /* 1. Set-up, once. The hub makes its X25519 key pair and publishes the public key; the
     *    hospital has its signing key and publishes its public half. (Keys come from key stores
     *    in production; they are generated here so the example runs anywhere.) */
    TRY("generating the hub key", medseal_recipient_key_generate(&hub_key));
    TRY("exporting the hub public key", medseal_recipient_key_export(hub_key, MEDSEAL_KEY_FORMAT_SPKI_PEM, &hub_public_pem));
    TRY("generating the hospital key", medseal_key_generate(MEDSEAL_ALG_EDDSA, &hospital_key));
    TRY("exporting the hospital public key", medseal_key_export(hospital_key, MEDSEAL_KEY_FORMAT_SPKI_PEM, &hospital_public_pem));
    print_buffer("hub public key", hub_public_pem);

    /* 2. Hospital: a signer (built once, shared by threads) and the hub's public key. */
    TRY("starting the signer", medseal_signer_builder_new(hospital_key, &signer_builder));
    TRY("building the signer", medseal_signer_builder_build(signer_builder, &signer));
    TRY("importing the hub public key",
        medseal_recipient_key_import(medseal_buffer_data(hub_public_pem), medseal_buffer_len(hub_public_pem), &hub_public));

    /* 3. Hospital, per record: routing metadata (record id, sending facility, per-source
     *    sequence number; created = now), then sign and seal in one call. More recipients (an
     *    insurer, a registry) go in the same array: each opens the envelope with its own key. */
    static const char record_id[] = "rec-2025-000123", source[] = "bv-cho-ray";
    TRY("making the metadata", medseal_meta_new((const uint8_t *)record_id, strlen(record_id), (const uint8_t *)source,
                                                strlen(source), 42, &meta));
    const medseal_recipient_key *recipients[] = {hub_public};
    TRY("sealing", medseal_signer_sign_and_seal(signer, (const uint8_t *)RECORD, strlen(RECORD), meta, recipients, 1,
                                                MEDSEAL_AEAD_AES_256_GCM, encoding, &sealed));
    if (encoding == MEDSEAL_ENVELOPE_JSON) {
        print_buffer("envelope", sealed);
    } else {
        printf("envelope: %zu bytes of protobuf medseal.v1.SealedRecord\n", medseal_buffer_len(sealed));
    }

    /* --- the envelope travels to the hub: only `sealed` crosses the wire --- */

    /* 4. Hub: decode (JSON or protobuf, detected) and read the metadata without any key. It is
     *    authenticated only by the opening below: any change to it makes opening fail. */
    TRY("decoding the envelope", medseal_envelope_decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed), &envelope));
    TRY("reading the metadata", medseal_envelope_meta(envelope, &meta_json));
    print_buffer("meta", meta_json);

    /* 5. Hub: a verifier trusting the hospital's published public key, then open + verify. */
    TRY("importing the hospital public key",
        medseal_key_import(medseal_buffer_data(hospital_public_pem), medseal_buffer_len(hospital_public_pem),
                           MEDSEAL_ALG_FROM_KEY, &hospital_public));
    TRY("starting the verifier", medseal_verifier_builder_new(&verifier_builder));
    TRY("trusting the hospital key", medseal_verifier_builder_add_key(verifier_builder, hospital_public));
    TRY("building the verifier", medseal_verifier_builder_build(verifier_builder, &verifier));
    /* Errors here: MEDSEAL_SEAL_WRONG_RECIPIENT (not for this hub), MEDSEAL_SEAL_DECRYPT_FAILED
     * (altered on the way), MEDSEAL_JWS_SIGNATURE_INVALID (not signed by a trusted key). */
    TRY("opening and verifying", medseal_envelope_open_verified(envelope, hub_key, verifier, &verified));
    printf("verified: yes\n");
    TRY("reading the signer", medseal_verified_key_id(verified, &data, &len));
    printf("signed by: %.*s\n", (int)len, (const char *)data);
    TRY("reading the record", medseal_verified_payload(verified, &data, &len));
    printf("record: %.*s\n", (int)len, (const char *)data);

    /* The record received is exactly the canonical form of the record sent. */
    TRY("canonicalizing", medseal_json_canonicalize((const uint8_t *)RECORD, strlen(RECORD), 0, &canonical));
    if (len != medseal_buffer_len(canonical) || memcmp(data, medseal_buffer_data(canonical), len) != 0) {
        fprintf(stderr, "the opened record differs from the canonical record sent\n");
        goto done;
    }
    status = EXIT_SUCCESS;

done:
    medseal_verified_free(verified);
    medseal_envelope_free(envelope);
    medseal_verifier_free(verifier);
    medseal_verifier_builder_free(verifier_builder);
    medseal_meta_free(meta);
    medseal_signer_free(signer);
    medseal_signer_builder_free(signer_builder);
    medseal_buffer_free(canonical);
    medseal_buffer_free(meta_json);
    medseal_buffer_free(sealed);
    medseal_buffer_free(hospital_public_pem);
    medseal_buffer_free(hub_public_pem);
    medseal_key_free(hospital_public);
    medseal_key_free(hospital_key);
    medseal_recipient_key_free(hub_public);
    medseal_recipient_key_free(hub_key);
    return status;
}
