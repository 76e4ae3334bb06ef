/*
 * medseal C ABI: sealed envelopes. X25519 recipient keys (generate, import/export in every
 * format, raw bytes, the RFC 8037 A.6 key), routing metadata and its validation, sealing to one
 * and three recipients with both AEADs and both encodings, decoding and opening, every error
 * code of decoding and opening (tampering, wrong recipient, public key, unknown suite), and
 * sign-then-seal with open-and-verify, and handles shared between threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "medseal.h"

#define CREATED "2025-01-31T08:00:00Z"
#define RECORD_ID "rec-0001"
#define SOURCE "bv-cho-ray"
#define SEQUENCE 7

/* The meta of fixed_meta("text/plain"), as medseal_envelope_meta writes it. */
static const char META_JSON[] = "{\"content_type\":\"text/plain\",\"created\":\"" CREATED "\",\"record_id\":\"" RECORD_ID
                                "\",\"sequence\":7,\"source\":\"" SOURCE "\"}";

static const char PLAINTEXT[] = "lab result: HbA1c 6.1 % (not a real patient)";

/* A pretty-printed record and its RFC 8785 form. */
static const char DOC[] = "{\n  \"resourceType\": \"Observation\",\n  \"id\": \"obs-1\",\n  \"status\": \"final\"\n}\n";
static const char DOC_CANON[] = "{\"id\":\"obs-1\",\"resourceType\":\"Observation\",\"status\":\"final\"}";

/* RFC 8037 A.6 (../shared/vectors/jose-rfc/rfc8037-appendix-a.json): Bob's X25519 key (the
 * RFC 7748 section 6.1 test key). The kid is medseal's RFC 7638 thumbprint of
 * {"crv":"X25519","kty":"OKP","x":"3p7b..."}, computed independently (SHA-256, base64url). */
static const uint8_t RFC8037_SECRET[32] = {0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f,
                                           0x8b, 0x83, 0x80, 0x0e, 0xe6, 0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18,
                                           0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb};
static const uint8_t RFC8037_PUBLIC[32] = {0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61,
                                           0xc2, 0xec, 0xe4, 0x35, 0x37, 0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78,
                                           0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88, 0x2b, 0x4f};
#define RFC8037_X "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"
#define RFC8037_D "XasIfmJKikt54X-Lg4AO5m87sSkmGLb9HC-LJ_-I4Os"
#define RFC8037_KID "giQqigT_IKcuzHl0FVJ3k5ts3_TWNAxvsC08UZsfcM8"
static const char RFC8037_PUBLIC_JWK[] = "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"kid\":\"Bob\",\"x\":\"" RFC8037_X "\"}";
static const char RFC8037_PRIVATE_JWK[] = "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" RFC8037_X "\",\"d\":\"" RFC8037_D "\"}";

static const uint32_t AEADS[] = {MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_AEAD_CHACHA20_POLY1305};
static const uint32_t ENCODINGS[] = {MEDSEAL_ENVELOPE_JSON, MEDSEAL_ENVELOPE_PROTOBUF};

/* ---- helpers ------------------------------------------------------------------------------ */

static medseal_recipient_key *new_key(void) {
    medseal_recipient_key *key = NULL;
    REQUIRE_OK(medseal_recipient_key_generate(&key));
    return key;
}

/* A public-only copy, through SPKI DER as a receiving system would get it. */
static medseal_recipient_key *public_of(const medseal_recipient_key *key) {
    medseal_buffer *spki = NULL;
    medseal_recipient_key *pub = NULL;
    REQUIRE_OK(medseal_recipient_key_export(key, MEDSEAL_KEY_FORMAT_SPKI_DER, &spki));
    REQUIRE_OK(medseal_recipient_key_import(medseal_buffer_data(spki), medseal_buffer_len(spki), &pub));
    medseal_buffer_free(spki);
    return pub;
}

/* The kid as a NUL-terminated string. */
static void kid_of(const medseal_recipient_key *key, char kid[MEDSEAL_KID_BYTES + 1]) {
    medseal_buffer *buf = SENTINEL_PTR;
    kid[0] = '\0';
    if (CHECK_OK(medseal_recipient_key_kid(key, &buf)) && CHECK(medseal_buffer_len(buf) == MEDSEAL_KID_BYTES)) {
        memcpy(kid, medseal_buffer_data(buf), MEDSEAL_KID_BYTES);
        kid[MEDSEAL_KID_BYTES] = '\0';
    }
    if (buf != SENTINEL_PTR) {
        medseal_buffer_free(buf);
    }
}

static uint32_t has_private(const medseal_recipient_key *key) {
    uint32_t has = SENTINEL_U32;
    CHECK_OK(medseal_recipient_key_has_private(key, &has));
    return has;
}

/* Meta for RECORD_ID/SOURCE/SEQUENCE created at CREATED, with `content_type` (NULL: default). */
static medseal_meta *fixed_meta(const char *content_type) {
    medseal_meta *meta = NULL;
    REQUIRE_OK(medseal_meta_new((const uint8_t *)RECORD_ID, strlen(RECORD_ID), (const uint8_t *)SOURCE, strlen(SOURCE),
                                SEQUENCE, &meta));
    REQUIRE_OK(medseal_meta_set_created(meta, (const uint8_t *)CREATED, strlen(CREATED)));
    if (content_type != NULL) {
        REQUIRE_OK(medseal_meta_set_content_type(meta, (const uint8_t *)content_type, strlen(content_type)));
    }
    return meta;
}

static medseal_buffer *seal(const medseal_meta *meta, const medseal_recipient_key *const *keys, size_t n,
                            const char *plaintext, uint32_t aead, uint32_t encoding) {
    medseal_buffer *out = NULL;
    REQUIRE_OK(medseal_envelope_seal((const uint8_t *)plaintext, strlen(plaintext), meta, keys, n, aead, encoding, &out));
    return out;
}

static medseal_envelope *decode(const uint8_t *data, size_t len) {
    medseal_envelope *env = NULL;
    REQUIRE_OK(medseal_envelope_decode(data, len, &env));
    return env;
}

/* Decoding `data` fails with `want` and leaves the output untouched. */
static void decode_err_(const uint8_t *data, size_t len, medseal_result want, const char *file, int line) {
    medseal_envelope *env = SENTINEL_PTR;
    medseal_result rc = medseal_envelope_decode(data, len, &env);
    if (!check_rc_(rc, want, "medseal_envelope_decode", file, line) && rc == MEDSEAL_OK) {
        medseal_envelope_free(env);
        return;
    }
    check_true_(env == SENTINEL_PTR, "output untouched on failure", file, line);
}
#define DECODE_ERR(data, len, want) decode_err_((data), (len), (want), __FILE__, __LINE__)

/* Opening `env` with `key` gives exactly `want`. */
static void open_ok_(const medseal_envelope *env, const medseal_recipient_key *key, const char *want, const char *file,
                     int line) {
    medseal_buffer *pt = SENTINEL_PTR;
    if (check_rc_(medseal_envelope_open(env, key, &pt), MEDSEAL_OK, "medseal_envelope_open", file, line)) {
        check_mem_(medseal_buffer_data(pt), medseal_buffer_len(pt), want, strlen(want), "opened plaintext", file, line);
        medseal_buffer_free(pt);
    }
}
#define OPEN_OK(env, key, want) open_ok_((env), (key), (want), __FILE__, __LINE__)

/* Opening `env` with `key` fails with `want` and leaves the output untouched. */
static void open_err_(const medseal_envelope *env, const medseal_recipient_key *key, medseal_result want,
                      const char *file, int line) {
    medseal_buffer *pt = SENTINEL_PTR;
    medseal_result rc = medseal_envelope_open(env, key, &pt);
    if (!check_rc_(rc, want, "medseal_envelope_open", file, line) && rc == MEDSEAL_OK) {
        medseal_buffer_free(pt);
        return;
    }
    check_true_(pt == SENTINEL_PTR, "output untouched on failure", file, line);
}
#define OPEN_ERR(env, key, want) open_err_((env), (key), (want), __FILE__, __LINE__)

/* Decodes `data`, then opening with `key` fails with `want`. */
static void decode_open_err_(const uint8_t *data, size_t len, const medseal_recipient_key *key, medseal_result want,
                             const char *file, int line) {
    medseal_envelope *env = NULL;
    if (check_rc_(medseal_envelope_decode(data, len, &env), MEDSEAL_OK, "medseal_envelope_decode", file, line)) {
        open_err_(env, key, want, file, line);
    }
    medseal_envelope_free(env);
}
#define DECODE_OPEN_ERR(data, len, key, want) decode_open_err_((data), (len), (key), (want), __FILE__, __LINE__)

/* The envelope's meta is exactly `want`. */
static void meta_is_(const medseal_envelope *env, const char *want, const char *file, int line) {
    medseal_buffer *meta = SENTINEL_PTR;
    if (check_rc_(medseal_envelope_meta(env, &meta), MEDSEAL_OK, "medseal_envelope_meta", file, line)) {
        check_mem_(medseal_buffer_data(meta), medseal_buffer_len(meta), want, strlen(want), "envelope meta", file,
                   line);
        medseal_buffer_free(meta);
    }
}
#define META_IS(env, want) meta_is_((env), (want), __FILE__, __LINE__)

/* A copy of [data, data + len) with the first `from` replaced by `to`; NULL if `from` is absent. */
static uint8_t *replace_once(const uint8_t *data, size_t len, const char *from, const char *to, size_t *out_len) {
    size_t nf = strlen(from), nt = strlen(to);
    for (size_t i = 0; i + nf <= len; i++) {
        if (memcmp(data + i, from, nf) == 0) {
            uint8_t *out = xmalloc(len - nf + nt);
            memcpy(out, data, i);
            memcpy(out + i, to, nt);
            memcpy(out + i + nt, data + i + nf, len - i - nf);
            *out_len = len - nf + nt;
            return out;
        }
    }
    *out_len = 0;
    return NULL;
}

/* A copy of a JSON envelope with its informative "info" emptied ("info":""); NULL if absent. */
static uint8_t *without_info(const uint8_t *json, size_t len, size_t *out_len) {
    static const char member[] = "\"info\":\"";
    size_t nm = strlen(member);
    for (size_t i = 0; i + nm <= len; i++) {
        if (memcmp(json + i, member, nm) == 0) {
            const uint8_t *end = memchr(json + i + nm, '"', len - i - nm);
            if (end == NULL) {
                break;
            }
            size_t cut = (size_t)(end - (json + i + nm));
            uint8_t *out = xmalloc(len - cut);
            memcpy(out, json, i + nm);
            memcpy(out + i + nm, end, len - (size_t)(end - json));
            *out_len = len - cut;
            return out;
        }
    }
    *out_len = 0;
    return NULL;
}

/* Reads a protobuf varint at data[*pos]; 0 if malformed. */
static int varint(const uint8_t *data, size_t len, size_t *pos, uint64_t *value) {
    *value = 0;
    for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
        uint8_t b = data[(*pos)++];
        *value |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Offset and length of top-level length-delimited field `number` of a protobuf message. */
static int protobuf_field(const uint8_t *data, size_t len, uint64_t number, size_t *offset, size_t *field_len) {
    size_t pos = 0;
    while (pos < len) {
        uint64_t tag, value;
        if (!varint(data, len, &pos, &tag) || !varint(data, len, &pos, &value)) {
            return 0;
        }
        if ((tag & 7) == 2) {
            if (value > len - pos) {
                return 0;
            }
            if (tag >> 3 == number) {
                *offset = pos;
                *field_len = (size_t)value;
                return 1;
            }
            pos += (size_t)value;
        } else if ((tag & 7) != 0) {
            return 0;
        }
    }
    return 0;
}

/* ---- recipient keys ----------------------------------------------------------------------- */

static void test_recipient_key_formats(void) {
    static const uint32_t private_formats[] = {MEDSEAL_KEY_FORMAT_PKCS8_DER, MEDSEAL_KEY_FORMAT_PKCS8_PEM,
                                               MEDSEAL_KEY_FORMAT_PKCS8_V2_DER, MEDSEAL_KEY_FORMAT_PKCS8_V2_PEM,
                                               MEDSEAL_KEY_FORMAT_RAW_PRIVATE};
    static const uint32_t public_formats[] = {MEDSEAL_KEY_FORMAT_SPKI_DER, MEDSEAL_KEY_FORMAT_SPKI_PEM,
                                              MEDSEAL_KEY_FORMAT_JWK, MEDSEAL_KEY_FORMAT_RAW_PUBLIC};
    medseal_recipient_key *key = new_key();
    char kid[MEDSEAL_KID_BYTES + 1], again[MEDSEAL_KID_BYTES + 1];
    kid_of(key, kid);
    CHECK(has_private(key) == 1);
    medseal_buffer *raw_public = NULL;
    REQUIRE_OK(medseal_recipient_key_export(key, MEDSEAL_KEY_FORMAT_RAW_PUBLIC, &raw_public));
    CHECK(medseal_buffer_len(raw_public) == 32);

    for (int pass = 0; pass < 2; pass++) {
        const uint32_t *formats = pass == 0 ? private_formats : public_formats;
        size_t n = pass == 0 ? sizeof private_formats / sizeof *private_formats
                             : sizeof public_formats / sizeof *public_formats;
        for (size_t i = 0; i < n; i++) {
            medseal_buffer *exported = SENTINEL_PTR;
            if (!CHECK_OK(medseal_recipient_key_export(key, formats[i], &exported))) {
                continue;
            }
            const uint8_t *bytes = medseal_buffer_data(exported);
            size_t len = medseal_buffer_len(exported);
            medseal_recipient_key *back = SENTINEL_PTR;
            medseal_result rc;
            if (formats[i] == MEDSEAL_KEY_FORMAT_RAW_PRIVATE || formats[i] == MEDSEAL_KEY_FORMAT_RAW_PUBLIC) {
                CHECK(len == 32);
                rc = medseal_recipient_key_from_raw(bytes, len, formats[i], &back);
            } else {
                rc = medseal_recipient_key_import(bytes, len, &back);
            }
            if (formats[i] == MEDSEAL_KEY_FORMAT_PKCS8_PEM || formats[i] == MEDSEAL_KEY_FORMAT_PKCS8_V2_PEM) {
                CHECK_CONTAINS(bytes, len, "-----BEGIN PRIVATE KEY-----");
            } else if (formats[i] == MEDSEAL_KEY_FORMAT_SPKI_PEM) {
                CHECK_CONTAINS(bytes, len, "-----BEGIN PUBLIC KEY-----");
            } else if (formats[i] == MEDSEAL_KEY_FORMAT_JWK) {
                char member[80];
                snprintf(member, sizeof member, "\"kid\":\"%s\"", kid);
                CHECK_CONTAINS(bytes, len, member);
                CHECK_CONTAINS(bytes, len, "\"crv\":\"X25519\"");
                CHECK_CONTAINS(bytes, len, "\"use\":\"enc\"");
                CHECK(!mem_contains(bytes, len, "\"d\""));
            }
            if (CHECK_OK(rc)) {
                kid_of(back, again);
                CHECK_STR(again, kid);
                CHECK(has_private(back) == (pass == 0 ? 1u : 0u));
                medseal_buffer *pub = NULL;
                if (CHECK_OK(medseal_recipient_key_export(back, MEDSEAL_KEY_FORMAT_RAW_PUBLIC, &pub))) {
                    CHECK_BYTES(medseal_buffer_data(pub), medseal_buffer_len(pub), medseal_buffer_data(raw_public),
                                medseal_buffer_len(raw_public));
                }
                medseal_buffer_free(pub);
                if (pass == 1) {
                    /* A public-only key exports no private format. */
                    for (size_t j = 0; j < sizeof private_formats / sizeof *private_formats; j++) {
                        medseal_buffer *none = SENTINEL_PTR;
                        CHECK_RC(medseal_recipient_key_export(back, private_formats[j], &none), MEDSEAL_KEY_NOT_PRIVATE);
                        CHECK(none == SENTINEL_PTR);
                    }
                }
                medseal_recipient_key_free(back);
            }
            medseal_buffer_free(exported);
        }
    }
    medseal_buffer_free(raw_public);
    medseal_recipient_key_free(key);
}

static void test_rfc8037_key(void) {
    char kid[MEDSEAL_KID_BYTES + 1];
    medseal_recipient_key *bob = NULL, *bob_public = NULL, *bob_jwk = NULL;
    REQUIRE_OK(medseal_recipient_key_from_raw(RFC8037_SECRET, sizeof RFC8037_SECRET, MEDSEAL_KEY_FORMAT_RAW_PRIVATE, &bob));
    medseal_buffer *out = NULL;
    if (CHECK_OK(medseal_recipient_key_export(bob, MEDSEAL_KEY_FORMAT_RAW_PUBLIC, &out))) {
        CHECK_BYTES(medseal_buffer_data(out), medseal_buffer_len(out), RFC8037_PUBLIC, sizeof RFC8037_PUBLIC);
    }
    medseal_buffer_free(out);
    out = NULL;
    if (CHECK_OK(medseal_recipient_key_export(bob, MEDSEAL_KEY_FORMAT_JWK, &out))) {
        CHECK_BUF(out, "{\"crv\":\"X25519\",\"kid\":\"" RFC8037_KID "\",\"kty\":\"OKP\",\"use\":\"enc\",\"x\":\"" RFC8037_X
                       "\"}");
    }
    medseal_buffer_free(out);
    out = NULL;
    if (CHECK_OK(medseal_recipient_key_export(bob, MEDSEAL_KEY_FORMAT_RAW_PRIVATE, &out))) {
        CHECK_BYTES(medseal_buffer_data(out), medseal_buffer_len(out), RFC8037_SECRET, sizeof RFC8037_SECRET);
    }
    medseal_buffer_free(out);
    kid_of(bob, kid);
    CHECK_STR(kid, RFC8037_KID);

    /* The RFC's public JWK: its "kid":"Bob" is a label; medseal's kid is the thumbprint. */
    REQUIRE_OK(medseal_recipient_key_import((const uint8_t *)RFC8037_PUBLIC_JWK, strlen(RFC8037_PUBLIC_JWK), &bob_public));
    kid_of(bob_public, kid);
    CHECK_STR(kid, RFC8037_KID);
    CHECK(has_private(bob_public) == 0);
    REQUIRE_OK(medseal_recipient_key_from_raw(RFC8037_PUBLIC, sizeof RFC8037_PUBLIC, MEDSEAL_KEY_FORMAT_RAW_PUBLIC,
                                              &bob_jwk));
    kid_of(bob_jwk, kid);
    CHECK_STR(kid, RFC8037_KID);
    medseal_recipient_key_free(bob_jwk);
    bob_jwk = NULL;

    /* A private JWK ("d") imports with its private half; a "d" that does not match "x" does not. */
    REQUIRE_OK(medseal_recipient_key_import((const uint8_t *)RFC8037_PRIVATE_JWK, strlen(RFC8037_PRIVATE_JWK), &bob_jwk));
    CHECK(has_private(bob_jwk) == 1);
    kid_of(bob_jwk, kid);
    CHECK_STR(kid, RFC8037_KID);
    size_t bad_len = 0;
    uint8_t *bad = replace_once((const uint8_t *)RFC8037_PRIVATE_JWK, strlen(RFC8037_PRIVATE_JWK), "\"x\":\"3p7b",
                                "\"x\":\"4p7b", &bad_len);
    if (CHECK(bad != NULL)) {
        medseal_recipient_key *k = SENTINEL_PTR;
        CHECK_RC(medseal_recipient_key_import(bad, bad_len, &k), MEDSEAL_KEY_INVALID);
        CHECK(k == SENTINEL_PTR);
    }
    free(bad);

    /* Sealed to the RFC's public key, opened with its private key. */
    medseal_meta *meta = fixed_meta("text/plain");
    const medseal_recipient_key *to[] = {bob_public};
    medseal_buffer *sealed = seal(meta, to, 1, PLAINTEXT, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_JSON);
    char member[80];
    snprintf(member, sizeof member, "\"kid\":\"%s\"", RFC8037_KID);
    CHECK_CONTAINS(medseal_buffer_data(sealed), medseal_buffer_len(sealed), member);
    medseal_envelope *env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
    OPEN_OK(env, bob, PLAINTEXT);
    OPEN_OK(env, bob_jwk, PLAINTEXT);
    medseal_envelope_free(env);
    medseal_buffer_free(sealed);
    medseal_meta_free(meta);
    medseal_recipient_key_free(bob_jwk);
    medseal_recipient_key_free(bob_public);
    medseal_recipient_key_free(bob);
}

static void test_recipient_key_errors(void) {
    static const char garbage[] = "not a key";
    static const char ed25519_jwk[] = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
    medseal_recipient_key *key = new_key();
    medseal_recipient_key *k = SENTINEL_PTR;
    medseal_buffer *b = SENTINEL_PTR;
    uint32_t u = SENTINEL_U32;

    CHECK_RC(medseal_recipient_key_generate(NULL), MEDSEAL_NULL_ARGUMENT);

    CHECK_RC(medseal_recipient_key_import(NULL, 0, &k), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_import(NULL, 10, &k), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_import((const uint8_t *)RFC8037_PUBLIC_JWK, strlen(RFC8037_PUBLIC_JWK), NULL),
             MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_import((const uint8_t *)garbage, strlen(garbage), &k), MEDSEAL_KEY_FORMAT);
    CHECK_RC(medseal_recipient_key_import((const uint8_t *)garbage, 0, &k), MEDSEAL_KEY_FORMAT);
    CHECK_RC(medseal_recipient_key_import((const uint8_t *)ed25519_jwk, strlen(ed25519_jwk), &k), MEDSEAL_KEY_UNSUPPORTED);
    CHECK(k == SENTINEL_PTR);

    /* A signing key is not a recipient key. */
    medseal_key *signing = NULL;
    medseal_buffer *pem = NULL;
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &signing));
    REQUIRE_OK(medseal_key_export(signing, MEDSEAL_KEY_FORMAT_PKCS8_PEM, &pem));
    CHECK_RC(medseal_recipient_key_import(medseal_buffer_data(pem), medseal_buffer_len(pem), &k), MEDSEAL_KEY_UNSUPPORTED);
    CHECK_ERROR_CONTAINS("not X25519");
    medseal_buffer_free(pem);
    pem = NULL;
    REQUIRE_OK(medseal_key_export(signing, MEDSEAL_KEY_FORMAT_SPKI_DER, &pem));
    CHECK_RC(medseal_recipient_key_import(medseal_buffer_data(pem), medseal_buffer_len(pem), &k), MEDSEAL_KEY_UNSUPPORTED);
    medseal_buffer_free(pem);
    medseal_key_free(signing);
    CHECK(k == SENTINEL_PTR);

    CHECK_RC(medseal_recipient_key_from_raw(NULL, 32, MEDSEAL_KEY_FORMAT_RAW_PRIVATE, &k), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_from_raw(RFC8037_SECRET, 32, MEDSEAL_KEY_FORMAT_RAW_PRIVATE, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_from_raw(RFC8037_SECRET, 31, MEDSEAL_KEY_FORMAT_RAW_PRIVATE, &k), MEDSEAL_KEY_INVALID);
    CHECK_RC(medseal_recipient_key_from_raw(RFC8037_SECRET, 0, MEDSEAL_KEY_FORMAT_RAW_PUBLIC, &k), MEDSEAL_KEY_INVALID);
    CHECK_RC(medseal_recipient_key_from_raw(RFC8037_SECRET, 32, MEDSEAL_KEY_FORMAT_JWK, &k), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_recipient_key_from_raw(RFC8037_SECRET, 32, 0, &k), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_recipient_key_from_raw(RFC8037_SECRET, 32, 99, &k), MEDSEAL_INVALID_ARGUMENT);
    CHECK(k == SENTINEL_PTR);

    CHECK_RC(medseal_recipient_key_export(NULL, MEDSEAL_KEY_FORMAT_JWK, &b), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_export(key, MEDSEAL_KEY_FORMAT_JWK, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_export(key, 0, &b), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_recipient_key_export(key, 10, &b), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_recipient_key_kid(NULL, &b), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_kid(key, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK(b == SENTINEL_PTR);
    CHECK_RC(medseal_recipient_key_has_private(NULL, &u), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_has_private(key, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK(u == SENTINEL_U32);

    medseal_recipient_key_free(NULL);
    medseal_recipient_key_free(key);
}

/* ---- meta --------------------------------------------------------------------------------- */

static void test_meta(void) {
    static const uint8_t bad_utf8[] = {'r', 'e', 'c', 0xC3, 0x28};
    static const char control[] = "rec\n1";
    char long_text[258];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    const uint8_t *rid = (const uint8_t *)RECORD_ID, *src = (const uint8_t *)SOURCE;
    size_t rid_len = strlen(RECORD_ID), src_len = strlen(SOURCE);
    medseal_meta *m = SENTINEL_PTR;

    CHECK_RC(medseal_meta_new(NULL, rid_len, src, src_len, 1, &m), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_meta_new(rid, rid_len, NULL, src_len, 1, &m), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_meta_new(rid, rid_len, src, src_len, 1, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_meta_new(bad_utf8, sizeof bad_utf8, src, src_len, 1, &m), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_ERROR_CONTAINS("record_id");
    CHECK_RC(medseal_meta_new(rid, rid_len, bad_utf8, sizeof bad_utf8, 1, &m), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_ERROR_CONTAINS("source");
    CHECK_RC(medseal_meta_new(rid, rid_len, src, src_len, 0, &m), MEDSEAL_SEAL_META_INVALID);
    CHECK_ERROR_CONTAINS("sequence");
    CHECK_RC(medseal_meta_new(rid, rid_len, src, src_len, UINT64_C(1) << 53, &m), MEDSEAL_SEAL_META_INVALID);
    CHECK_RC(medseal_meta_new(rid, rid_len, src, src_len, UINT64_MAX, &m), MEDSEAL_SEAL_META_INVALID);
    CHECK_RC(medseal_meta_new(rid, 0, src, src_len, 1, &m), MEDSEAL_SEAL_META_INVALID);
    CHECK_RC(medseal_meta_new(rid, rid_len, src, 0, 1, &m), MEDSEAL_SEAL_META_INVALID);
    CHECK_RC(medseal_meta_new((const uint8_t *)long_text, 257, src, src_len, 1, &m), MEDSEAL_SEAL_META_INVALID);
    CHECK_RC(medseal_meta_new((const uint8_t *)control, strlen(control), src, src_len, 1, &m), MEDSEAL_SEAL_META_INVALID);
    CHECK(m == SENTINEL_PTR);
    m = NULL;
    CHECK_OK(medseal_meta_new((const uint8_t *)long_text, 256, src, src_len, (UINT64_C(1) << 53) - 1, &m));
    medseal_meta_free(m);
    m = NULL;

    /* Setters: checked at once; a refused value leaves the meta as it was. */
    medseal_meta *meta = fixed_meta("text/plain");
    static const char *bad_times[] = {"yesterday", "2025-01-31", "2025-01-31 08:00:00", "2025-13-01T00:00:00Z", ""};
    for (size_t i = 0; i < sizeof bad_times / sizeof *bad_times; i++) {
        CHECK_RC(medseal_meta_set_created(meta, (const uint8_t *)bad_times[i], strlen(bad_times[i])),
                 MEDSEAL_SEAL_META_INVALID);
    }
    CHECK_RC(medseal_meta_set_created(meta, bad_utf8, sizeof bad_utf8), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_RC(medseal_meta_set_created(NULL, (const uint8_t *)CREATED, strlen(CREATED)), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_meta_set_created(meta, NULL, 0), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_meta_set_content_type(meta, (const uint8_t *)"", 0), MEDSEAL_SEAL_META_INVALID);
    CHECK_RC(medseal_meta_set_content_type(meta, (const uint8_t *)"text/\x01plain", 11), MEDSEAL_SEAL_META_INVALID);
    CHECK_RC(medseal_meta_set_content_type(meta, (const uint8_t *)long_text, 257), MEDSEAL_SEAL_META_INVALID);
    CHECK_RC(medseal_meta_set_content_type(meta, bad_utf8, sizeof bad_utf8), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_RC(medseal_meta_set_content_type(NULL, (const uint8_t *)"a/b", 3), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_meta_set_content_type(meta, NULL, 3), MEDSEAL_NULL_ARGUMENT);

    medseal_recipient_key *key = new_key();
    const medseal_recipient_key *to[] = {key};
    medseal_buffer *sealed = seal(meta, to, 1, PLAINTEXT, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_PROTOBUF);
    medseal_envelope *env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
    META_IS(env, META_JSON);
    medseal_envelope_free(env);
    medseal_buffer_free(sealed);

    /* The wire format says UTC: an offset time is refused (and the meta keeps its value). */
    static const char offset_time[] = "2025-01-31T15:00:00+07:00";
    CHECK_RC(medseal_meta_set_created(meta, (const uint8_t *)offset_time, strlen(offset_time)), MEDSEAL_SEAL_META_INVALID);
    /* Other accepted values: fractional seconds, another media type. */
    static const char utc_time[] = "2025-01-31T08:00:00.25Z";
    CHECK_OK(medseal_meta_set_created(meta, (const uint8_t *)utc_time, strlen(utc_time)));
    CHECK_OK(medseal_meta_set_content_type(meta, (const uint8_t *)"application/fhir+json", 21));
    sealed = seal(meta, to, 1, PLAINTEXT, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_JSON);
    env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
    META_IS(env, "{\"content_type\":\"application/fhir+json\",\"created\":\"2025-01-31T08:00:00.25Z\",\"record_id\":\"" RECORD_ID
                 "\",\"sequence\":7,\"source\":\"" SOURCE "\"}");
    OPEN_OK(env, key, PLAINTEXT);
    medseal_envelope_free(env);
    medseal_buffer_free(sealed);

    /* The default meta: created now (RFC 3339 UTC), a signed record's content type. */
    m = NULL;
    REQUIRE_OK(medseal_meta_new(rid, rid_len, src, src_len, 1, &m));
    sealed = seal(m, to, 1, PLAINTEXT, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_JSON);
    env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
    medseal_buffer *meta_json = NULL;
    if (CHECK_OK(medseal_envelope_meta(env, &meta_json))) {
        CHECK_CONTAINS(medseal_buffer_data(meta_json), medseal_buffer_len(meta_json),
                       "{\"content_type\":\"application/jose+json\",\"created\":\"20");
        CHECK_CONTAINS(medseal_buffer_data(meta_json), medseal_buffer_len(meta_json), "Z\",\"record_id\"");
    }
    medseal_buffer_free(meta_json);
    medseal_envelope_free(env);
    medseal_buffer_free(sealed);
    medseal_meta_free(m);

    medseal_recipient_key_free(key);
    medseal_meta_free(meta);
    medseal_meta_free(NULL);
}

/* ---- sealing and opening ------------------------------------------------------------------ */

static void test_round_trips(void) {
    medseal_recipient_key *keys[3] = {new_key(), new_key(), new_key()};
    medseal_recipient_key *publics[3] = {public_of(keys[0]), public_of(keys[1]), public_of(keys[2])};
    medseal_recipient_key *outsider = new_key();
    const medseal_recipient_key *to[3] = {publics[0], publics[1], publics[2]};
    medseal_meta *meta = fixed_meta("text/plain");
    char kid[MEDSEAL_KID_BYTES + 1], member[80];

    for (size_t a = 0; a < 2; a++) {
        for (size_t e = 0; e < 2; e++) {
            for (size_t n = 1; n <= 3; n += 2) {
                medseal_buffer *sealed = seal(meta, to, n, PLAINTEXT, AEADS[a], ENCODINGS[e]);
                const uint8_t *data = medseal_buffer_data(sealed);
                size_t len = medseal_buffer_len(sealed);
                if (ENCODINGS[e] == MEDSEAL_ENVELOPE_JSON) {
                    CHECK(len > 0 && data[0] == '{');
                    CHECK_CONTAINS(data, len, AEADS[a] == MEDSEAL_AEAD_AES_256_GCM ? "\"aead\":2" : "\"aead\":3");
                    CHECK_CONTAINS(data, len, "\"kdf\":1,\"kem\":32");
                    CHECK(mem_contains(data, len, "\"wrapped_key\"") == (n > 1));
                } else {
                    CHECK(len > 0 && data[0] != '{');
                }
                CHECK(!mem_contains(data, len, "HbA1c")); /* the plaintext is not in clear */
                for (size_t i = 0; i < 3; i++) {
                    kid_of(keys[i], kid);
                    snprintf(member, sizeof member, ENCODINGS[e] == MEDSEAL_ENVELOPE_JSON ? "\"kid\":\"%s\"" : "%s", kid);
                    CHECK(mem_contains(data, len, member) == (i < n));
                }
                medseal_envelope *env = decode(data, len);
                META_IS(env, META_JSON);
                for (size_t i = 0; i < 3; i++) {
                    if (i < n) {
                        OPEN_OK(env, keys[i], PLAINTEXT);
                        OPEN_ERR(env, publics[i], MEDSEAL_KEY_NOT_PRIVATE);
                    } else {
                        OPEN_ERR(env, keys[i], MEDSEAL_SEAL_WRONG_RECIPIENT);
                    }
                }
                OPEN_ERR(env, outsider, MEDSEAL_SEAL_WRONG_RECIPIENT);
                CHECK_ERROR_CONTAINS("not addressed to key");
                medseal_envelope_free(env);
                medseal_buffer_free(sealed);
            }
        }
    }

    /* Leading blanks before JSON; an empty plaintext; two seals of the same input differ. */
    medseal_buffer *sealed = seal(meta, to, 1, PLAINTEXT, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_JSON);
    size_t len = medseal_buffer_len(sealed);
    uint8_t *padded = xmalloc(len + 3);
    memcpy(padded, " \n\t", 3);
    memcpy(padded + 3, medseal_buffer_data(sealed), len);
    medseal_envelope *env = decode(padded, len + 3);
    OPEN_OK(env, keys[0], PLAINTEXT);
    medseal_envelope_free(env);
    free(padded);
    medseal_buffer *again = seal(meta, to, 1, PLAINTEXT, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_JSON);
    CHECK(medseal_buffer_len(again) != len || memcmp(medseal_buffer_data(again), medseal_buffer_data(sealed), len) != 0);
    medseal_buffer_free(again);
    medseal_buffer_free(sealed);
    for (size_t n = 1; n <= 3; n += 2) {
        medseal_buffer *empty = NULL;
        if (CHECK_OK(medseal_envelope_seal((const uint8_t *)"", 0, meta, to, n, MEDSEAL_AEAD_CHACHA20_POLY1305,
                                  MEDSEAL_ENVELOPE_PROTOBUF, &empty))) {
            env = decode(medseal_buffer_data(empty), medseal_buffer_len(empty));
            OPEN_OK(env, keys[0], "");
            medseal_envelope_free(env);
        }
        medseal_buffer_free(empty);
    }

    /* The most recipients allowed, all distinct. */
    medseal_recipient_key *distinct[MEDSEAL_MAX_RECIPIENTS + 1];
    const medseal_recipient_key *many[MEDSEAL_MAX_RECIPIENTS + 1];
    for (size_t i = 0; i <= MEDSEAL_MAX_RECIPIENTS; i++) {
        distinct[i] = new_key();
        many[i] = distinct[i];
    }
    sealed = NULL;
    if (CHECK_OK(medseal_envelope_seal((const uint8_t *)PLAINTEXT, strlen(PLAINTEXT), meta, many, MEDSEAL_MAX_RECIPIENTS,
                              MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_PROTOBUF, &sealed))) {
        env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
        OPEN_OK(env, distinct[2], PLAINTEXT);
        medseal_envelope_free(env);
    }
    medseal_buffer_free(sealed);
    /* A key listed twice is a mistake: refused. */
    const medseal_recipient_key *twice[] = {distinct[0], distinct[1], distinct[0]};
    sealed = SENTINEL_PTR;
    CHECK_RC(medseal_envelope_seal((const uint8_t *)PLAINTEXT, strlen(PLAINTEXT), meta, twice, 3, MEDSEAL_AEAD_AES_256_GCM,
                          MEDSEAL_ENVELOPE_PROTOBUF, &sealed),
             MEDSEAL_INVALID_ARGUMENT);
    CHECK(sealed == SENTINEL_PTR);
    CHECK_ERROR_CONTAINS("twice");
    medseal_buffer *b = SENTINEL_PTR;
    CHECK_RC(medseal_envelope_seal((const uint8_t *)PLAINTEXT, strlen(PLAINTEXT), meta, many, MEDSEAL_MAX_RECIPIENTS + 1,
                          MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_PROTOBUF, &b),
             MEDSEAL_INVALID_ARGUMENT);
    CHECK(b == SENTINEL_PTR);
    for (size_t i = 0; i <= MEDSEAL_MAX_RECIPIENTS; i++) {
        medseal_recipient_key_free(distinct[i]);
    }

    medseal_meta_free(meta);
    medseal_recipient_key_free(outsider);
    for (size_t i = 0; i < 3; i++) {
        medseal_recipient_key_free(keys[i]);
        medseal_recipient_key_free(publics[i]);
    }
}

static void test_seal_errors(void) {
    medseal_recipient_key *a = new_key(), *b = new_key();
    const medseal_recipient_key *to[3] = {a, b, a};
    const medseal_recipient_key *null_first[2] = {NULL, b};
    const medseal_recipient_key *null_last[3] = {a, b, NULL};
    medseal_meta *meta = fixed_meta(NULL);
    medseal_key *signing = NULL;
    medseal_signer_builder *sb = NULL;
    medseal_signer *signer = NULL;
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &signing));
    REQUIRE_OK(medseal_signer_builder_new(signing, &sb));
    REQUIRE_OK(medseal_signer_builder_build(sb, &signer));
    const uint8_t *pt = (const uint8_t *)PLAINTEXT, *doc = (const uint8_t *)DOC;
    size_t pt_len = strlen(PLAINTEXT), doc_len = strlen(DOC);
    const uint32_t AES = MEDSEAL_AEAD_AES_256_GCM, JSON = MEDSEAL_ENVELOPE_JSON;
    medseal_buffer *out = SENTINEL_PTR;

    CHECK_RC(medseal_envelope_seal(pt, pt_len, NULL, to, 1, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal(pt, pt_len, meta, NULL, 1, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal(pt, pt_len, meta, NULL, 0, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal(pt, pt_len, meta, null_first, 2, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_ERROR_CONTAINS("recipients[0]");
    CHECK_RC(medseal_envelope_seal(pt, pt_len, meta, null_last, 3, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_ERROR_CONTAINS("recipients[2]");
    CHECK_RC(medseal_envelope_seal(NULL, pt_len, meta, to, 1, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal(NULL, 0, meta, to, 1, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal(pt, pt_len, meta, to, 1, AES, JSON, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal(pt, pt_len, meta, to, 0, AES, JSON, &out), MEDSEAL_INVALID_ARGUMENT);
    static const uint32_t bad_aeads[] = {0, 1, 4, 0x10000u + 2u, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_aeads / sizeof *bad_aeads; i++) {
        CHECK_RC(medseal_envelope_seal(pt, pt_len, meta, to, 1, bad_aeads[i], JSON, &out), MEDSEAL_INVALID_ARGUMENT);
        CHECK_RC(medseal_signer_sign_and_seal(signer, doc, doc_len, meta, to, 1, bad_aeads[i], JSON, &out),
                 MEDSEAL_INVALID_ARGUMENT);
    }
    CHECK_ERROR_CONTAINS("MEDSEAL_AEAD_");
    static const uint32_t bad_encodings[] = {0, 3, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_encodings / sizeof *bad_encodings; i++) {
        CHECK_RC(medseal_envelope_seal(pt, pt_len, meta, to, 3, AES, bad_encodings[i], &out), MEDSEAL_INVALID_ARGUMENT);
        CHECK_RC(medseal_signer_sign_and_seal(signer, doc, doc_len, meta, to, 3, AES, bad_encodings[i], &out),
                 MEDSEAL_INVALID_ARGUMENT);
    }
    CHECK_ERROR_CONTAINS("MEDSEAL_ENVELOPE_");

    CHECK_RC(medseal_signer_sign_and_seal(NULL, doc, doc_len, meta, to, 1, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_signer_sign_and_seal(signer, doc, doc_len, NULL, to, 1, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_signer_sign_and_seal(signer, doc, doc_len, meta, NULL, 1, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_signer_sign_and_seal(signer, doc, doc_len, meta, null_last, 3, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_signer_sign_and_seal(signer, NULL, doc_len, meta, to, 1, AES, JSON, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_signer_sign_and_seal(signer, doc, doc_len, meta, to, 1, AES, JSON, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_signer_sign_and_seal(signer, doc, doc_len, meta, to, 0, AES, JSON, &out), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_signer_sign_and_seal(signer, pt, pt_len, meta, to, 1, AES, JSON, &out), MEDSEAL_JSON_SYNTAX);
    CHECK(out == SENTINEL_PTR);

    medseal_signer_free(signer);
    medseal_signer_builder_free(sb);
    medseal_key_free(signing);
    medseal_meta_free(meta);
    medseal_recipient_key_free(a);
    medseal_recipient_key_free(b);
}

/* ---- decoding, tampering ------------------------------------------------------------------ */

static void test_tampering(void) {
    medseal_recipient_key *hub = new_key(), *insurer = new_key();
    const medseal_recipient_key *to[2] = {hub, insurer};
    medseal_meta *meta = fixed_meta("text/plain");
    size_t len = 0;
    uint8_t *bad = NULL;

    for (size_t n = 1; n <= 2; n++) {
        /* JSON: one byte of ct; the sequence in meta; the suite; an unknown member; a short ct. */
        medseal_buffer *sealed = seal(meta, to, n, PLAINTEXT, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_JSON);
        const uint8_t *json = medseal_buffer_data(sealed);
        size_t json_len = medseal_buffer_len(sealed);
        CHECK(json_len > 7 && memcmp(json, "{\"ct\":\"", 7) == 0);
        bad = xmalloc(json_len);
        memcpy(bad, json, json_len);
        bad[7] = bad[7] == 'A' ? 'B' : 'A'; /* the first base64url character of ct */
        DECODE_OPEN_ERR(bad, json_len, hub, MEDSEAL_SEAL_DECRYPT_FAILED);
        if (n == 2) {
            DECODE_OPEN_ERR(bad, json_len, insurer, MEDSEAL_SEAL_DECRYPT_FAILED);
        }
        free(bad);

        /* A changed meta no longer matches the informative info copy: decoding refuses it. With
         * the copy emptied (it is optional), it decodes, and opening refuses it (HPKE binds it). */
        bad = replace_once(json, json_len, "\"sequence\":7", "\"sequence\":8", &len);
        if (CHECK(bad != NULL)) {
            DECODE_ERR(bad, len, MEDSEAL_SEAL_DECRYPT_FAILED);
            CHECK_ERROR_CONTAINS("informative \"info\"");
            size_t bare_len = 0;
            uint8_t *bare = without_info(bad, len, &bare_len);
            if (CHECK(bare != NULL)) {
                medseal_envelope *env = decode(bare, bare_len);
                META_IS(env, "{\"content_type\":\"text/plain\",\"created\":\"" CREATED "\",\"record_id\":\"" RECORD_ID
                             "\",\"sequence\":8,\"source\":\"" SOURCE "\"}");
                OPEN_ERR(env, hub, MEDSEAL_SEAL_DECRYPT_FAILED);
                medseal_envelope_free(env);
            }
            free(bare);
        }
        free(bad);
        bad = replace_once(json, json_len, "\"source\":\"bv-cho-ray\"", "\"source\":\"bv-cho-raz\"", &len);
        if (CHECK(bad != NULL)) {
            DECODE_ERR(bad, len, MEDSEAL_SEAL_DECRYPT_FAILED);
            size_t bare_len = 0;
            uint8_t *bare = without_info(bad, len, &bare_len);
            if (CHECK(bare != NULL)) {
                DECODE_OPEN_ERR(bare, bare_len, hub, MEDSEAL_SEAL_DECRYPT_FAILED);
            }
            free(bare);
        }
        free(bad);
        /* The unchanged envelope without its info copy decodes and opens. */
        {
            size_t bare_len = 0;
            uint8_t *bare = without_info(json, json_len, &bare_len);
            if (CHECK(bare != NULL)) {
                medseal_envelope *env = decode(bare, bare_len);
                OPEN_OK(env, hub, PLAINTEXT);
                medseal_envelope_free(env);
            }
            free(bare);
        }

        bad = replace_once(json, json_len, "\"aead\":2", "\"aead\":9", &len);
        if (CHECK(bad != NULL)) {
            DECODE_ERR(bad, len, MEDSEAL_SEAL_UNKNOWN_SUITE);
        }
        free(bad);
        bad = replace_once(json, json_len, "\"aead\":2", "\"aead\":1", &len); /* AES-128-GCM: not for envelopes */
        if (CHECK(bad != NULL)) {
            DECODE_ERR(bad, len, MEDSEAL_SEAL_UNKNOWN_SUITE);
        }
        free(bad);
        bad = replace_once(json, json_len, "\"aead\":2", "\"aead\":3", &len); /* claims the other AEAD */
        if (CHECK(bad != NULL)) {
            DECODE_OPEN_ERR(bad, len, hub, MEDSEAL_SEAL_DECRYPT_FAILED);
        }
        free(bad);

        bad = replace_once(json, json_len, "{\"ct\":", "{\"comment\":\"hi\",\"ct\":", &len);
        if (CHECK(bad != NULL)) {
            DECODE_ERR(bad, len, MEDSEAL_SEAL_MALFORMED);
            CHECK_ERROR_CONTAINS("unknown member \"comment\"");
        }
        free(bad);
        bad = replace_once(json, json_len, "\"sequence\":7", "\"sequence\":7,\"priority\":1", &len);
        if (CHECK(bad != NULL)) {
            DECODE_ERR(bad, len, MEDSEAL_SEAL_MALFORMED);
        }
        free(bad);
        bad = replace_once(json, json_len, "\"sequence\":7", "\"sequence\":0", &len);
        if (CHECK(bad != NULL)) {
            DECODE_ERR(bad, len, MEDSEAL_SEAL_META_INVALID);
        }
        free(bad);
        bad = replace_once(json, json_len, "{\"ct\":\"", "{\"ct\":\"AAAA\",\"x\":\"", &len);
        if (CHECK(bad != NULL)) {
            DECODE_ERR(bad, len, MEDSEAL_SEAL_MALFORMED); /* "x" is unknown */
        }
        free(bad);
        /* ct of 3 bytes: shorter than the 16-byte tag. Cut the ct string after 4 characters. */
        {
            const uint8_t *end = memchr(json + 7, '"', json_len - 7);
            if (CHECK(end != NULL)) {
                size_t rest = json_len - (size_t)(end - json);
                bad = xmalloc(11 + rest);
                memcpy(bad, json, 11);
                memcpy(bad + 11, end, rest);
                DECODE_ERR(bad, 11 + rest, MEDSEAL_SEAL_TRUNCATED);
                free(bad);
            }
        }
        DECODE_ERR(json, json_len - 1, MEDSEAL_SEAL_MALFORMED); /* not JSON any more */
        medseal_buffer_free(sealed);

        /* Protobuf: one byte of ct (field 4); the record id in meta. */
        sealed = seal(meta, to, n, PLAINTEXT, MEDSEAL_AEAD_CHACHA20_POLY1305, MEDSEAL_ENVELOPE_PROTOBUF);
        const uint8_t *pb = medseal_buffer_data(sealed);
        size_t pb_len = medseal_buffer_len(sealed), ct_at = 0, ct_len = 0;
        if (CHECK(protobuf_field(pb, pb_len, 4, &ct_at, &ct_len)) && CHECK(ct_len == strlen(PLAINTEXT) + 16)) {
            bad = xmalloc(pb_len);
            memcpy(bad, pb, pb_len);
            bad[ct_at + ct_len / 2] ^= 0x01;
            DECODE_OPEN_ERR(bad, pb_len, hub, MEDSEAL_SEAL_DECRYPT_FAILED);
            bad[ct_at + ct_len / 2] ^= 0x01;
            bad[ct_at + ct_len - 1] ^= 0x80; /* the tag */
            DECODE_OPEN_ERR(bad, pb_len, hub, MEDSEAL_SEAL_DECRYPT_FAILED);
            free(bad);
        }
        /* The record id in meta (field 1): no longer the informative info's (field 5), so
         * decoding refuses it; changed in the info copy too, it decodes and fails to open. */
        bad = replace_once(pb, pb_len, RECORD_ID, "rec-0002", &len);
        if (CHECK(bad != NULL)) {
            DECODE_ERR(bad, len, MEDSEAL_SEAL_DECRYPT_FAILED);
            size_t both_len = 0;
            uint8_t *both = replace_once(bad, len, RECORD_ID, "rec-0002", &both_len);
            if (CHECK(both != NULL)) {
                DECODE_OPEN_ERR(both, both_len, hub, MEDSEAL_SEAL_DECRYPT_FAILED);
            }
            free(both);
        }
        free(bad);
        {
            medseal_envelope *env = decode(pb, pb_len);
            OPEN_OK(env, hub, PLAINTEXT);
            medseal_envelope_free(env);
        }
        medseal_buffer_free(sealed);
    }

    /* Not an envelope at all. */
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x42, 0x13, 0x37};
    DECODE_ERR(garbage, sizeof garbage, MEDSEAL_SEAL_NOT_PROTOBUF);
    DECODE_ERR((const uint8_t *)"hello", 5, MEDSEAL_SEAL_NOT_PROTOBUF);
    DECODE_ERR((const uint8_t *)"", 0, MEDSEAL_SEAL_NOT_PROTOBUF);
    DECODE_ERR((const uint8_t *)"{}", 2, MEDSEAL_SEAL_MALFORMED);
    DECODE_ERR((const uint8_t *)"[1]", 3, MEDSEAL_SEAL_NOT_PROTOBUF);

    medseal_meta_free(meta);
    medseal_recipient_key_free(hub);
    medseal_recipient_key_free(insurer);
}

static void test_envelope_null_arguments(void) {
    medseal_recipient_key *key = new_key();
    const medseal_recipient_key *to[1] = {key};
    medseal_meta *meta = fixed_meta(NULL);
    medseal_buffer *sealed = seal(meta, to, 1, PLAINTEXT, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_JSON);
    medseal_envelope *env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
    medseal_key *signing = NULL;
    medseal_verifier_builder *vb = NULL;
    medseal_verifier *verifier = NULL;
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_ES256, &signing));
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    REQUIRE_OK(medseal_verifier_builder_add_key(vb, signing));
    REQUIRE_OK(medseal_verifier_builder_build(vb, &verifier));
    medseal_envelope *e = SENTINEL_PTR;
    medseal_buffer *b = SENTINEL_PTR;
    medseal_verified *v = SENTINEL_PTR;

    CHECK_RC(medseal_envelope_decode(NULL, 10, &e), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_decode(NULL, 0, &e), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed), NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_meta(NULL, &b), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_meta(env, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open(NULL, key, &b), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open(env, NULL, &b), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open(env, key, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open_verified(NULL, key, verifier, &v), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open_verified(env, NULL, verifier, &v), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open_verified(env, key, NULL, &v), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open_verified(env, key, verifier, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK(e == SENTINEL_PTR && b == SENTINEL_PTR && v == SENTINEL_PTR);

    /* The plaintext is not a JWS: opening works, verifying does not. */
    OPEN_OK(env, key, PLAINTEXT);
    CHECK_RC(medseal_envelope_open_verified(env, key, verifier, &v), MEDSEAL_JWS_MALFORMED);
    CHECK(v == SENTINEL_PTR);

    /* A decoded envelope outlives the bytes and key handles it came from. */
    medseal_buffer_free(sealed);
    medseal_meta_free(meta);
    medseal_buffer *meta_json = NULL;
    CHECK_OK(medseal_envelope_meta(env, &meta_json));
    medseal_buffer_free(meta_json);

    medseal_envelope_free(NULL);
    medseal_envelope_free(env);
    medseal_verifier_free(verifier);
    medseal_verifier_builder_free(vb);
    medseal_key_free(signing);
    medseal_recipient_key_free(key);
}

/* ---- sign then seal ----------------------------------------------------------------------- */

static void test_signed(void) {
    medseal_key *signing = NULL, *other = NULL;
    medseal_signer_builder *sb = NULL;
    medseal_signer *signer = NULL;
    medseal_verifier_builder *vb = NULL, *wrong_vb = NULL;
    medseal_verifier *verifier = NULL, *wrong = NULL;
    medseal_buffer *signing_kid = NULL;
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &signing));
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &other));
    REQUIRE_OK(medseal_key_kid(signing, &signing_kid));
    REQUIRE_OK(medseal_signer_builder_new(signing, &sb));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(sb, INT64_C(1738310400))); /* 2025-01-31T08:00:00Z */
    REQUIRE_OK(medseal_signer_builder_build(sb, &signer));
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    REQUIRE_OK(medseal_verifier_builder_add_key(vb, signing));
    REQUIRE_OK(medseal_verifier_builder_build(vb, &verifier));
    REQUIRE_OK(medseal_verifier_builder_new(&wrong_vb));
    REQUIRE_OK(medseal_verifier_builder_add_key(wrong_vb, other));
    REQUIRE_OK(medseal_verifier_builder_build(wrong_vb, &wrong));

    medseal_recipient_key *hub = new_key(), *insurer = new_key(), *outsider = new_key();
    medseal_recipient_key *hub_public = public_of(hub), *insurer_public = public_of(insurer);
    const medseal_recipient_key *to[2] = {hub_public, insurer_public};
    /* The meta says text/plain; seal_signed writes application/jose+json regardless. */
    medseal_meta *meta = fixed_meta("text/plain");
    medseal_meta *plain_meta = fixed_meta(NULL);

    for (size_t a = 0; a < 2; a++) {
        for (size_t e = 0; e < 2; e++) {
            for (size_t n = 1; n <= 2; n++) {
                medseal_buffer *sealed = NULL;
                if (!CHECK_OK(medseal_signer_sign_and_seal(signer, (const uint8_t *)DOC, strlen(DOC), meta, to, n, AEADS[a],
                                                  ENCODINGS[e], &sealed))) {
                    continue;
                }
                medseal_envelope *env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
                META_IS(env, "{\"content_type\":\"application/jose+json\",\"created\":\"" CREATED "\",\"record_id\":\"" RECORD_ID
                             "\",\"sequence\":7,\"source\":\"" SOURCE "\"}");
                const medseal_recipient_key *openers[2] = {hub, insurer};
                for (size_t i = 0; i < n; i++) {
                    medseal_verified *verified = SENTINEL_PTR;
                    if (CHECK_OK(medseal_envelope_open_verified(env, openers[i], verifier, &verified))) {
                        const uint8_t *data = NULL;
                        size_t len = 0;
                        CHECK_OK(medseal_verified_payload(verified, &data, &len));
                        CHECK_MEM(data, len, DOC_CANON);
                        CHECK_OK(medseal_verified_key_id(verified, &data, &len));
                        CHECK_BYTES(data, len, medseal_buffer_data(signing_kid), medseal_buffer_len(signing_kid));
                        CHECK_OK(medseal_verified_signing_time(verified, &data, &len));
                        CHECK_MEM(data, len, CREATED);
                        medseal_verified_free(verified);
                    }
                    /* Opened without verifying: the JWS JSON flattened serialization. */
                    medseal_buffer *jws = NULL;
                    if (CHECK_OK(medseal_envelope_open(env, openers[i], &jws))) {
                        CHECK_CONTAINS(medseal_buffer_data(jws), medseal_buffer_len(jws), "{\"payload\":\"");
                    }
                    medseal_buffer_free(jws);
                }
                medseal_verified *v = SENTINEL_PTR;
                CHECK_RC(medseal_envelope_open_verified(env, hub, wrong, &v), MEDSEAL_JWS_SIGNATURE_INVALID);
                CHECK_RC(medseal_envelope_open_verified(env, outsider, verifier, &v), MEDSEAL_SEAL_WRONG_RECIPIENT);
                CHECK_RC(medseal_envelope_open_verified(env, hub_public, verifier, &v), MEDSEAL_KEY_NOT_PRIVATE);
                if (n == 1) {
                    CHECK_RC(medseal_envelope_open_verified(env, insurer, verifier, &v), MEDSEAL_SEAL_WRONG_RECIPIENT);
                }
                CHECK(v == SENTINEL_PTR);
                medseal_envelope_free(env);
                medseal_buffer_free(sealed);
            }
        }
    }

    /* A JWS sealed by medseal_envelope_seal with the default content type opens and verifies too ... */
    medseal_buffer *jws = NULL, *sealed = NULL;
    REQUIRE_OK(medseal_signer_sign(signer, (const uint8_t *)DOC, strlen(DOC), MEDSEAL_JWS_COMPACT, &jws));
    REQUIRE_OK(medseal_envelope_seal(medseal_buffer_data(jws), medseal_buffer_len(jws), plain_meta, to, 1,
                            MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_PROTOBUF, &sealed));
    medseal_envelope *env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
    medseal_verified *verified = NULL;
    if (CHECK_OK(medseal_envelope_open_verified(env, hub, verifier, &verified))) {
        const uint8_t *data = NULL;
        size_t len = 0;
        CHECK_OK(medseal_verified_payload(verified, &data, &len));
        CHECK_MEM(data, len, DOC_CANON);
    }
    medseal_verified_free(verified);
    medseal_envelope_free(env);
    medseal_buffer_free(sealed);
    /* ... but not one whose content type says it is something else. */
    sealed = NULL;
    REQUIRE_OK(medseal_envelope_seal(medseal_buffer_data(jws), medseal_buffer_len(jws), meta, to, 1, MEDSEAL_AEAD_AES_256_GCM,
                            MEDSEAL_ENVELOPE_JSON, &sealed));
    env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
    medseal_verified *v = SENTINEL_PTR;
    CHECK_RC(medseal_envelope_open_verified(env, hub, verifier, &v), MEDSEAL_SEAL_META_INVALID);
    CHECK_ERROR_CONTAINS("text/plain");
    CHECK(v == SENTINEL_PTR);
    medseal_envelope_free(env);
    medseal_buffer_free(sealed);
    medseal_buffer_free(jws);

    /* Handles freed before the envelope is opened: nothing borrows them. */
    sealed = NULL;
    REQUIRE_OK(medseal_signer_sign_and_seal(signer, (const uint8_t *)DOC, strlen(DOC), meta, to, 2, MEDSEAL_AEAD_AES_256_GCM,
                                   MEDSEAL_ENVELOPE_JSON, &sealed));
    medseal_signer_free(signer);
    medseal_signer_builder_free(sb);
    medseal_key_free(signing);
    medseal_meta_free(meta);
    medseal_recipient_key_free(hub_public);
    medseal_recipient_key_free(insurer_public);
    env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
    medseal_buffer_free(sealed);
    verified = NULL;
    if (CHECK_OK(medseal_envelope_open_verified(env, insurer, verifier, &verified))) {
        const uint8_t *data = NULL;
        size_t len = 0;
        CHECK_OK(medseal_verified_payload(verified, &data, &len));
        CHECK_MEM(data, len, DOC_CANON);
    }
    medseal_verified_free(verified);
    medseal_envelope_free(env);

    medseal_meta_free(plain_meta);
    medseal_recipient_key_free(hub);
    medseal_recipient_key_free(insurer);
    medseal_recipient_key_free(outsider);
    medseal_buffer_free(signing_kid);
    medseal_verifier_free(verifier);
    medseal_verifier_free(wrong);
    medseal_verifier_builder_free(vb);
    medseal_verifier_builder_free(wrong_vb);
    medseal_key_free(other);
}

/* ---- threads ------------------------------------------------------------------------------ */

/* Immutable handles (recipient keys, a decoded envelope) and a meta no setter touches, used by
 * four threads at once. */
struct shared {
    const medseal_meta *meta;
    const medseal_recipient_key *const *to;
    const medseal_recipient_key *opener;
    const medseal_envelope *envelope;
};

static void *seal_and_open(void *arg) {
    const struct shared *sh = (const struct shared *)arg;
    for (int i = 0; i < 8; i++) {
        medseal_buffer *sealed = NULL;
        if (CHECK_OK(medseal_envelope_seal((const uint8_t *)PLAINTEXT, strlen(PLAINTEXT), sh->meta, sh->to, 2,
                                  AEADS[i % 2], ENCODINGS[(i / 2) % 2], &sealed))) {
            medseal_envelope *env = NULL;
            if (CHECK_OK(medseal_envelope_decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed), &env))) {
                OPEN_OK(env, sh->opener, PLAINTEXT);
                META_IS(env, META_JSON);
            }
            medseal_envelope_free(env);
        }
        medseal_buffer_free(sealed);
        OPEN_OK(sh->envelope, sh->opener, PLAINTEXT);
        OPEN_ERR(sh->envelope, sh->to[0], MEDSEAL_KEY_NOT_PRIVATE);
        CHECK_ERROR_CONTAINS("public only"); /* the last error is per thread */
    }
    return NULL;
}

static void test_threads(void) {
    medseal_recipient_key *hub = new_key(), *insurer = new_key();
    medseal_recipient_key *hub_public = public_of(hub), *insurer_public = public_of(insurer);
    const medseal_recipient_key *to[2] = {hub_public, insurer_public};
    medseal_meta *meta = fixed_meta("text/plain");
    medseal_buffer *sealed = seal(meta, to, 2, PLAINTEXT, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_PROTOBUF);
    medseal_envelope *env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
    struct shared sh = {meta, to, insurer, env};
    pthread_t threads[4];
    int started[4] = {0};
    for (int i = 0; i < 4; i++) {
        started[i] = CHECK(pthread_create(&threads[i], NULL, seal_and_open, &sh) == 0);
    }
    for (int i = 0; i < 4; i++) {
        if (started[i]) {
            pthread_join(threads[i], NULL);
        }
    }
    medseal_envelope_free(env);
    medseal_buffer_free(sealed);
    medseal_meta_free(meta);
    medseal_recipient_key_free(hub_public);
    medseal_recipient_key_free(insurer_public);
    medseal_recipient_key_free(hub);
    medseal_recipient_key_free(insurer);
}

/* A scratch buffer for calls that must fail before writing anything. */
static uint8_t *big_dummy(void) {
    static uint8_t scratch[256];
    return scratch;
}

/* Caller-allocated output: medseal_envelope_seal_into and medseal_envelope_open_into, with the size query
 * convention (out = NULL, cap = 0 gives MEDSEAL_BUFFER_TOO_SMALL and the size). */
static void test_caller_buffers(void) {
    medseal_meta *meta = fixed_meta("text/plain");
    medseal_recipient_key *hub = new_key();
    medseal_recipient_key *insurer = new_key();
    const medseal_recipient_key *one[] = {hub};
    const medseal_recipient_key *two[] = {hub, insurer};
    const size_t pt_len = strlen(PLAINTEXT);
    for (size_t n = 1; n <= 2; n++) {
        const medseal_recipient_key *const *to = n == 1 ? one : two;
        for (size_t a = 0; a < sizeof AEADS / sizeof AEADS[0]; a++) {
            size_t needed = SENTINEL_LEN;
            CHECK_RC(medseal_envelope_seal_into((const uint8_t *)PLAINTEXT, pt_len, meta, to, n, AEADS[a], NULL, 0, &needed),
                     MEDSEAL_BUFFER_TOO_SMALL);
            CHECK(needed > pt_len && needed != SENTINEL_LEN);
            /* The same length as the library-allocated protobuf envelope. */
            medseal_buffer *reference = seal(meta, to, n, PLAINTEXT, AEADS[a], MEDSEAL_ENVELOPE_PROTOBUF);
            CHECK(medseal_buffer_len(reference) == needed);
            medseal_buffer_free(reference);
            /* One byte short: the size again, nothing else. */
            uint8_t *buf = xmalloc(needed + 8);
            memset(buf, 'X', needed + 8);
            size_t written = SENTINEL_LEN;
            CHECK_RC(medseal_envelope_seal_into((const uint8_t *)PLAINTEXT, pt_len, meta, to, n, AEADS[a], buf, needed - 1, &written),
                     MEDSEAL_BUFFER_TOO_SMALL);
            CHECK(written == needed);
            CHECK(buf[0] == 'X');
            /* A larger buffer: exactly `needed` bytes written. */
            written = SENTINEL_LEN;
            CHECK_OK(medseal_envelope_seal_into((const uint8_t *)PLAINTEXT, pt_len, meta, to, n, AEADS[a], buf, needed + 8, &written));
            CHECK(written == needed);
            CHECK(buf[needed] == 'X');
            medseal_envelope *env = decode(buf, written);
            for (size_t k = 0; k < n; k++) {
                OPEN_OK(env, to[k], PLAINTEXT);
                /* One call from the encoded bytes, protobuf read in place. */
                size_t one_len = SENTINEL_LEN;
                CHECK_RC(medseal_recipient_key_open_into(to[k], buf, written, NULL, 0, &one_len), MEDSEAL_BUFFER_TOO_SMALL);
                CHECK(one_len == pt_len);
                char *one = xmalloc(pt_len);
                one_len = SENTINEL_LEN;
                CHECK_OK(medseal_recipient_key_open_into(to[k], buf, written, (uint8_t *)one, pt_len, &one_len));
                CHECK(one_len == pt_len && memcmp(one, PLAINTEXT, pt_len) == 0);
                free(one);
                size_t plain_len = SENTINEL_LEN;
                CHECK_RC(medseal_envelope_open_into(env, to[k], NULL, 0, &plain_len), MEDSEAL_BUFFER_TOO_SMALL);
                CHECK(plain_len == pt_len);
                char *plain = xmalloc(pt_len + 1);
                size_t got = SENTINEL_LEN;
                CHECK_RC(medseal_envelope_open_into(env, to[k], (uint8_t *)plain, pt_len - 1, &got), MEDSEAL_BUFFER_TOO_SMALL);
                CHECK(got == pt_len);
                got = SENTINEL_LEN;
                CHECK_OK(medseal_envelope_open_into(env, to[k], (uint8_t *)plain, pt_len + 1, &got));
                CHECK(got == pt_len && memcmp(plain, PLAINTEXT, pt_len) == 0);
                free(plain);
            }
            medseal_envelope_free(env);
            /* A flipped ciphertext byte: refused, and no plaintext is left in the buffer. */
            size_t ct_at = 0, ct_len = 0;
            CHECK(protobuf_field(buf, written, 4, &ct_at, &ct_len) && ct_len > 0);
            buf[ct_at + ct_len / 2] ^= 1;
            env = decode(buf, written);
            char *plain = xmalloc(pt_len);
            memset(plain, 'Y', pt_len);
            size_t got = SENTINEL_LEN;
            CHECK_RC(medseal_envelope_open_into(env, hub, (uint8_t *)plain, pt_len, &got), MEDSEAL_SEAL_DECRYPT_FAILED);
            CHECK(got == SENTINEL_LEN);
            int leaked = 0;
            for (size_t i = 0; i + 8 <= pt_len; i++) {
                leaked |= memcmp(plain + i, PLAINTEXT + i, 8) == 0;
            }
            CHECK(!leaked);
            free(plain);
            medseal_envelope_free(env);
            free(buf);
        }
    }
    /* Errors: NULL arguments, a NULL buffer with a capacity, bad AEAD, a public key. */
    uint8_t small[8];
    size_t w = SENTINEL_LEN;
    CHECK_RC(medseal_envelope_seal_into((const uint8_t *)PLAINTEXT, pt_len, NULL, one, 1, AEADS[0], NULL, 0, &w), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal_into((const uint8_t *)PLAINTEXT, pt_len, meta, NULL, 1, AEADS[0], NULL, 0, &w), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal_into(NULL, pt_len, meta, one, 1, AEADS[0], NULL, 0, &w), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal_into((const uint8_t *)PLAINTEXT, pt_len, meta, one, 1, AEADS[0], NULL, 0, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal_into((const uint8_t *)PLAINTEXT, pt_len, meta, one, 1, AEADS[0], NULL, 8, &w), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_seal_into((const uint8_t *)PLAINTEXT, pt_len, meta, one, 1, 1, small, sizeof small, &w), MEDSEAL_INVALID_ARGUMENT);
    /* Sealing in place (output over the input) would corrupt the record: refused. */
    uint8_t *in_place = xmalloc(4096);
    memcpy(in_place, PLAINTEXT, pt_len);
    CHECK_RC(medseal_envelope_seal_into(in_place, pt_len, meta, one, 1, AEADS[0], in_place, 4096, &w), MEDSEAL_INVALID_ARGUMENT);
    CHECK_ERROR_CONTAINS("overlaps");
    CHECK(memcmp(in_place, PLAINTEXT, pt_len) == 0);
    CHECK_RC(medseal_envelope_seal_into(in_place + 100, pt_len, meta, one, 1, AEADS[0], in_place, 4096, &w), MEDSEAL_INVALID_ARGUMENT);
    free(in_place);
    CHECK(w == SENTINEL_LEN);
    medseal_buffer *sealed = seal(meta, one, 1, PLAINTEXT, AEADS[0], MEDSEAL_ENVELOPE_JSON);
    medseal_envelope *env = decode(medseal_buffer_data(sealed), medseal_buffer_len(sealed));
    medseal_recipient_key *hub_public = public_of(hub);
    /* The one-call open reads JSON too; its errors are those of decode and open. */
    uint8_t json_plain[128];
    size_t json_len = SENTINEL_LEN;
    CHECK_OK(medseal_recipient_key_open_into(hub, medseal_buffer_data(sealed), medseal_buffer_len(sealed), json_plain, sizeof json_plain, &json_len));
    CHECK(json_len == pt_len && memcmp(json_plain, PLAINTEXT, pt_len) == 0);
    CHECK_RC(medseal_recipient_key_open_into(NULL, medseal_buffer_data(sealed), medseal_buffer_len(sealed), big_dummy(), 256, &w), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_open_into(hub, NULL, 4, json_plain, sizeof json_plain, &w), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_open_into(hub, medseal_buffer_data(sealed), medseal_buffer_len(sealed), json_plain, sizeof json_plain, NULL),
             MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_recipient_key_open_into(hub, (const uint8_t *)"garbage", 7, json_plain, sizeof json_plain, &w), MEDSEAL_SEAL_NOT_PROTOBUF);
    CHECK_RC(medseal_recipient_key_open_into(insurer, medseal_buffer_data(sealed), medseal_buffer_len(sealed), json_plain, sizeof json_plain, &w),
             MEDSEAL_SEAL_WRONG_RECIPIENT);
    CHECK_RC(medseal_recipient_key_open_into(hub_public, medseal_buffer_data(sealed), medseal_buffer_len(sealed), json_plain, sizeof json_plain, &w),
             MEDSEAL_KEY_NOT_PRIVATE);
    CHECK(w == SENTINEL_LEN);
    CHECK_RC(medseal_envelope_open_into(NULL, hub, small, sizeof small, &w), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open_into(env, NULL, small, sizeof small, &w), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open_into(env, hub, small, sizeof small, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open_into(env, hub, NULL, 8, &w), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_envelope_open_into(env, hub_public, NULL, 0, &w), MEDSEAL_BUFFER_TOO_SMALL);
    uint8_t big[256];
    CHECK_RC(medseal_envelope_open_into(env, hub_public, big, sizeof big, &w), MEDSEAL_KEY_NOT_PRIVATE);
    CHECK_RC(medseal_envelope_open_into(env, insurer, big, sizeof big, &w), MEDSEAL_SEAL_WRONG_RECIPIENT);
    medseal_recipient_key_free(hub_public);
    medseal_envelope_free(env);
    medseal_buffer_free(sealed);
    medseal_recipient_key_free(insurer);
    medseal_recipient_key_free(hub);
    medseal_meta_free(meta);
}

int main(void) {
    test_caller_buffers();
    test_recipient_key_formats();
    test_rfc8037_key();
    test_recipient_key_errors();
    test_meta();
    test_round_trips();
    test_seal_errors();
    test_tampering();
    test_envelope_null_arguments();
    test_signed();
    test_threads();
    return check_summary();
}
