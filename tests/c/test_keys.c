/*
 * medseal C ABI: keys. Generation, import and export in all seven formats, key ids, the
 * public/private distinction, and the error codes of bad key material.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixtures.h"
#include "medseal.h"

static const uint32_t FORMATS[] = {
    MEDSEAL_KEY_FORMAT_PKCS8_DER, MEDSEAL_KEY_FORMAT_PKCS8_PEM, MEDSEAL_KEY_FORMAT_PKCS8_V2_DER,
    MEDSEAL_KEY_FORMAT_PKCS8_V2_PEM, MEDSEAL_KEY_FORMAT_SPKI_DER, MEDSEAL_KEY_FORMAT_SPKI_PEM,
    MEDSEAL_KEY_FORMAT_JWK,
};
#define N_FORMATS (sizeof FORMATS / sizeof FORMATS[0])

static int is_private_format(uint32_t format) {
    return format <= MEDSEAL_KEY_FORMAT_PKCS8_V2_PEM;
}

static int is_pem_format(uint32_t format) {
    return format == MEDSEAL_KEY_FORMAT_PKCS8_PEM || format == MEDSEAL_KEY_FORMAT_PKCS8_V2_PEM ||
           format == MEDSEAL_KEY_FORMAT_SPKI_PEM;
}

static int is_base64url(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

/* The key id as a NUL-terminated string in `kid` (MEDSEAL_KID_BYTES + 1 bytes). */
static void key_kid(const medseal_key *key, char kid[MEDSEAL_KID_BYTES + 1]) {
    medseal_buffer *buf = SENTINEL_PTR;
    kid[0] = '\0';
    if (!CHECK_OK(medseal_key_kid(key, &buf))) {
        return;
    }
    CHECK(medseal_buffer_len(buf) == MEDSEAL_KID_BYTES);
    CHECK(medseal_buffer_len(buf) == medseal_key_kid_bytes());
    CHECK(is_base64url(medseal_buffer_data(buf), medseal_buffer_len(buf)));
    if (medseal_buffer_len(buf) == MEDSEAL_KID_BYTES) {
        memcpy(kid, medseal_buffer_data(buf), MEDSEAL_KID_BYTES);
        kid[MEDSEAL_KID_BYTES] = '\0';
    }
    medseal_buffer_free(buf);
}

static uint32_t key_alg(const medseal_key *key) {
    uint32_t alg = SENTINEL_U32;
    CHECK_OK(medseal_key_algorithm(key, &alg));
    return alg;
}

static uint32_t key_private(const medseal_key *key) {
    uint32_t has = SENTINEL_U32;
    CHECK_OK(medseal_key_has_private(key, &has));
    CHECK(has == 0 || has == 1);
    return has;
}

/* Signs with `priv` and verifies with `pub`: the two halves belong together. */
static void check_pair_works(const medseal_key *priv, const medseal_key *pub, uint32_t alg) {
    static const char doc[] = "{\"resourceType\":\"Basic\",\"id\":\"k\"}";
    medseal_signer_builder *sb = NULL;
    medseal_signer *signer = NULL;
    medseal_verifier_builder *vb = NULL;
    medseal_verifier *verifier = NULL;
    medseal_buffer *jws = NULL;
    medseal_verified *verified = NULL;
    REQUIRE_OK(medseal_signer_builder_new(priv, &sb));
    REQUIRE_OK(medseal_signer_builder_build(sb, &signer));
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    REQUIRE_OK(medseal_verifier_builder_add_key(vb, pub));
    REQUIRE_OK(medseal_verifier_builder_build(vb, &verifier));
    if (CHECK_OK(medseal_signer_sign(signer, (const uint8_t *)doc, strlen(doc), MEDSEAL_JWS_COMPACT, &jws)) &&
        CHECK_OK(medseal_verifier_verify(verifier, medseal_buffer_data(jws), medseal_buffer_len(jws), &verified))) {
        uint32_t got = SENTINEL_U32;
        CHECK_OK(medseal_verified_algorithm(verified, &got));
        CHECK(got == alg);
    }
    medseal_verified_free(verified);
    medseal_buffer_free(jws);
    medseal_verifier_free(verifier);
    medseal_verifier_builder_free(vb);
    medseal_signer_free(signer);
    medseal_signer_builder_free(sb);
}

/* Exports `key` (which holds its private half, bound to `alg`) in every format, imports each back
 * and compares. `natural_alg` is what the key is bound to when the bytes do not say. */
static void round_trip_all_formats(const medseal_key *key, uint32_t alg, uint32_t natural_alg, const char *kty,
                                   const char *jws_alg) {
    char kid[MEDSEAL_KID_BYTES + 1];
    key_kid(key, kid);
    CHECK(key_alg(key) == alg);
    CHECK(key_private(key) == 1);

    medseal_key *public_only = NULL;
    for (size_t i = 0; i < N_FORMATS; i++) {
        uint32_t format = FORMATS[i];
        medseal_buffer *exported = SENTINEL_PTR;
        if (!CHECK_OK(medseal_key_export(key, format, &exported))) {
            fprintf(stderr, "  (format %u, alg %u)\n", (unsigned)format, (unsigned)alg);
            continue;
        }
        CHECK(exported != NULL && exported != SENTINEL_PTR);
        const uint8_t *bytes = medseal_buffer_data(exported);
        size_t len = medseal_buffer_len(exported);
        CHECK(len > 0);
        if (is_pem_format(format)) {
            const char *begin = is_private_format(format) ? "-----BEGIN PRIVATE KEY-----" : "-----BEGIN PUBLIC KEY-----";
            CHECK(len > strlen(begin) && memcmp(bytes, begin, strlen(begin)) == 0);
            CHECK_CONTAINS(bytes, len, is_private_format(format) ? "-----END PRIVATE KEY-----" : "-----END PUBLIC KEY-----");
        } else if (format == MEDSEAL_KEY_FORMAT_JWK) {
            char member[128];
            snprintf(member, sizeof member, "\"kid\":\"%s\"", kid);
            CHECK_CONTAINS(bytes, len, member);
            snprintf(member, sizeof member, "\"kty\":\"%s\"", kty);
            CHECK_CONTAINS(bytes, len, member);
            snprintf(member, sizeof member, "\"alg\":\"%s\"", jws_alg);
            CHECK_CONTAINS(bytes, len, member);
            CHECK(!mem_contains(bytes, len, "\"d\"")); /* the public half only */
        } else {
            CHECK(bytes[0] == 0x30); /* a DER SEQUENCE */
        }

        /* Imported as the bytes say. PKCS#8 and SPKI name only "RSA", so an RSA key comes back
         * RS256 from them; a JWK carries its alg. */
        medseal_key *imported = SENTINEL_PTR;
        if (CHECK_OK(medseal_key_import(bytes, len, MEDSEAL_ALG_FROM_KEY, &imported))) {
            char kid2[MEDSEAL_KID_BYTES + 1];
            key_kid(imported, kid2);
            CHECK_STR(kid2, kid);
            CHECK(key_alg(imported) == (format == MEDSEAL_KEY_FORMAT_JWK ? alg : natural_alg));
            CHECK(key_private(imported) == (uint32_t)is_private_format(format));
            medseal_key_free(imported);
        }
        /* Imported with the key's algorithm named: exporting it again gives the same bytes. */
        imported = SENTINEL_PTR;
        if (CHECK_OK(medseal_key_import(bytes, len, alg, &imported))) {
            CHECK(key_alg(imported) == alg);
            CHECK(key_private(imported) == (uint32_t)is_private_format(format));
            medseal_buffer *again = NULL;
            if (CHECK_OK(medseal_key_export(imported, format, &again))) {
                CHECK_BYTES(medseal_buffer_data(again), medseal_buffer_len(again), bytes, len);
                medseal_buffer_free(again);
            }
            if (format == MEDSEAL_KEY_FORMAT_SPKI_DER) {
                public_only = imported;
                imported = NULL;
            }
            medseal_key_free(imported);
        }
        /* Surrounding whitespace is fine for text formats. */
        if (is_pem_format(format) || format == MEDSEAL_KEY_FORMAT_JWK) {
            char *padded = malloc(len + 4);
            if (CHECK(padded != NULL)) {
                memcpy(padded, "\n  ", 3);
                memcpy(padded + 3, bytes, len);
                padded[len + 3] = '\n';
                imported = NULL;
                if (CHECK_OK(medseal_key_import((const uint8_t *)padded, len + 4, MEDSEAL_ALG_FROM_KEY, &imported))) {
                    char kid3[MEDSEAL_KID_BYTES + 1];
                    key_kid(imported, kid3);
                    CHECK_STR(kid3, kid);
                    medseal_key_free(imported);
                }
                free(padded);
            }
        }
        /* Truncated DER is refused, not misread. */
        if (!is_pem_format(format) && format != MEDSEAL_KEY_FORMAT_JWK) {
            imported = SENTINEL_PTR;
            medseal_result rc = medseal_key_import(bytes, len - 3, MEDSEAL_ALG_FROM_KEY, &imported);
            CHECK(rc == MEDSEAL_KEY_FORMAT || rc == MEDSEAL_KEY_INVALID);
            CHECK(imported == SENTINEL_PTR);
        }
        medseal_buffer_free(exported);
    }

    /* A public-only key: private formats are refused, public ones match the original's. */
    if (!CHECK(public_only != NULL)) {
        return;
    }
    CHECK(key_private(public_only) == 0);
    for (size_t i = 0; i < N_FORMATS; i++) {
        uint32_t format = FORMATS[i];
        medseal_buffer *out = SENTINEL_PTR;
        if (is_private_format(format)) {
            CHECK_RC(medseal_key_export(public_only, format, &out), MEDSEAL_KEY_NOT_PRIVATE);
            CHECK(out == SENTINEL_PTR);
            CHECK_ERROR_CONTAINS("public");
        } else if (CHECK_OK(medseal_key_export(public_only, format, &out))) {
            medseal_buffer *original = NULL;
            REQUIRE_OK(medseal_key_export(key, format, &original));
            CHECK_BYTES(medseal_buffer_data(out), medseal_buffer_len(out), medseal_buffer_data(original),
                        medseal_buffer_len(original));
            medseal_buffer_free(original);
            medseal_buffer_free(out);
        }
    }
    /* No signer from a public key. */
    medseal_signer_builder *sb = SENTINEL_PTR;
    CHECK_RC(medseal_signer_builder_new(public_only, &sb), MEDSEAL_KEY_NOT_PRIVATE);
    CHECK(sb == SENTINEL_PTR);
    /* The halves still belong together. */
    check_pair_works(key, public_only, alg);
    medseal_key_free(public_only);
}

static void test_generate(void) {
    medseal_key *ed = SENTINEL_PTR, *ed2 = NULL, *ec = SENTINEL_PTR;
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &ed));
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &ed2));
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_ES256, &ec));
    CHECK(ed != NULL && ed != SENTINEL_PTR && ec != NULL && ec != SENTINEL_PTR);
    CHECK(key_alg(ed) == MEDSEAL_ALG_EDDSA);
    CHECK(key_alg(ec) == MEDSEAL_ALG_ES256);
    char k1[MEDSEAL_KID_BYTES + 1], k2[MEDSEAL_KID_BYTES + 1], k3[MEDSEAL_KID_BYTES + 1];
    key_kid(ed, k1);
    key_kid(ed2, k2);
    key_kid(ec, k3);
    CHECK(strcmp(k1, k2) != 0); /* fresh randomness each time */
    CHECK(strcmp(k1, k3) != 0);

    round_trip_all_formats(ed, MEDSEAL_ALG_EDDSA, MEDSEAL_ALG_EDDSA, "OKP", "EdDSA");
    round_trip_all_formats(ec, MEDSEAL_ALG_ES256, MEDSEAL_ALG_ES256, "EC", "ES256");

    /* Importing with another key type's algorithm is refused. */
    medseal_buffer *der = NULL;
    REQUIRE_OK(medseal_key_export(ed, MEDSEAL_KEY_FORMAT_PKCS8_DER, &der));
    medseal_key *out = SENTINEL_PTR;
    CHECK_RC(medseal_key_import(medseal_buffer_data(der), medseal_buffer_len(der), MEDSEAL_ALG_ES256, &out),
             MEDSEAL_KEY_UNSUPPORTED);
    CHECK(out == SENTINEL_PTR);
    CHECK_RC(medseal_key_import(medseal_buffer_data(der), medseal_buffer_len(der), MEDSEAL_ALG_RS256, &out),
             MEDSEAL_KEY_UNSUPPORTED);
    CHECK(out == SENTINEL_PTR);
    medseal_buffer_free(der);

    /* Raw formats: Ed25519 seed and public key, 32 bytes each. */
    static const uint32_t raw_formats[] = {MEDSEAL_KEY_FORMAT_RAW_PRIVATE, MEDSEAL_KEY_FORMAT_RAW_PUBLIC};
    for (size_t i = 0; i < 2; i++) {
        medseal_buffer *raw = SENTINEL_PTR;
        if (CHECK_OK(medseal_key_export(ed, raw_formats[i], &raw))) {
            CHECK(medseal_buffer_len(raw) == 32);
            medseal_buffer_free(raw);
        }
    }

    /* Unknown formats. */
    const uint32_t bad_formats[] = {0, 10, 99, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_formats / sizeof bad_formats[0]; i++) {
        medseal_buffer *buf = SENTINEL_PTR;
        CHECK_RC(medseal_key_export(ed, bad_formats[i], &buf), MEDSEAL_INVALID_ARGUMENT);
        CHECK(buf == SENTINEL_PTR);
        CHECK_ERROR_CONTAINS("format");
    }

    medseal_key_free(ec);
    medseal_key_free(ed2);
    medseal_key_free(ed);

    /* Algorithms that cannot be generated, and algorithms that do not exist. */
    out = SENTINEL_PTR;
    CHECK_RC(medseal_key_generate(MEDSEAL_ALG_RS256, &out), MEDSEAL_UNSUPPORTED);
    CHECK(out == SENTINEL_PTR);
    CHECK_RC(medseal_key_generate(MEDSEAL_ALG_PS256, &out), MEDSEAL_UNSUPPORTED);
    CHECK(out == SENTINEL_PTR);
    const uint32_t bad_algs[] = {MEDSEAL_ALG_FROM_KEY, 5, 99, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_algs / sizeof bad_algs[0]; i++) {
        CHECK_RC(medseal_key_generate(bad_algs[i], &out), MEDSEAL_INVALID_ARGUMENT);
        CHECK(out == SENTINEL_PTR);
        CHECK_ERROR_CONTAINS("algorithm");
        if (bad_algs[i] != MEDSEAL_ALG_FROM_KEY) {
            CHECK_RC(medseal_key_import((const uint8_t *)"{}", 2, bad_algs[i], &out), MEDSEAL_INVALID_ARGUMENT);
            CHECK(out == SENTINEL_PTR);
        }
    }
}

static void import_err_(const void *data, size_t len, uint32_t alg, medseal_result want, const char *file,
                        int line) {
    medseal_key *out = SENTINEL_PTR;
    medseal_result rc = medseal_key_import((const uint8_t *)data, len, alg, &out);
    check_rc_(rc, want, "medseal_key_import", file, line);
    check_true_(out == SENTINEL_PTR, "output untouched on failure", file, line);
    if (rc == MEDSEAL_OK) {
        medseal_key_free(out);
    }
}
#define IMPORT_ERR(text, alg, want) import_err_((text), strlen(text), (alg), (want), __FILE__, __LINE__)

static void test_import_errors(void) {
    IMPORT_ERR("hello, world", MEDSEAL_ALG_FROM_KEY, MEDSEAL_KEY_FORMAT);
    import_err_("", 0, MEDSEAL_ALG_FROM_KEY, MEDSEAL_KEY_FORMAT, __FILE__, __LINE__);
    const uint8_t noise[] = {0x30, 0x82, 0xff, 0xff, 0x02, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef};
    import_err_(noise, sizeof noise, MEDSEAL_ALG_FROM_KEY, MEDSEAL_KEY_FORMAT, __FILE__, __LINE__);
    const uint8_t zeros[64] = {0};
    import_err_(zeros, sizeof zeros, MEDSEAL_ALG_FROM_KEY, MEDSEAL_KEY_FORMAT, __FILE__, __LINE__);
    IMPORT_ERR("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0, MEDSEAL_KEY_FORMAT);
    IMPORT_ERR("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", 0, MEDSEAL_KEY_FORMAT);
    IMPORT_ERR("[1,2,3]", 0, MEDSEAL_KEY_FORMAT);
    IMPORT_ERR("{not json", 0, MEDSEAL_KEY_FORMAT);
    IMPORT_ERR("{}", 0, MEDSEAL_KEY_INVALID);
    IMPORT_ERR("{\"kty\":\"oct\",\"k\":\"AAAA\"}", 0, MEDSEAL_KEY_UNSUPPORTED);
    IMPORT_ERR("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"}", 0, MEDSEAL_KEY_UNSUPPORTED);
    IMPORT_ERR("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}", 0, MEDSEAL_KEY_INVALID);
    IMPORT_ERR("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"not base64!\"}", 0, MEDSEAL_KEY_INVALID);
    IMPORT_ERR("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"HS256\",\"x\":\"AAAA\"}", 0, MEDSEAL_KEY_UNSUPPORTED);
    IMPORT_ERR(FIXTURE_RSA1024_PKCS1_PEM, 0, MEDSEAL_KEY_SIZE);
    IMPORT_ERR(FIXTURE_P384_PKCS8_PEM, 0, MEDSEAL_KEY_UNSUPPORTED);
    IMPORT_ERR(FIXTURE_ED25519_ENCRYPTED_PEM, 0, MEDSEAL_KEY_ENCRYPTED);
}

static void test_rsa(void) {
    medseal_key *rs = NULL, *ps = NULL;
    REQUIRE_OK(medseal_key_import((const uint8_t *)FIXTURE_RSA2048_PKCS1_PEM, strlen(FIXTURE_RSA2048_PKCS1_PEM),
                                  MEDSEAL_ALG_FROM_KEY, &rs));
    REQUIRE_OK(medseal_key_import((const uint8_t *)FIXTURE_RSA2048_PKCS1_PEM, strlen(FIXTURE_RSA2048_PKCS1_PEM),
                                  MEDSEAL_ALG_PS256, &ps));
    CHECK(key_alg(rs) == MEDSEAL_ALG_RS256); /* RSA defaults to RS256 */
    CHECK(key_alg(ps) == MEDSEAL_ALG_PS256);
    char kid_rs[MEDSEAL_KID_BYTES + 1], kid_ps[MEDSEAL_KID_BYTES + 1];
    key_kid(rs, kid_rs);
    key_kid(ps, kid_ps);
    CHECK_STR(kid_rs, kid_ps); /* the thumbprint is of the key, not the scheme */
    IMPORT_ERR(FIXTURE_RSA2048_PKCS1_PEM, MEDSEAL_ALG_EDDSA, MEDSEAL_KEY_UNSUPPORTED);
    IMPORT_ERR(FIXTURE_RSA2048_PKCS1_PEM, MEDSEAL_ALG_ES256, MEDSEAL_KEY_UNSUPPORTED);

    round_trip_all_formats(rs, MEDSEAL_ALG_RS256, MEDSEAL_ALG_RS256, "RSA", "RS256");
    round_trip_all_formats(ps, MEDSEAL_ALG_PS256, MEDSEAL_ALG_RS256, "RSA", "PS256");

    /* A JWK carries its alg: PS256 comes back PS256, and asking for RS256 is a conflict. */
    medseal_buffer *jwk = NULL;
    REQUIRE_OK(medseal_key_export(ps, MEDSEAL_KEY_FORMAT_JWK, &jwk));
    medseal_key *from_jwk = NULL;
    if (CHECK_OK(medseal_key_import(medseal_buffer_data(jwk), medseal_buffer_len(jwk), MEDSEAL_ALG_FROM_KEY,
                                    &from_jwk))) {
        CHECK(key_alg(from_jwk) == MEDSEAL_ALG_PS256);
        CHECK(key_private(from_jwk) == 0);
        medseal_key_free(from_jwk);
    }
    import_err_(medseal_buffer_data(jwk), medseal_buffer_len(jwk), MEDSEAL_ALG_RS256, MEDSEAL_KEY_UNSUPPORTED,
                __FILE__, __LINE__);
    medseal_buffer_free(jwk);

    /* An RS256 signature does not verify under the same key bound to PS256: the algorithm
     * comes from the key, never from the header. */
    medseal_signer_builder *sb = NULL;
    medseal_signer *signer = NULL;
    medseal_verifier_builder *vb = NULL;
    medseal_verifier *verifier = NULL;
    medseal_buffer *jws = NULL;
    REQUIRE_OK(medseal_signer_builder_new(rs, &sb));
    REQUIRE_OK(medseal_signer_builder_build(sb, &signer));
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    REQUIRE_OK(medseal_verifier_builder_add_key(vb, ps));
    REQUIRE_OK(medseal_verifier_builder_build(vb, &verifier));
    REQUIRE_OK(medseal_signer_sign(signer, (const uint8_t *)"{}", 2, MEDSEAL_JWS_COMPACT, &jws));
    medseal_verified *verified = SENTINEL_PTR;
    CHECK_RC(medseal_verifier_verify(verifier, medseal_buffer_data(jws), medseal_buffer_len(jws), &verified),
             MEDSEAL_JWS_ALG_MISMATCH);
    CHECK(verified == SENTINEL_PTR);
    medseal_buffer_free(jws);
    medseal_verifier_free(verifier);
    medseal_verifier_builder_free(vb);
    medseal_signer_free(signer);
    medseal_signer_builder_free(sb);

    medseal_key_free(ps);
    medseal_key_free(rs);
}

/* Known answers: the RFC 8037 appendix A key, whose RFC 7638 thumbprint is given in A.3. */
static void test_rfc8037_key(void) {
    static const char private_jwk[] = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                      "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\","
                                      "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
    static const char public_jwk[] = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                     "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
    static const char thumbprint[] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
    medseal_key *priv = NULL, *pub = NULL;
    REQUIRE_OK(medseal_key_import((const uint8_t *)private_jwk, strlen(private_jwk), MEDSEAL_ALG_FROM_KEY, &priv));
    REQUIRE_OK(medseal_key_import((const uint8_t *)public_jwk, strlen(public_jwk), MEDSEAL_ALG_EDDSA, &pub));
    char kid[MEDSEAL_KID_BYTES + 1];
    key_kid(priv, kid);
    CHECK_STR(kid, thumbprint);
    key_kid(pub, kid);
    CHECK_STR(kid, thumbprint);
    CHECK(key_alg(priv) == MEDSEAL_ALG_EDDSA);
    CHECK(key_private(priv) == 1);
    CHECK(key_private(pub) == 0);
    /* A private JWK is read, and its PKCS#8 form holds the same key. */
    round_trip_all_formats(priv, MEDSEAL_ALG_EDDSA, MEDSEAL_ALG_EDDSA, "OKP", "EdDSA");
    check_pair_works(priv, pub, MEDSEAL_ALG_EDDSA);
    /* A private half that does not match the public one. */
    IMPORT_ERR("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
               "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
               0, MEDSEAL_KEY_INVALID);
    medseal_key_free(pub);
    medseal_key_free(priv);
}

int main(void) {
    test_generate();
    test_rfc8037_key();
    test_import_errors();
    test_rsa();
    return check_summary();
}
