/*
 * medseal C ABI: signer and verifier builders, signing in the four serializations, verifying
 * (attached and detached, BYTES and DOCUMENT payloads), the medseal_verified accessors, every
 * JWS error code, and handle lifetimes (a key freed before what was built from it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "medseal.h"

/* 2026-01-02T03:04:05Z */
#define FIXED_TIME INT64_C(1767323045)
#define FIXED_SIGT "2026-01-02T03:04:05Z"
#define AUTHOR_OID "1.2.840.10065.1.12.1.1"

#define NAME_NFD "Nguye\xCC\x82\xCC\x83n Va\xCC\x86n An"
#define NAME_NFC "Nguy\xE1\xBB\x85n V\xC4\x83n An"

/* A pretty-printed record, and its RFC 8785 form. */
static const char DOC[] = "{\n  \"resourceType\": \"Patient\",\n  \"id\": \"vn-001\",\n  \"name\": [{\"text\": \"" NAME_NFC
                          "\"}],\n  \"birthDate\": \"1985-04-12\"\n}\n";
static const char DOC_CANON[] = "{\"birthDate\":\"1985-04-12\",\"id\":\"vn-001\",\"name\":[{\"text\":\"" NAME_NFC
                                "\"}],\"resourceType\":\"Patient\"}";
static const char DOC_NFD[] = "{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"" NAME_NFD "\"}]}";
static const char DOC_NFD_CANON[] = "{\"name\":[{\"text\":\"" NAME_NFC "\"}],\"resourceType\":\"Patient\"}";

/* ---- small helpers ------------------------------------------------------------------------ */

static char *concat3(const char *a, const char *b, const char *c) {
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = xmalloc(la + lb + lc + 1);
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

static medseal_key *new_key(uint32_t alg) {
    medseal_key *key = NULL;
    REQUIRE_OK(medseal_key_generate(alg, &key));
    return key;
}

static void kid_of(const medseal_key *key, char kid[MEDSEAL_KID_BYTES + 1]) {
    medseal_buffer *buf = NULL;
    REQUIRE_OK(medseal_key_kid(key, &buf));
    CHECK(medseal_buffer_len(buf) == MEDSEAL_KID_BYTES);
    memcpy(kid, medseal_buffer_data(buf), MEDSEAL_KID_BYTES);
    kid[MEDSEAL_KID_BYTES] = '\0';
    medseal_buffer_free(buf);
}

/* A signer for `key` with a fixed signing time, the author commitment and `flags`. */
static medseal_signer *new_signer(const medseal_key *key, uint32_t flags) {
    medseal_signer_builder *b = NULL;
    medseal_signer *s = NULL;
    REQUIRE_OK(medseal_signer_builder_new(key, &b));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
    REQUIRE_OK(medseal_signer_builder_set_commitment(b, (const uint8_t *)AUTHOR_OID, strlen(AUTHOR_OID)));
    REQUIRE_OK(medseal_signer_builder_set_canon_flags(b, flags));
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    medseal_signer_builder_free(b);
    return s;
}

/* A verifier trusting `a` and, if not NULL, `b`. */
static medseal_verifier *new_verifier(const medseal_key *a, const medseal_key *b, uint32_t flags) {
    medseal_verifier_builder *vb = NULL;
    medseal_verifier *v = NULL;
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    REQUIRE_OK(medseal_verifier_builder_add_key(vb, a));
    if (b != NULL) {
        REQUIRE_OK(medseal_verifier_builder_add_key(vb, b));
    }
    REQUIRE_OK(medseal_verifier_builder_set_canon_flags(vb, flags));
    REQUIRE_OK(medseal_verifier_builder_build(vb, &v));
    medseal_verifier_builder_free(vb);
    return v;
}

static char *sign_str(const medseal_signer *signer, const char *doc, uint32_t format) {
    medseal_buffer *out = NULL;
    REQUIRE_OK(medseal_signer_sign(signer, (const uint8_t *)doc, strlen(doc), format, &out));
    char *s = buf_str(out);
    medseal_buffer_free(out);
    return s;
}

/* Verification must fail with `want` and leave the output untouched. */
static void verify_err_(const medseal_verifier *v, const char *jws, medseal_result want, const char *file, int line) {
    medseal_verified *out = SENTINEL_PTR;
    medseal_result rc = medseal_verifier_verify(v, (const uint8_t *)jws, strlen(jws), &out);
    if (!check_rc_(rc, want, jws, file, line) && rc == MEDSEAL_OK) {
        medseal_verified_free(out);
        return;
    }
    check_true_(out == SENTINEL_PTR, "output untouched on failure", file, line);
}
#define VERIFY_ERR(v, jws, want) verify_err_((v), (jws), (want), __FILE__, __LINE__)

static void detached_err_(const medseal_verifier *v, const char *jws, const char *payload, uint32_t kind,
                          medseal_result want, const char *file, int line) {
    medseal_verified *out = SENTINEL_PTR;
    medseal_result rc = medseal_verifier_verify_detached(v, (const uint8_t *)jws, strlen(jws), (const uint8_t *)payload,
                                                         strlen(payload), kind, &out);
    if (!check_rc_(rc, want, jws, file, line) && rc == MEDSEAL_OK) {
        medseal_verified_free(out);
        return;
    }
    check_true_(out == SENTINEL_PTR, "output untouched on failure", file, line);
}
#define DETACHED_ERR(v, jws, payload, kind, want) detached_err_((v), (jws), (payload), (kind), (want), __FILE__, __LINE__)

/* Checks every accessor of a verified result. */
static void check_verified_(const medseal_verified *vd, const char *payload, const char *kid, uint32_t alg,
                            const char *sigt, const char *file, int line) {
    const uint8_t *data = SENTINEL_PTR;
    size_t len = SENTINEL_LEN;
    if (check_rc_(medseal_verified_payload(vd, &data, &len), MEDSEAL_OK, "medseal_verified_payload", file, line)) {
        check_mem_(data, len, payload, strlen(payload), "verified payload", file, line);
        const uint8_t *again = NULL;
        size_t again_len = 0;
        medseal_verified_payload(vd, &again, &again_len);
        check_true_(again == data && again_len == len, "borrowed pointer is stable", file, line);
    }
    data = SENTINEL_PTR;
    len = SENTINEL_LEN;
    if (check_rc_(medseal_verified_key_id(vd, &data, &len), MEDSEAL_OK, "medseal_verified_key_id", file, line)) {
        check_true_(len == MEDSEAL_KID_BYTES, "key id has MEDSEAL_KID_BYTES", file, line);
        check_mem_(data, len, kid, strlen(kid), "verified key id", file, line);
    }
    data = SENTINEL_PTR;
    len = SENTINEL_LEN;
    if (check_rc_(medseal_verified_signing_time(vd, &data, &len), MEDSEAL_OK, "medseal_verified_signing_time", file,
                  line) &&
        sigt != NULL) {
        check_mem_(data, len, sigt, strlen(sigt), "verified signing time", file, line);
    }
    data = SENTINEL_PTR;
    len = SENTINEL_LEN;
    if (check_rc_(medseal_verified_header(vd, &data, &len), MEDSEAL_OK, "medseal_verified_header", file, line)) {
        char member[128];
        snprintf(member, sizeof member, "\"kid\":\"%s\"", kid);
        check_contains_((const char *)data, len, member, "header kid", file, line);
        check_contains_((const char *)data, len, "\"typ\":\"medseal+jws\"", "header typ", file, line);
        if (sigt != NULL) {
            snprintf(member, sizeof member, "\"sigT\":\"%s\"", sigt);
            check_contains_((const char *)data, len, member, "header sigT", file, line);
        }
        check_true_(len > 0 && data[0] == '{' && data[len - 1] == '}', "header is a JSON object", file, line);
    }
    uint32_t got = SENTINEL_U32;
    if (check_rc_(medseal_verified_algorithm(vd, &got), MEDSEAL_OK, "medseal_verified_algorithm", file, line)) {
        check_true_(got == alg, "verified algorithm", file, line);
    }
}
#define CHECK_VERIFIED(vd, payload, kid, alg, sigt) check_verified_((vd), (payload), (kid), (alg), (sigt), __FILE__, __LINE__)

/* ---- tests -------------------------------------------------------------------------------- */

static void test_signer_builder(void) {
    medseal_key *key = new_key(MEDSEAL_ALG_EDDSA);
    medseal_signer_builder *b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(key, &b));

    /* kid: UTF-8, 1 to 256 bytes. */
    CHECK_RC(medseal_signer_builder_set_kid(b, (const uint8_t *)"\xC3\x28", 2), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_ERROR_CONTAINS("kid");
    CHECK_RC(medseal_signer_builder_set_kid(b, (const uint8_t *)"ok\xFF", 3), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_RC(medseal_signer_builder_set_kid(b, (const uint8_t *)"\xED\xA0\x80", 3), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_RC(medseal_signer_builder_set_kid(b, (const uint8_t *)"", 0), MEDSEAL_INVALID_ARGUMENT);
    char long_kid[257];
    memset(long_kid, 'k', sizeof long_kid);
    CHECK_RC(medseal_signer_builder_set_kid(b, (const uint8_t *)long_kid, 257), MEDSEAL_INVALID_ARGUMENT);
    CHECK_OK(medseal_signer_builder_set_kid(b, (const uint8_t *)long_kid, 256));

    /* commitment: UTF-8 and the OID form are both checked at once; a refused value leaves the
     * builder's earlier choice in place. */
    CHECK_RC(medseal_signer_builder_set_commitment(b, (const uint8_t *)"1.2\xFF", 4), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_ERROR_CONTAINS("oid");
    CHECK_OK(medseal_signer_builder_set_commitment(b, (const uint8_t *)AUTHOR_OID, strlen(AUTHOR_OID)));
    const char *bad_oids[] = {"", "not-an-oid", "1..2", "1.2.", ".1", "1.2.x", "1,2"};
    for (size_t i = 0; i < sizeof bad_oids / sizeof bad_oids[0]; i++) {
        CHECK_RC(medseal_signer_builder_set_commitment(b, (const uint8_t *)bad_oids[i], strlen(bad_oids[i])),
                 MEDSEAL_INVALID_ARGUMENT);
        CHECK_ERROR_CONTAINS("OID");
    }

    /* signing time: anything RFC 3339 can write (years 0000..9999), checked at once. */
    const int64_t bad_times[] = {INT64_MAX, INT64_MIN, INT64_C(253402300800)};
    for (size_t i = 0; i < sizeof bad_times / sizeof bad_times[0]; i++) {
        CHECK_RC(medseal_signer_builder_set_signing_time(b, bad_times[i]), MEDSEAL_INVALID_ARGUMENT);
    }
    {
        /* The refused values above did not reach the builder: it still builds. */
        medseal_signer *s = NULL;
        CHECK_OK(medseal_signer_builder_build(b, &s));
        medseal_signer_free(s);
    }

    /* canonicalization flags: refused flags leave the builder's earlier choice in place. */
    CHECK_OK(medseal_signer_builder_set_canon_flags(b, MEDSEAL_CANON_NORMALIZE_NFC));
    CHECK_RC(medseal_signer_builder_set_canon_flags(b, 1u << 6), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_signer_builder_set_canon_flags(b, MEDSEAL_CANON_FHIR_DATA | MEDSEAL_CANON_FHIR_DOCUMENT),
             MEDSEAL_INVALID_ARGUMENT);

    /* Times at the edges that do work. */
    struct {
        int64_t t;
        const char *sigt;
    } times[] = {{0, "1970-01-01T00:00:00Z"},
                 {-1, "1969-12-31T23:59:59Z"},
                 {INT64_C(253402300799), "9999-12-31T23:59:59Z"},
                 {FIXED_TIME, FIXED_SIGT}};
    medseal_verifier *v = new_verifier(key, NULL, MEDSEAL_CANON_NORMALIZE_NFC);
    char kid[MEDSEAL_KID_BYTES + 1];
    kid_of(key, kid);
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        CHECK_OK(medseal_signer_builder_set_signing_time(b, times[i].t));
        medseal_signer *s = NULL;
        if (!CHECK_OK(medseal_signer_builder_build(b, &s))) {
            continue;
        }
        /* NFD input is signed (normalized): the NORMALIZE_NFC flags survived the refused calls. */
        char *jws = sign_str(s, DOC_NFD, MEDSEAL_JWS_COMPACT);
        medseal_verified *vd = NULL;
        if (CHECK_OK(medseal_verifier_verify(v, (const uint8_t *)jws, strlen(jws), &vd))) {
            const uint8_t *data = NULL;
            size_t len = 0;
            CHECK_OK(medseal_verified_signing_time(vd, &data, &len));
            CHECK_MEM(data, len, times[i].sigt);
            CHECK_OK(medseal_verified_payload(vd, &data, &len));
            CHECK_MEM(data, len, DOC_NFD_CANON);
            CHECK_OK(medseal_verified_header(vd, &data, &len));
            CHECK_CONTAINS(data, len, "\"kid\":\"kkkkkkkk"); /* the 256-byte kid set above */
            CHECK_CONTAINS(data, len, "\"srCms\":[{\"commId\":{\"id\":\"urn:oid:" AUTHOR_OID "\"}}]");
            CHECK_CONTAINS(data, len, "\"crit\":[\"sigT\",\"srCms\"]");
            /* key_id is always the thumbprint of the key that verified, whatever the kid header. */
            CHECK_OK(medseal_verified_key_id(vd, &data, &len));
            CHECK_MEM(data, len, kid);
            medseal_verified_free(vd);
        }
        free(jws);
        medseal_signer_free(s);
    }

    /* A Vietnamese kid is fine (UTF-8). */
    const char *vi_kid = "kh\xC3\xB3" "a-b\xE1\xBB\x87nh-vi\xE1\xBB\x87n"; /* khóa-bệnh-viện */
    CHECK_OK(medseal_signer_builder_set_kid(b, (const uint8_t *)vi_kid, strlen(vi_kid)));
    medseal_signer *s1 = NULL, *s2 = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s1));
    /* The builder stays valid; changing it does not change signers already built. */
    CHECK_OK(medseal_signer_builder_set_kid(b, (const uint8_t *)"second", 6));
    REQUIRE_OK(medseal_signer_builder_build(b, &s2));
    char *j1 = sign_str(s1, DOC, MEDSEAL_JWS_COMPACT);
    char *j2 = sign_str(s2, DOC, MEDSEAL_JWS_COMPACT);
    medseal_verified *vd = NULL;
    if (CHECK_OK(medseal_verifier_verify(v, (const uint8_t *)j1, strlen(j1), &vd))) {
        const uint8_t *data = NULL;
        size_t len = 0;
        CHECK_OK(medseal_verified_header(vd, &data, &len));
        CHECK_CONTAINS(data, len, "\"kid\":\"kh\xC3\xB3" "a-b\xE1\xBB\x87nh-vi\xE1\xBB\x87n\"");
        medseal_verified_free(vd);
    }
    if (CHECK_OK(medseal_verifier_verify(v, (const uint8_t *)j2, strlen(j2), &vd))) {
        const uint8_t *data = NULL;
        size_t len = 0;
        CHECK_OK(medseal_verified_header(vd, &data, &len));
        CHECK_CONTAINS(data, len, "\"kid\":\"second\"");
        medseal_verified_free(vd);
    }
    free(j2);
    free(j1);
    medseal_signer_free(s2);
    medseal_signer_free(s1);
    medseal_verifier_free(v);
    medseal_signer_builder_free(b);
    medseal_key_free(key);
}

static void test_sign_formats_and_verify(void) {
    medseal_key *ed = new_key(MEDSEAL_ALG_EDDSA);
    medseal_key *ec = new_key(MEDSEAL_ALG_ES256);
    char ed_kid[MEDSEAL_KID_BYTES + 1], ec_kid[MEDSEAL_KID_BYTES + 1];
    kid_of(ed, ed_kid);
    kid_of(ec, ec_kid);
    medseal_signer *s_ed = new_signer(ed, 0);
    medseal_signer *s_ec = new_signer(ec, 0);
    medseal_verifier *v_both = new_verifier(ed, ec, 0);

    /* Bad formats and documents: nothing written. */
    const uint32_t bad_formats[] = {0, 5, 99, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_formats / sizeof bad_formats[0]; i++) {
        medseal_buffer *out = SENTINEL_PTR;
        CHECK_RC(medseal_signer_sign(s_ed, (const uint8_t *)DOC, strlen(DOC), bad_formats[i], &out),
                 MEDSEAL_INVALID_ARGUMENT);
        CHECK(out == SENTINEL_PTR);
        CHECK_ERROR_CONTAINS("format");
    }
    medseal_buffer *out = SENTINEL_PTR;
    CHECK_RC(medseal_signer_sign(s_ed, (const uint8_t *)"{\"a\":\n}", 7, MEDSEAL_JWS_COMPACT, &out),
             MEDSEAL_JSON_SYNTAX);
    CHECK(out == SENTINEL_PTR);
    CHECK_ERROR_CONTAINS("line 2, column 1");
    CHECK_RC(medseal_signer_sign(s_ed, (const uint8_t *)DOC_NFD, strlen(DOC_NFD), MEDSEAL_JWS_COMPACT, &out),
             MEDSEAL_JSON_NOT_NFC);
    CHECK(out == SENTINEL_PTR);
    CHECK_RC(medseal_signer_sign(s_ed, (const uint8_t *)"{\"a\":1.50}", 10, MEDSEAL_JWS_FLATTENED, &out),
             MEDSEAL_JSON_LOSSY_NUMBER);
    CHECK(out == SENTINEL_PTR);
    CHECK_RC(medseal_signer_sign(s_ed, (const uint8_t *)"{\"a\":1,\"a\":1}", 13, MEDSEAL_JWS_FLATTENED, &out),
             MEDSEAL_JSON_DUPLICATE_KEY);
    CHECK(out == SENTINEL_PTR);

    medseal_signer *signers[] = {s_ed, s_ec};
    const char *kids[] = {ed_kid, ec_kid};
    const uint32_t algs[] = {MEDSEAL_ALG_EDDSA, MEDSEAL_ALG_ES256};
    for (size_t k = 0; k < 2; k++) {
        /* Attached: compact and flattened. */
        char *compact = sign_str(signers[k], DOC, MEDSEAL_JWS_COMPACT);
        char *flat = sign_str(signers[k], DOC, MEDSEAL_JWS_FLATTENED);
        char *det_compact = sign_str(signers[k], DOC, MEDSEAL_JWS_DETACHED_COMPACT);
        char *det_flat = sign_str(signers[k], DOC, MEDSEAL_JWS_DETACHED_FLATTENED);

        const char *dot1 = strchr(compact, '.');
        const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        CHECK(dot1 != NULL && dot2 != NULL && dot2 > dot1 + 1 && strchr(dot2 + 1, '.') == NULL);
        char *payload_b64 = b64url(DOC_CANON, strlen(DOC_CANON));
        CHECK(dot2 != NULL && (size_t)(dot2 - dot1 - 1) == strlen(payload_b64) &&
              memcmp(dot1 + 1, payload_b64, strlen(payload_b64)) == 0);
        CHECK(strncmp(flat, "{\"payload\":\"", 12) == 0);
        CHECK(strstr(flat, "\"protected\":\"") != NULL && strstr(flat, "\"signature\":\"") != NULL);
        CHECK(strstr(det_compact, "..") != NULL);
        CHECK(strstr(det_flat, "\"payload\"") == NULL && strncmp(det_flat, "{\"protected\":\"", 14) == 0);

        const char *attached[] = {compact, flat};
        for (size_t i = 0; i < 2; i++) {
            medseal_verified *vd = SENTINEL_PTR;
            if (CHECK_OK(medseal_verifier_verify(v_both, (const uint8_t *)attached[i], strlen(attached[i]), &vd))) {
                CHECK(vd != NULL && vd != SENTINEL_PTR);
                CHECK_VERIFIED(vd, DOC_CANON, kids[k], algs[k], FIXED_SIGT);
                medseal_verified_free(vd);
            }
            /* Attached JWS given a detached payload: refused. */
            DETACHED_ERR(v_both, attached[i], DOC_CANON, MEDSEAL_PAYLOAD_BYTES, MEDSEAL_JWS_PAYLOAD_MISSING);
        }
        /* Surrounding whitespace (a trailing newline from a file) is fine. */
        char *padded = concat3("\n ", compact, "\r\n");
        medseal_verified *vd = NULL;
        if (CHECK_OK(medseal_verifier_verify(v_both, (const uint8_t *)padded, strlen(padded), &vd))) {
            medseal_verified_free(vd);
        }
        free(padded);

        /* Detached: both kinds of payload. */
        const char *detached[] = {det_compact, det_flat};
        for (size_t i = 0; i < 2; i++) {
            VERIFY_ERR(v_both, detached[i], MEDSEAL_JWS_PAYLOAD_MISSING);
            CHECK_ERROR_CONTAINS("detached");
            vd = SENTINEL_PTR;
            if (CHECK_OK(medseal_verifier_verify_detached(v_both, (const uint8_t *)detached[i], strlen(detached[i]),
                                                          (const uint8_t *)DOC_CANON, strlen(DOC_CANON),
                                                          MEDSEAL_PAYLOAD_BYTES, &vd))) {
                CHECK_VERIFIED(vd, DOC_CANON, kids[k], algs[k], FIXED_SIGT);
                medseal_verified_free(vd);
            }
            vd = SENTINEL_PTR;
            if (CHECK_OK(medseal_verifier_verify_detached(v_both, (const uint8_t *)detached[i], strlen(detached[i]),
                                                          (const uint8_t *)DOC, strlen(DOC), MEDSEAL_PAYLOAD_DOCUMENT,
                                                          &vd))) {
                CHECK_VERIFIED(vd, DOC_CANON, kids[k], algs[k], FIXED_SIGT);
                medseal_verified_free(vd);
            }
            /* The pretty-printed document is not the signed bytes. */
            DETACHED_ERR(v_both, detached[i], DOC, MEDSEAL_PAYLOAD_BYTES, MEDSEAL_JWS_SIGNATURE_INVALID);
            /* Another document. */
            DETACHED_ERR(v_both, detached[i], "{\"resourceType\":\"Patient\",\"id\":\"vn-002\"}",
                         MEDSEAL_PAYLOAD_DOCUMENT, MEDSEAL_JWS_SIGNATURE_INVALID);
            /* A document that is not JSON. */
            DETACHED_ERR(v_both, detached[i], "{\"resourceType\":", MEDSEAL_PAYLOAD_DOCUMENT, MEDSEAL_JSON_SYNTAX);
            /* Payload kinds that do not exist. */
            const uint32_t bad_kinds[] = {0, 3, 99, UINT32_MAX};
            for (size_t j = 0; j < sizeof bad_kinds / sizeof bad_kinds[0]; j++) {
                DETACHED_ERR(v_both, detached[i], DOC_CANON, bad_kinds[j], MEDSEAL_INVALID_ARGUMENT);
                CHECK_ERROR_CONTAINS("kind");
            }
        }
        free(payload_b64);
        free(det_flat);
        free(det_compact);
        free(flat);
        free(compact);
    }

    /* Ed25519 with a fixed time is deterministic: same record, same bytes. */
    char *a = sign_str(s_ed, DOC, MEDSEAL_JWS_FLATTENED);
    char *b = sign_str(s_ed, DOC, MEDSEAL_JWS_FLATTENED);
    CHECK_STR(a, b);
    free(b);
    free(a);

    /* Without a fixed time the clock is used. */
    medseal_signer_builder *sb = NULL;
    medseal_signer *s_now = NULL;
    REQUIRE_OK(medseal_signer_builder_new(ed, &sb));
    REQUIRE_OK(medseal_signer_builder_build(sb, &s_now));
    char *now = sign_str(s_now, DOC, MEDSEAL_JWS_COMPACT);
    medseal_verified *vd = NULL;
    if (CHECK_OK(medseal_verifier_verify(v_both, (const uint8_t *)now, strlen(now), &vd))) {
        const uint8_t *t = NULL;
        size_t len = 0;
        CHECK_OK(medseal_verified_signing_time(vd, &t, &len));
        CHECK(len == 20 && t[4] == '-' && t[10] == 'T' && t[19] == 'Z');
        CHECK(len == 20 && memcmp(t, "2025", 4) >= 0 && memcmp(t, "9999", 4) < 0);
        const uint8_t *h = NULL;
        CHECK_OK(medseal_verified_header(vd, &h, &len));
        CHECK(!mem_contains(h, len, "srCms")); /* no commitment unless asked for */
        CHECK_CONTAINS(h, len, "\"crit\":[\"sigT\"]");
        medseal_verified_free(vd);
    }
    free(now);
    medseal_signer_free(s_now);
    medseal_signer_builder_free(sb);

    medseal_verifier_free(v_both);
    medseal_signer_free(s_ec);
    medseal_signer_free(s_ed);
    medseal_key_free(ec);
    medseal_key_free(ed);
}

static void test_verify_errors(void) {
    medseal_key *ed = new_key(MEDSEAL_ALG_EDDSA);
    medseal_key *ed_other = new_key(MEDSEAL_ALG_EDDSA);
    medseal_key *ec = new_key(MEDSEAL_ALG_ES256);
    medseal_signer *s_ed = new_signer(ed, 0);
    medseal_signer *s_ec = new_signer(ec, 0);
    medseal_verifier *v_ed = new_verifier(ed, NULL, 0);
    medseal_verifier *v_other = new_verifier(ed_other, NULL, 0);

    char *compact = sign_str(s_ed, DOC, MEDSEAL_JWS_COMPACT);
    char *flat = sign_str(s_ed, DOC, MEDSEAL_JWS_FLATTENED);
    char *det = sign_str(s_ed, DOC, MEDSEAL_JWS_DETACHED_COMPACT);
    char *ec_compact = sign_str(s_ec, DOC, MEDSEAL_JWS_COMPACT);

    /* Wrong key. */
    VERIFY_ERR(v_other, compact, MEDSEAL_JWS_SIGNATURE_INVALID);
    VERIFY_ERR(v_other, flat, MEDSEAL_JWS_SIGNATURE_INVALID);
    DETACHED_ERR(v_other, det, DOC, MEDSEAL_PAYLOAD_DOCUMENT, MEDSEAL_JWS_SIGNATURE_INVALID);
    /* ES256 header, Ed25519 key: algorithm confusion refused. */
    VERIFY_ERR(v_ed, ec_compact, MEDSEAL_JWS_ALG_MISMATCH);
    CHECK_ERROR_CONTAINS("ES256");

    /* Tampering. */
    char *dot1 = strchr(compact, '.');
    char *dot2 = strchr(dot1 + 1, '.');
    char *t = concat3(compact, "", "");
    char *sig = t + (dot2 - compact) + 1;
    sig[10] = sig[10] == 'A' ? 'B' : 'A'; /* a middle character: 6 full bits */
    VERIFY_ERR(v_ed, t, MEDSEAL_JWS_SIGNATURE_INVALID);
    free(t);
    t = concat3(compact, "", "");
    t[strlen(t) - 2] = '\0'; /* 84 characters: 63 bytes, still strict base64url */
    VERIFY_ERR(v_ed, t, MEDSEAL_JWS_SIGNATURE_INVALID);
    free(t);
    {
        /* Another payload under the same header and signature. */
        char *other_payload = b64url("{\"id\":\"vn-002\"}", 15);
        size_t hlen = (size_t)(dot1 - compact) + 1;
        char *head = xmalloc(hlen + 1);
        memcpy(head, compact, hlen);
        head[hlen] = '\0';
        char *forged = concat3(head, other_payload, dot2);
        VERIFY_ERR(v_ed, forged, MEDSEAL_JWS_SIGNATURE_INVALID);
        free(forged);
        /* Another header (a later sigT) over the same payload and signature. */
        const char *later = "{\"alg\":\"EdDSA\",\"crit\":[\"sigT\"],\"sigT\":\"2030-01-01T00:00:00Z\"}";
        char *hdr = b64url(later, strlen(later));
        forged = concat3(hdr, dot1, "");
        VERIFY_ERR(v_ed, forged, MEDSEAL_JWS_SIGNATURE_INVALID);
        free(forged);
        free(hdr);
        free(head);
        free(other_payload);
    }
    {
        /* Flattened JSON with its payload swapped. */
        char *payload = strstr(flat, "\"payload\":\"") + 11;
        char *copy = concat3(flat, "", "");
        char *p = copy + (payload - flat);
        p[5] = p[5] == 'A' ? 'B' : 'A';
        VERIFY_ERR(v_ed, copy, MEDSEAL_JWS_SIGNATURE_INVALID);
        free(copy);
    }

    /* Malformed JWS. */
    VERIFY_ERR(v_ed, "", MEDSEAL_JWS_MALFORMED);
    VERIFY_ERR(v_ed, "not a jws", MEDSEAL_JWS_MALFORMED);
    VERIFY_ERR(v_ed, "a.b", MEDSEAL_JWS_MALFORMED);
    VERIFY_ERR(v_ed, "a.b.c.d", MEDSEAL_JWS_MALFORMED);
    VERIFY_ERR(v_ed, ".e30.AAAA", MEDSEAL_JWS_MALFORMED);
    VERIFY_ERR(v_ed, "{", MEDSEAL_JWS_MALFORMED);
    VERIFY_ERR(v_ed, "{\"protected\":1,\"signature\":\"AAAA\"}", MEDSEAL_JWS_MALFORMED);
    VERIFY_ERR(v_ed, "{\"signature\":\"AAAA\"}", MEDSEAL_JWS_MALFORMED);
    /* Not strict base64url. */
    VERIFY_ERR(v_ed, "e30!.e30.AAAA", MEDSEAL_JWS_BASE64);
    VERIFY_ERR(v_ed, "eyJhbGciOiJFZERTQSJ9.e30.AAAA==", MEDSEAL_JWS_BASE64);
    /* Headers. */
    struct {
        const char *header;
        medseal_result want;
    } headers[] = {
        {"[1]", MEDSEAL_JWS_HEADER},
        {"{\"kid\":\"x\"}", MEDSEAL_JWS_HEADER},
        {"{\"alg\":1}", MEDSEAL_JWS_HEADER},
        {"{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\"}", MEDSEAL_JWS_HEADER},
        {"{\"alg\":\"none\"}", MEDSEAL_JWS_ALG_FORBIDDEN},
        {"{\"alg\":\"NONE\"}", MEDSEAL_JWS_ALG_FORBIDDEN},
        {"{\"alg\":\"HS256\"}", MEDSEAL_JWS_ALG_FORBIDDEN},
        {"{\"alg\":\"XY999\"}", MEDSEAL_JWS_ALG_UNKNOWN},
        {"{\"alg\":\"EdDSA\",\"crit\":[\"foo\"],\"foo\":1}", MEDSEAL_JWS_CRIT_UNKNOWN},
        {"{\"alg\":\"EdDSA\",\"crit\":[]}", MEDSEAL_JWS_CRIT_UNKNOWN},
        {"{\"alg\":\"EdDSA\",\"crit\":[\"alg\"]}", MEDSEAL_JWS_CRIT_UNKNOWN},
        {"{\"alg\":\"EdDSA\",\"crit\":[\"sigT\"]}", MEDSEAL_JWS_CRIT_UNKNOWN},
        {"{\"alg\":\"EdDSA\",\"sigT\":\"yesterday\"}", MEDSEAL_JWS_HEADER},
        {"{\"alg\":\"EdDSA\",\"b64\":false}", MEDSEAL_JWS_HEADER},
        {"{\"alg\":\"ES256\"}", MEDSEAL_JWS_ALG_MISMATCH},
        {"{\"alg\":\"EdDSA\"}", MEDSEAL_JWS_SIGNATURE_INVALID},
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        char *h = b64url(headers[i].header, strlen(headers[i].header));
        char *jws = concat3(h, ".e30.", "AAAA");
        VERIFY_ERR(v_ed, jws, headers[i].want);
        free(jws);
        free(h);
    }
    /* JSON serializations medseal does not take. */
    {
        char *prot = strstr(flat, "\"protected\":\"") + 13;
        char *end = strchr(prot, '"');
        char *p = xmalloc((size_t)(end - prot) + 1);
        memcpy(p, prot, (size_t)(end - prot));
        p[end - prot] = '\0';
        char *sigv = strstr(flat, "\"signature\":\"") + 13;
        char *send = strchr(sigv, '"');
        char *s = xmalloc((size_t)(send - sigv) + 1);
        memcpy(s, sigv, (size_t)(send - sigv));
        s[send - sigv] = '\0';
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"payload\":\"e30\",\"signatures\":[{\"protected\":\"%s\",\"signature\":\"%s\"},"
                 "{\"protected\":\"%s\",\"signature\":\"%s\"}]}",
                 p, s, p, s);
        VERIFY_ERR(v_ed, json, MEDSEAL_UNSUPPORTED);
        snprintf(json, sizeof json, "{\"header\":{\"x\":1},\"protected\":\"%s\",\"signature\":\"%s\"}", p, s);
        DETACHED_ERR(v_ed, json, DOC, MEDSEAL_PAYLOAD_DOCUMENT, MEDSEAL_JWS_HEADER);
        /* General serialization with one signature is fine. */
        char *payload_b64 = b64url(DOC_CANON, strlen(DOC_CANON));
        snprintf(json, sizeof json, "{\"payload\":\"%s\",\"signatures\":[{\"protected\":\"%s\",\"signature\":\"%s\"}]}",
                 payload_b64, p, s);
        medseal_verified *vd = NULL;
        if (CHECK_OK(medseal_verifier_verify(v_ed, (const uint8_t *)json, strlen(json), &vd))) {
            medseal_verified_free(vd);
        }
        free(payload_b64);
        free(s);
        free(p);
    }

    free(ec_compact);
    free(det);
    free(flat);
    free(compact);
    medseal_verifier_free(v_other);
    medseal_verifier_free(v_ed);
    medseal_signer_free(s_ec);
    medseal_signer_free(s_ed);
    medseal_key_free(ec);
    medseal_key_free(ed_other);
    medseal_key_free(ed);
}

static void test_verifier_builder(void) {
    medseal_verifier_builder *vb = SENTINEL_PTR;
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    CHECK(vb != NULL && vb != SENTINEL_PTR);
    medseal_verifier *v = SENTINEL_PTR;
    CHECK_RC(medseal_verifier_builder_build(vb, &v), MEDSEAL_JWS_NO_KEYS);
    CHECK(v == SENTINEL_PTR);
    CHECK_ERROR_CONTAINS("key");
    CHECK_RC(medseal_verifier_builder_set_canon_flags(vb, 1u << 6), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_verifier_builder_set_canon_flags(vb, MEDSEAL_CANON_FHIR_DATA | MEDSEAL_CANON_FHIR_STATIC),
             MEDSEAL_INVALID_ARGUMENT);

    /* Detached DOCUMENT payloads use the verifier's flags: an NFD record signed with
     * NORMALIZE_NFC verifies only where the verifier normalizes too. */
    medseal_key *key = new_key(MEDSEAL_ALG_ES256);
    medseal_signer *s = new_signer(key, MEDSEAL_CANON_NORMALIZE_NFC);
    char *det = sign_str(s, DOC_NFD, MEDSEAL_JWS_DETACHED_FLATTENED);
    CHECK_OK(medseal_verifier_builder_add_key(vb, key)); /* a private key: its public half is used */
    CHECK_OK(medseal_verifier_builder_add_key(vb, key)); /* twice is harmless */
    medseal_verifier *strict = NULL, *nfc = NULL;
    REQUIRE_OK(medseal_verifier_builder_build(vb, &strict));
    CHECK_OK(medseal_verifier_builder_set_canon_flags(vb, MEDSEAL_CANON_NORMALIZE_NFC));
    REQUIRE_OK(medseal_verifier_builder_build(vb, &nfc));
    DETACHED_ERR(strict, det, DOC_NFD, MEDSEAL_PAYLOAD_DOCUMENT, MEDSEAL_JSON_NOT_NFC);
    medseal_verified *vd = NULL;
    if (CHECK_OK(medseal_verifier_verify_detached(nfc, (const uint8_t *)det, strlen(det), (const uint8_t *)DOC_NFD,
                                                  strlen(DOC_NFD), MEDSEAL_PAYLOAD_DOCUMENT, &vd))) {
        const uint8_t *data = NULL;
        size_t len = 0;
        CHECK_OK(medseal_verified_payload(vd, &data, &len));
        CHECK_MEM(data, len, DOC_NFD_CANON);
        medseal_verified_free(vd);
    }
    /* BYTES payloads are never canonicalized, whatever the flags. */
    DETACHED_ERR(nfc, det, DOC_NFD, MEDSEAL_PAYLOAD_BYTES, MEDSEAL_JWS_SIGNATURE_INVALID);
    vd = NULL;
    if (CHECK_OK(medseal_verifier_verify_detached(strict, (const uint8_t *)det, strlen(det),
                                                  (const uint8_t *)DOC_NFD_CANON, strlen(DOC_NFD_CANON),
                                                  MEDSEAL_PAYLOAD_BYTES, &vd))) {
        medseal_verified_free(vd);
    }

    free(det);
    medseal_verifier_free(nfc);
    medseal_verifier_free(strict);
    medseal_signer_free(s);
    medseal_key_free(key);
    medseal_verifier_builder_free(vb);

    /* A signer builder from a public key. */
    medseal_key *priv = new_key(MEDSEAL_ALG_EDDSA);
    medseal_buffer *spki = NULL;
    REQUIRE_OK(medseal_key_export(priv, MEDSEAL_KEY_FORMAT_SPKI_PEM, &spki));
    medseal_key *pub = NULL;
    REQUIRE_OK(medseal_key_import(medseal_buffer_data(spki), medseal_buffer_len(spki), MEDSEAL_ALG_FROM_KEY, &pub));
    medseal_signer_builder *sb = SENTINEL_PTR;
    CHECK_RC(medseal_signer_builder_new(pub, &sb), MEDSEAL_KEY_NOT_PRIVATE);
    CHECK(sb == SENTINEL_PTR);
    CHECK_ERROR_CONTAINS("private");
    /* ... but the public key verifies what the private one signed. */
    medseal_signer *signer = new_signer(priv, 0);
    medseal_verifier *v_pub = new_verifier(pub, NULL, 0);
    char *jws = sign_str(signer, DOC, MEDSEAL_JWS_COMPACT);
    vd = NULL;
    if (CHECK_OK(medseal_verifier_verify(v_pub, (const uint8_t *)jws, strlen(jws), &vd))) {
        medseal_verified_free(vd);
    }
    free(jws);
    medseal_verifier_free(v_pub);
    medseal_signer_free(signer);
    medseal_key_free(pub);
    medseal_buffer_free(spki);
    medseal_key_free(priv);
}

/* Keys are shared with what is built from them; builders, verifiers and results can be freed
 * in any order. ASan and valgrind turn any use-after-free here into a failure. */
static void test_lifetimes(void) {
    const uint32_t algs[] = {MEDSEAL_ALG_EDDSA, MEDSEAL_ALG_ES256};
    for (size_t i = 0; i < 2; i++) {
        medseal_key *key = new_key(algs[i]);
        char kid[MEDSEAL_KID_BYTES + 1];
        kid_of(key, kid);
        medseal_signer_builder *sb = NULL;
        medseal_verifier_builder *vb = NULL;
        REQUIRE_OK(medseal_signer_builder_new(key, &sb));
        REQUIRE_OK(medseal_verifier_builder_new(&vb));
        REQUIRE_OK(medseal_verifier_builder_add_key(vb, key));
        medseal_key_free(key); /* before anything is built */
        key = NULL;
        medseal_signer *signer = NULL;
        medseal_verifier *verifier = NULL;
        REQUIRE_OK(medseal_signer_builder_set_signing_time(sb, FIXED_TIME));
        REQUIRE_OK(medseal_signer_builder_build(sb, &signer));
        REQUIRE_OK(medseal_verifier_builder_build(vb, &verifier));
        medseal_signer_builder_free(sb); /* before the signer is used */
        medseal_verifier_builder_free(vb);

        char *jws = sign_str(signer, DOC, MEDSEAL_JWS_FLATTENED);
        medseal_signer_free(signer);
        medseal_verified *vd = NULL;
        if (CHECK_OK(medseal_verifier_verify(verifier, (const uint8_t *)jws, strlen(jws), &vd))) {
            medseal_verifier_free(verifier); /* the result outlives its verifier */
            verifier = NULL;
            CHECK_VERIFIED(vd, DOC_CANON, kid, algs[i], FIXED_SIGT);
            medseal_verified_free(vd);
        }
        medseal_verifier_free(verifier);
        free(jws);
    }

    /* A JWS buffer freed after verification: the result keeps its own copy of the payload. */
    medseal_key *key = new_key(MEDSEAL_ALG_EDDSA);
    medseal_signer *signer = new_signer(key, 0);
    medseal_verifier *verifier = new_verifier(key, NULL, 0);
    medseal_key_free(key);
    medseal_buffer *jws = NULL;
    REQUIRE_OK(medseal_signer_sign(signer, (const uint8_t *)DOC, strlen(DOC), MEDSEAL_JWS_COMPACT, &jws));
    medseal_verified *vd = NULL;
    REQUIRE_OK(medseal_verifier_verify(verifier, medseal_buffer_data(jws), medseal_buffer_len(jws), &vd));
    medseal_buffer_free(jws);
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK_OK(medseal_verified_payload(vd, &data, &len));
    CHECK_MEM(data, len, DOC_CANON);
    medseal_verified_free(vd);
    medseal_verifier_free(verifier);
    medseal_signer_free(signer);
}

/* Interoperability: the RFC 8037 appendix A.4 JWS, made by another implementation. It has no
 * JAdES header, so its signing time is empty. */
static void test_rfc8037_example(void) {
    static const char public_jwk[] = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                     "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
    static const char jws[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
                              "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    medseal_key *key = NULL;
    REQUIRE_OK(medseal_key_import((const uint8_t *)public_jwk, strlen(public_jwk), MEDSEAL_ALG_FROM_KEY, &key));
    medseal_verifier *v = new_verifier(key, NULL, 0);
    medseal_verified *vd = SENTINEL_PTR;
    if (CHECK_OK(medseal_verifier_verify(v, (const uint8_t *)jws, strlen(jws), &vd))) {
        const uint8_t *data = SENTINEL_PTR;
        size_t len = SENTINEL_LEN;
        CHECK_OK(medseal_verified_payload(vd, &data, &len));
        CHECK_MEM(data, len, "Example of Ed25519 signing");
        len = SENTINEL_LEN;
        CHECK_OK(medseal_verified_signing_time(vd, &data, &len));
        CHECK(len == 0);
        CHECK_OK(medseal_verified_header(vd, &data, &len));
        CHECK_MEM(data, len, "{\"alg\":\"EdDSA\"}");
        CHECK_OK(medseal_verified_key_id(vd, &data, &len));
        CHECK_MEM(data, len, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        uint32_t alg = SENTINEL_U32;
        CHECK_OK(medseal_verified_algorithm(vd, &alg));
        CHECK(alg == MEDSEAL_ALG_EDDSA);
        medseal_verified_free(vd);
    }
    /* The same signature over another payload. */
    char *other = b64url("Example of Ed25519 signinG", 26);
    char *forged = concat3("eyJhbGciOiJFZERTQSJ9.", other, strrchr(jws, '.'));
    VERIFY_ERR(v, forged, MEDSEAL_JWS_SIGNATURE_INVALID);
    free(forged);
    free(other);
    medseal_verifier_free(v);
    medseal_key_free(key);
}

int main(void) {
    test_rfc8037_example();
    test_signer_builder();
    test_sign_formats_and_verify();
    test_verify_errors();
    test_verifier_builder();
    test_lifetimes();
    return check_summary();
}
