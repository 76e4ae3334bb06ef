/*
 * medseal C ABI: the shared smoke scenario (tests/smoke/README.md), which every binding runs
 * with the same fixed inputs and expected outputs: canonicalize, sign (byte-identical JWS:
 * Ed25519 is deterministic and the signing time fixed), verify, sign and seal, open, open and
 * verify, and one refusal at each step. Run from the repository root (tests/c/run.sh does).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "medseal.h"

#define SMOKE "tests/smoke/"

typedef struct {
    uint8_t *data;
    size_t len;
} file_bytes;

/* A whole file of tests/smoke; the scenario cannot run without it, so a missing one stops it. */
static file_bytes smoke_file(const char *name) {
    char path[256];
    snprintf(path, sizeof path, SMOKE "%s", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "FATAL: cannot open %s (run from the repository root)\n", path);
        exit(2);
    }
    file_bytes b = {NULL, 0};
    size_t cap = 4096;
    b.data = xmalloc(cap);
    for (size_t n; (n = fread(b.data + b.len, 1, cap - b.len, f)) > 0;) {
        b.len += n;
        if (b.len == cap) {
            uint8_t *bigger = realloc(b.data, cap *= 2);
            if (bigger == NULL) {
                abort();
            }
            b.data = bigger;
        }
    }
    fclose(f);
    return b;
}

/* A one-line text file of tests/smoke without its line end, NUL-terminated; free() it. */
static char *smoke_line(const char *name) {
    file_bytes b = smoke_file(name);
    while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r')) {
        b.len--;
    }
    char *s = xmalloc(b.len + 1);
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    free(b.data);
    return s;
}

/* The value of `key=` in tests/smoke/seal.txt, NUL-terminated; free() it. */
static char *seal_value(const char *key) {
    file_bytes b = smoke_file("seal.txt");
    char *text = xmalloc(b.len + 1), *value = NULL;
    memcpy(text, b.data, b.len);
    text[b.len] = '\0';
    for (char *line = strtok(text, "\n"); line != NULL && value == NULL; line = strtok(NULL, "\n")) {
        size_t k = strlen(key);
        if (strncmp(line, key, k) == 0 && line[k] == '=') {
            value = strdup(line + k + 1);
        }
    }
    free(text);
    free(b.data);
    if (value == NULL) {
        fprintf(stderr, "FATAL: no %s= in " SMOKE "seal.txt\n", key);
        exit(2);
    }
    return value;
}

static file_bytes patient, patient_nfd, canonical, flattened, compact, signer_pem, signer_pub_pem, recipient_pem,
    recipient_pub_pem;
static char *kid, *recipient_kid, *sigt;

/* The verified record is the canonical patient, signed by the smoke key at the fixed time. */
static void check_verified(const medseal_verified *verified) {
    const uint8_t *data = NULL;
    size_t len = 0;
    uint32_t alg = 0;
    if (CHECK_OK(medseal_verified_payload(verified, &data, &len))) {
        CHECK_BYTES(data, len, canonical.data, canonical.len);
    }
    if (CHECK_OK(medseal_verified_key_id(verified, &data, &len))) {
        CHECK_MEM(data, len, kid);
    }
    if (CHECK_OK(medseal_verified_signing_time(verified, &data, &len))) {
        CHECK_MEM(data, len, sigt);
    }
    if (CHECK_OK(medseal_verified_algorithm(verified, &alg))) {
        CHECK(alg == MEDSEAL_ALG_EDDSA);
    }
}

/* 1. canonicalize */
static void test_canon(void) {
    medseal_buffer *out = NULL;
    if (CHECK_OK(medseal_json_canonicalize(patient.data, patient.len, 0, &out))) {
        CHECK_BYTES(medseal_buffer_data(out), medseal_buffer_len(out), canonical.data, canonical.len);
    }
    medseal_buffer_free(out);
    out = NULL;
    CHECK_RC(medseal_json_canonicalize(patient_nfd.data, patient_nfd.len, 0, &out), MEDSEAL_JSON_NOT_NFC);
    CHECK(out == NULL);
    if (CHECK_OK(medseal_json_canonicalize(patient_nfd.data, patient_nfd.len, MEDSEAL_CANON_NORMALIZE_NFC, &out))) {
        CHECK_BYTES(medseal_buffer_data(out), medseal_buffer_len(out), canonical.data, canonical.len);
    }
    medseal_buffer_free(out);
}

/* 2.-3. sign (byte-identical), verify, and a changed signature refused */
static void test_sign_verify(void) {
    medseal_key *key = NULL, *public_key = NULL;
    medseal_buffer *kid_buf = NULL, *jws = NULL, *jws_compact = NULL;
    medseal_signer_builder *builder = NULL;
    medseal_signer *signer = NULL;
    medseal_verifier_builder *vbuilder = NULL;
    medseal_verifier *verifier = NULL;
    medseal_verified *verified = NULL;
    char *unix_text = smoke_line("sigt.unix");

    REQUIRE_OK(medseal_key_import(signer_pem.data, signer_pem.len, MEDSEAL_ALG_FROM_KEY, &key));
    if (CHECK_OK(medseal_key_kid(key, &kid_buf))) {
        CHECK_BUF(kid_buf, kid);
        CHECK(medseal_buffer_len(kid_buf) == medseal_key_kid_bytes());
    }
    REQUIRE_OK(medseal_signer_builder_new(key, &builder));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(builder, strtoll(unix_text, NULL, 10)));
    REQUIRE_OK(medseal_signer_builder_build(builder, &signer));
    if (CHECK_OK(medseal_signer_sign(signer, patient.data, patient.len, MEDSEAL_JWS_FLATTENED, &jws))) {
        CHECK_BYTES(medseal_buffer_data(jws), medseal_buffer_len(jws), flattened.data, flattened.len);
    }
    if (CHECK_OK(medseal_signer_sign(signer, patient.data, patient.len, MEDSEAL_JWS_COMPACT, &jws_compact))) {
        CHECK_BYTES(medseal_buffer_data(jws_compact), medseal_buffer_len(jws_compact), compact.data, compact.len);
    }

    REQUIRE_OK(medseal_key_import(signer_pub_pem.data, signer_pub_pem.len, MEDSEAL_ALG_FROM_KEY, &public_key));
    REQUIRE_OK(medseal_verifier_builder_new(&vbuilder));
    REQUIRE_OK(medseal_verifier_builder_add_key(vbuilder, public_key));
    REQUIRE_OK(medseal_verifier_builder_build(vbuilder, &verifier));
    const file_bytes *forms[] = {&flattened, &compact};
    for (size_t i = 0; i < 2; i++) {
        if (CHECK_OK(medseal_verifier_verify(verifier, forms[i]->data, forms[i]->len, &verified))) {
            check_verified(verified);
        }
        medseal_verified_free(verified);
        verified = NULL;
    }
    /* One character of the compact signature changed (the last one, whose low bits are padding
     * in base64url, so the second to last). */
    uint8_t *tampered = xmalloc(compact.len);
    memcpy(tampered, compact.data, compact.len);
    tampered[compact.len - 2] = tampered[compact.len - 2] == 'A' ? 'B' : 'A';
    CHECK_RC(medseal_verifier_verify(verifier, tampered, compact.len, &verified), MEDSEAL_JWS_SIGNATURE_INVALID);
    CHECK(verified == NULL);

    free(tampered);
    free(unix_text);
    medseal_verifier_free(verifier);
    medseal_verifier_builder_free(vbuilder);
    medseal_signer_free(signer);
    medseal_signer_builder_free(builder);
    medseal_buffer_free(jws_compact);
    medseal_buffer_free(jws);
    medseal_buffer_free(kid_buf);
    medseal_key_free(public_key);
    medseal_key_free(key);
}

/* 4.-5. sign and seal, the envelope's meta, open, open and verify, a changed meta refused */
static void test_seal_open(void) {
    medseal_key *key = NULL, *public_key = NULL;
    medseal_signer_builder *builder = NULL;
    medseal_signer *signer = NULL;
    medseal_verifier_builder *vbuilder = NULL;
    medseal_verifier *verifier = NULL;
    medseal_verified *verified = NULL;
    medseal_recipient_key *hub_public = NULL, *hub = NULL;
    medseal_meta *meta = NULL;
    medseal_buffer *sealed = NULL, *meta_json = NULL, *plaintext = NULL, *rkid = NULL;
    medseal_envelope *envelope = NULL, *changed = NULL;
    char *unix_text = smoke_line("sigt.unix"), *record_id = seal_value("record_id"), *source = seal_value("source"),
         *sequence = seal_value("sequence");
    char expect[512];

    REQUIRE_OK(medseal_key_import(signer_pem.data, signer_pem.len, MEDSEAL_ALG_FROM_KEY, &key));
    REQUIRE_OK(medseal_signer_builder_new(key, &builder));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(builder, strtoll(unix_text, NULL, 10)));
    REQUIRE_OK(medseal_signer_builder_build(builder, &signer));
    REQUIRE_OK(medseal_recipient_key_import(recipient_pub_pem.data, recipient_pub_pem.len, &hub_public));
    if (CHECK_OK(medseal_recipient_key_kid(hub_public, &rkid))) {
        CHECK_BUF(rkid, recipient_kid);
    }
    REQUIRE_OK(medseal_meta_new((const uint8_t *)record_id, strlen(record_id), (const uint8_t *)source, strlen(source),
                                strtoull(sequence, NULL, 10), &meta));
    const medseal_recipient_key *recipients[] = {hub_public};
    REQUIRE_OK(medseal_signer_sign_and_seal(signer, patient.data, patient.len, meta, recipients, 1,
                                            MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_JSON, &sealed));
    /* The JSON envelope names its one recipient by kid. */
    snprintf(expect, sizeof expect, "\"recipients\":[{\"enc\":\"");
    CHECK_CONTAINS(medseal_buffer_data(sealed), medseal_buffer_len(sealed), expect);
    snprintf(expect, sizeof expect, "\"kid\":\"%s\"}]", recipient_kid);
    CHECK_CONTAINS(medseal_buffer_data(sealed), medseal_buffer_len(sealed), expect);

    REQUIRE_OK(medseal_envelope_decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed), &envelope));
    if (CHECK_OK(medseal_envelope_meta(envelope, &meta_json))) {
        /* Canonical JSON, members sorted: content_type, created (now), record_id, sequence, source. */
        const char *m = (const char *)medseal_buffer_data(meta_json);
        size_t n = medseal_buffer_len(meta_json);
        CHECK_CONTAINS(m, n, "{\"content_type\":\"application/jose+json\",\"created\":\"");
        snprintf(expect, sizeof expect, "Z\",\"record_id\":\"%s\",\"sequence\":%s,\"source\":\"%s\"}", record_id, sequence,
                 source);
        CHECK_CONTAINS(m, n, expect);
    }
    REQUIRE_OK(medseal_recipient_key_import(recipient_pem.data, recipient_pem.len, &hub));
    if (CHECK_OK(medseal_envelope_open(envelope, hub, &plaintext))) {
        /* The plaintext is the signed record: the expected JWS, byte for byte. */
        CHECK_BYTES(medseal_buffer_data(plaintext), medseal_buffer_len(plaintext), flattened.data, flattened.len);
    }
    REQUIRE_OK(medseal_key_import(signer_pub_pem.data, signer_pub_pem.len, MEDSEAL_ALG_FROM_KEY, &public_key));
    REQUIRE_OK(medseal_verifier_builder_new(&vbuilder));
    REQUIRE_OK(medseal_verifier_builder_add_key(vbuilder, public_key));
    REQUIRE_OK(medseal_verifier_builder_build(vbuilder, &verifier));
    if (CHECK_OK(medseal_envelope_open_verified(envelope, hub, verifier, &verified))) {
        check_verified(verified);
    }

    /* The sequence number changed in the clear meta: the envelope is refused as altered. It no
     * longer matches the envelope's informative info copy, so decoding refuses it already; an
     * envelope without that copy decodes, and then fails to open. */
    char *text = buf_str(sealed), *at = NULL;
    snprintf(expect, sizeof expect, "\"sequence\":%s,", sequence);
    if (CHECK((at = strstr(text, expect)) != NULL)) {
        size_t digits = strlen(sequence);
        at[strlen("\"sequence\":") + digits - 1] = at[strlen("\"sequence\":") + digits - 1] == '9' ? '8' : '9';
        medseal_result rc = medseal_envelope_decode((const uint8_t *)text, strlen(text), &changed);
        if (rc == MEDSEAL_OK) {
            medseal_buffer *none = NULL;
            CHECK_RC(medseal_envelope_open(changed, hub, &none), MEDSEAL_SEAL_DECRYPT_FAILED);
            CHECK(none == NULL);
        } else {
            CHECK_RC(rc, MEDSEAL_SEAL_DECRYPT_FAILED);
            CHECK(changed == NULL);
        }
    }

    free(text);
    free(unix_text);
    free(record_id);
    free(source);
    free(sequence);
    medseal_envelope_free(changed);
    medseal_verified_free(verified);
    medseal_verifier_free(verifier);
    medseal_verifier_builder_free(vbuilder);
    medseal_buffer_free(plaintext);
    medseal_buffer_free(meta_json);
    medseal_envelope_free(envelope);
    medseal_buffer_free(sealed);
    medseal_buffer_free(rkid);
    medseal_meta_free(meta);
    medseal_recipient_key_free(hub);
    medseal_recipient_key_free(hub_public);
    medseal_signer_free(signer);
    medseal_signer_builder_free(builder);
    medseal_key_free(public_key);
    medseal_key_free(key);
}

int main(void) {
    CHECK(medseal_abi_version() == MEDSEAL_ABI_VERSION);
    patient = smoke_file("patient.json");
    patient_nfd = smoke_file("patient_nfd.json");
    canonical = smoke_file("patient.canonical.json");
    flattened = smoke_file("patient.flattened.jws");
    compact = smoke_file("patient.compact.jws");
    signer_pem = smoke_file("signer_ed25519.pem");
    signer_pub_pem = smoke_file("signer_ed25519.pub.pem");
    recipient_pem = smoke_file("recipient_x25519.pem");
    recipient_pub_pem = smoke_file("recipient_x25519.pub.pem");
    kid = smoke_line("kid.txt");
    recipient_kid = smoke_line("recipient_kid.txt");
    sigt = smoke_line("sigt.txt");

    test_canon();
    test_sign_verify();
    test_seal_open();

    file_bytes *all[] = {&patient,    &patient_nfd,       &canonical,     &flattened,        &compact,
                         &signer_pem, &signer_pub_pem, &recipient_pem, &recipient_pub_pem};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        free(all[i]->data);
    }
    free(kid);
    free(recipient_kid);
    free(sigt);
    return check_summary();
}
