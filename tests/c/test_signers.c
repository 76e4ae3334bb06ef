/*
 * medseal C ABI: signers whose key is not a medseal software key, certificates and trust lists.
 *
 *   - host callback signers (medseal_signer_from_callback, medseal_signer_builder_from_callback):
 *     ES256 (DER and raw r||s), RS256, PS256 and EdDSA signatures made with OpenSSL in the
 *     callback, as a C host would; every way a callback can fail; one signer on several threads;
 *   - the clock (medseal_signer_builder_set_clock, medseal_signer_builder_set_max_clock_skew);
 *   - certificate chains (medseal_signer_builder_set_certificate_chain): x5c, x5t#S256, kid, and
 *     the CERT_* / SIGNER_CERT_MISMATCH / SIGNED_OUTSIDE_VALIDITY refusals;
 *   - trust anchors (medseal_verifier_builder_add_trust_anchors, medseal_verified_trusted_by,
 *     medseal_verified_signer), including a JWS whose sigT lies outside its leaf's window;
 *   - PKCS#11 (medseal_signer_builder_from_pkcs11) on a SoftHSM2 token;
 *   - trust lists (medseal_trust_list_*, medseal_verifier_builder_set_trust_list).
 *
 * Needs the fixtures of tests/c/fixtures.sh (test PKI and SoftHSM2 token), found through the
 * MEDSEAL_TEST_* environment variables that tests/c/run.sh exports; links OpenSSL's libcrypto.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "check.h"
#include "medseal.h"

/* 2026-01-02T03:04:05Z */
#define FIXED_TIME INT64_C(1767323045)
#define FIXED_SIGT "2026-01-02T03:04:05Z"
#define AUTHOR_OID "1.2.840.10065.1.12.1.1"
/* Inside signer-past's window (2024-01-01 to 2025-01-01), and before it. */
#define PAST_TIME INT64_C(1717200000)
#define PAST_SIGT "2024-06-01T00:00:00Z"
#define BEFORE_PAST_SIGT "2023-06-01T00:00:00Z"
#define BEFORE_PAST_TIME INT64_C(1685577600)
/* The trust list's times. */
#define LIST_ISSUED "2026-01-01T00:00:00Z"
#define LIST_EXPIRES "2026-12-31T23:59:59Z"
#define LIST_EXPIRES_TIME INT64_C(1798761599)
#define ENTRY_FROM "2025-01-01T00:00:00Z"
#define ENTRY_UNTIL "2027-01-01T00:00:00Z"
#define AFTER_ENTRY_TIME INT64_C(1830297600) /* 2028-01-01 */

#define SIGNER_EC_SUBJECT "CN=medseal test signer EC,O=Cho Ray Hospital TEST ONLY,C=VN"
#define SIGNER_RSA_SUBJECT "CN=medseal test signer RSA,O=Cho Ray Hospital TEST ONLY,C=VN"
#define SIGNER_PAST_SUBJECT "CN=medseal test signer 2024,O=Cho Ray Hospital TEST ONLY,C=VN"

static const char DOC[] = "{\n  \"resourceType\": \"Observation\",\n  \"id\": \"obs-42\",\n  \"status\": \"final\",\n"
                          "  \"valueQuantity\": {\"value\": 37.5, \"unit\": \"Cel\"}\n}\n";
static const char DOC_CANON[] = "{\"id\":\"obs-42\",\"resourceType\":\"Observation\",\"status\":\"final\","
                                "\"valueQuantity\":{\"unit\":\"Cel\",\"value\":37.5}}";

/* ---- small helpers ------------------------------------------------------------------------ */

static char *xstrdup(const char *s) {
    size_t n = strlen(s);
    char *d = xmalloc(n + 1);
    memcpy(d, s, n + 1);
    return d;
}

/* The value of an environment variable the runner must set; stops the program otherwise (the
 * tests are never skipped silently). */
static const char *need_env(const char *name) {
    const char *value = getenv(name);
    if (value == NULL || value[0] == '\0') {
        fprintf(stderr, "FATAL: %s is not set: run the C tests with tests/c/run.sh, which makes the fixtures "
                        "(tests/c/fixtures.sh)\n", name);
        exit(2);
    }
    return value;
}

/* "$MEDSEAL_TEST_FIXTURES/pki/<name>", in a static buffer (one at a time). */
static const char *pki(const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/pki/%s", need_env("MEDSEAL_TEST_FIXTURES"), name);
    return path;
}

/* A whole file; stops the program if it cannot be read (a fixture is missing). */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    size_t cap = 4096, n = 0;
    uint8_t *data = xmalloc(cap);
    for (;;) {
        n += fread(data + n, 1, cap - n, f);
        if (n < cap) {
            break;
        }
        cap *= 2;
        uint8_t *bigger = realloc(data, cap);
        if (bigger == NULL) {
            abort();
        }
        data = bigger;
    }
    fclose(f);
    *len = n;
    return data;
}

static void kid_of(const medseal_key *key, char kid[MEDSEAL_KID_BYTES + 1]) {
    medseal_buffer *buf = NULL;
    REQUIRE_OK(medseal_key_kid(key, &buf));
    memcpy(kid, medseal_buffer_data(buf), MEDSEAL_KID_BYTES);
    kid[MEDSEAL_KID_BYTES] = '\0';
    medseal_buffer_free(buf);
}

/* ---- the host's side: OpenSSL keys and certificates ---------------------------------------- */

static EVP_PKEY *load_private(const char *path) {
    BIO *bio = BIO_new_file(path, "r");
    EVP_PKEY *key = bio == NULL ? NULL : PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL) {
        fprintf(stderr, "FATAL: cannot read the private key %s\n", path);
        exit(2);
    }
    return key;
}

/* The public half of an OpenSSL key as a medseal key (from its SPKI DER), bound to `alg`:
 * all a host hands medseal when its private key stays in the host. */
static medseal_key *public_of(EVP_PKEY *pkey, uint32_t alg) {
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(pkey, &der);
    if (len <= 0) {
        fprintf(stderr, "FATAL: i2d_PUBKEY\n");
        exit(2);
    }
    medseal_key *key = NULL;
    REQUIRE_OK(medseal_key_import(der, (size_t)len, alg, &key));
    OPENSSL_free(der);
    return key;
}

/* Signs `msg` as a JWS algorithm would: SHA-256 with ECDSA (DER out), RSA PKCS#1 v1.5 or, with
 * `pss`, RSA-PSS (MGF1-SHA256, 32-byte salt); Ed25519 signs the message itself. 0 on success. */
static int openssl_sign(EVP_PKEY *key, int pss, const uint8_t *msg, size_t len, uint8_t *sig, size_t cap,
                        size_t *sig_len) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ed = EVP_PKEY_is_a(key, "ED25519");
    int ok = md != NULL && EVP_DigestSignInit(md, &pctx, ed ? NULL : EVP_sha256(), NULL, key) == 1;
    if (ok && pss) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
    }
    size_t n = cap;
    ok = ok && EVP_DigestSign(md, sig, &n, msg, len) == 1;
    EVP_MD_CTX_free(md);
    if (ok) {
        *sig_len = n;
    }
    return ok ? 0 : -1;
}

/* ASN.1 DER ECDSA-Sig-Value to the 64-byte r||s of JWS. */
static int ecdsa_der_to_raw(const uint8_t *der, size_t len, uint8_t raw[64]) {
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (sig == NULL) {
        return -1;
    }
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

/* The certificates of a PEM file, in order; `*count` of them. */
static X509 **load_certs(const char *path, size_t *count) {
    BIO *bio = BIO_new_file(path, "r");
    X509 **certs = xmalloc(8 * sizeof *certs);
    size_t n = 0;
    X509 *cert = NULL;
    while (bio != NULL && n < 8 && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        certs[n++] = cert;
    }
    BIO_free(bio);
    if (n == 0) {
        fprintf(stderr, "FATAL: no certificate in %s\n", path);
        exit(2);
    }
    *count = n;
    return certs;
}

static void free_certs(X509 **certs, size_t count) {
    for (size_t i = 0; i < count; i++) {
        X509_free(certs[i]);
    }
    free(certs);
}

/* A certificate's DER (OPENSSL_free it). */
static unsigned char *cert_der(X509 *cert, size_t *len) {
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    if (n <= 0) {
        fprintf(stderr, "FATAL: i2d_X509\n");
        exit(2);
    }
    *len = (size_t)n;
    return der;
}

/* Standard base64 of a certificate's DER, as x5c holds it. */
static char *cert_b64(X509 *cert) {
    size_t len = 0;
    unsigned char *der = cert_der(cert, &len);
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, der, (int)len);
    OPENSSL_free(der);
    return out;
}

/* x5t#S256: base64url SHA-256 of the certificate's DER. */
static char *cert_x5t(X509 *cert) {
    size_t len = 0;
    unsigned char *der = cert_der(cert, &len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(der, len, md, &md_len, EVP_sha256(), NULL) != 1) {
        abort();
    }
    OPENSSL_free(der);
    return b64url(md, md_len);
}

/* ---- the host callback ---------------------------------------------------------------------- */

enum host_mode {
    HOST_DER,       /* the signature as OpenSSL gives it (DER for ECDSA) */
    HOST_RAW,       /* ECDSA as r||s */
    HOST_FAIL,      /* returns 7 */
    HOST_OTHER_KEY, /* signs with another key of the same kind */
    HOST_CORRUPT,   /* flips a bit of a good signature */
    HOST_OVERSIZE,  /* claims more bytes than the buffer holds */
    HOST_EMPTY,     /* claims 0 bytes */
    HOST_NO_LENGTH, /* returns 0 without writing the length */
};

struct host {
    EVP_PKEY *key;
    EVP_PKEY *other; /* for HOST_OTHER_KEY */
    int pss;
    enum host_mode mode;
    atomic_long calls;
    /* Single-threaded tests only: what the last call was given. */
    int record;
    size_t last_cap;
    char *last_message;
};

static int32_t host_sign(void *ctx, const uint8_t *message, size_t message_len, uint8_t *signature,
                         size_t signature_cap, size_t *signature_len) {
    struct host *h = ctx;
    atomic_fetch_add(&h->calls, 1);
    if (h->record) {
        free(h->last_message);
        h->last_message = xmalloc(message_len + 1);
        memcpy(h->last_message, message, message_len);
        h->last_message[message_len] = '\0';
        h->last_cap = signature_cap;
    }
    size_t len = 0;
    switch (h->mode) {
    case HOST_FAIL:
        return 7;
    case HOST_OVERSIZE:
        *signature_len = signature_cap + 1;
        return 0;
    case HOST_EMPTY:
        *signature_len = 0;
        return 0;
    case HOST_NO_LENGTH:
        return 0;
    case HOST_OTHER_KEY:
        return openssl_sign(h->other, h->pss, message, message_len, signature, signature_cap, signature_len);
    case HOST_DER:
    case HOST_RAW:
    case HOST_CORRUPT:
        break;
    }
    if (openssl_sign(h->key, h->pss, message, message_len, signature, signature_cap, &len) != 0) {
        return -1;
    }
    if (h->mode == HOST_RAW && EVP_PKEY_is_a(h->key, "EC")) {
        uint8_t raw[64];
        if (ecdsa_der_to_raw(signature, len, raw) != 0) {
            return -2;
        }
        memcpy(signature, raw, sizeof raw);
        len = sizeof raw;
    }
    if (h->mode == HOST_CORRUPT) {
        signature[len / 2] ^= 0x01;
    }
    *signature_len = len;
    return 0;
}

static void host_init(struct host *h, EVP_PKEY *key, EVP_PKEY *other, int pss) {
    h->key = key;
    h->other = other;
    h->pss = pss;
    h->mode = HOST_DER;
    atomic_init(&h->calls, 0);
    h->record = 0;
    h->last_cap = 0;
    h->last_message = NULL;
}

static void host_done(struct host *h) {
    free(h->last_message);
    h->last_message = NULL;
}

/* ---- signing and verifying helpers --------------------------------------------------------- */

static char *sign_str(const medseal_signer *signer, const char *doc, uint32_t format) {
    medseal_buffer *out = NULL;
    REQUIRE_OK(medseal_signer_sign(signer, (const uint8_t *)doc, strlen(doc), format, &out));
    char *s = buf_str(out);
    medseal_buffer_free(out);
    return s;
}

/* Signing must fail with `want`, writing nothing. */
static void sign_err_(const medseal_signer *signer, medseal_result want, const char *file, int line) {
    medseal_buffer *out = SENTINEL_PTR;
    medseal_result rc = medseal_signer_sign(signer, (const uint8_t *)DOC, strlen(DOC), MEDSEAL_JWS_COMPACT, &out);
    if (!check_rc_(rc, want, "medseal_signer_sign", file, line) && rc == MEDSEAL_OK) {
        medseal_buffer_free(out);
        return;
    }
    check_true_(out == SENTINEL_PTR, "no output on failure", file, line);
}
#define SIGN_ERR(signer, want) sign_err_((signer), (want), __FILE__, __LINE__)

static medseal_verifier *verifier_with_key(const medseal_key *key) {
    medseal_verifier_builder *vb = NULL;
    medseal_verifier *v = NULL;
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    REQUIRE_OK(medseal_verifier_builder_add_key(vb, key));
    REQUIRE_OK(medseal_verifier_builder_build(vb, &v));
    medseal_verifier_builder_free(vb);
    return v;
}

static medseal_verifier *verifier_with_anchors(const char *pem_file) {
    size_t len = 0;
    uint8_t *pem = read_file(pki(pem_file), &len);
    medseal_verifier_builder *vb = NULL;
    medseal_verifier *v = NULL;
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    REQUIRE_OK(medseal_verifier_builder_add_trust_anchors(vb, pem, len));
    REQUIRE_OK(medseal_verifier_builder_build(vb, &v));
    medseal_verifier_builder_free(vb);
    free(pem);
    return v;
}

/* Verifies `jws` and checks algorithm, trust kind, signer name (NULL: empty) and sigT (NULL:
 * any). Returns 1 if it verified. */
static int verify_ok_(const medseal_verifier *v, const char *jws, uint32_t alg, uint32_t trusted_by,
                      const char *signer, const char *sigt, const char *file, int line) {
    medseal_verified *vd = SENTINEL_PTR;
    if (!check_rc_(medseal_verifier_verify(v, (const uint8_t *)jws, strlen(jws), &vd), MEDSEAL_OK,
                   "medseal_verifier_verify", file, line)) {
        return 0;
    }
    const uint8_t *data = SENTINEL_PTR;
    size_t len = SENTINEL_LEN;
    uint32_t got = SENTINEL_U32;
    if (check_rc_(medseal_verified_algorithm(vd, &got), MEDSEAL_OK, "medseal_verified_algorithm", file, line)) {
        check_true_(got == alg, "verified algorithm", file, line);
    }
    got = SENTINEL_U32;
    if (check_rc_(medseal_verified_trusted_by(vd, &got), MEDSEAL_OK, "medseal_verified_trusted_by", file, line)) {
        if (!check_true_(got == trusted_by, "trusted_by", file, line)) {
            fprintf(stderr, "  trusted_by %u, want %u\n", (unsigned)got, (unsigned)trusted_by);
        }
    }
    if (check_rc_(medseal_verified_signer(vd, &data, &len), MEDSEAL_OK, "medseal_verified_signer", file, line)) {
        const char *want = signer == NULL ? "" : signer;
        check_mem_(data, len, want, strlen(want), "verified signer", file, line);
    }
    if (check_rc_(medseal_verified_payload(vd, &data, &len), MEDSEAL_OK, "medseal_verified_payload", file, line)) {
        check_mem_(data, len, DOC_CANON, strlen(DOC_CANON), "verified payload", file, line);
    }
    if (sigt != NULL &&
        check_rc_(medseal_verified_signing_time(vd, &data, &len), MEDSEAL_OK, "medseal_verified_signing_time", file,
                  line)) {
        check_mem_(data, len, sigt, strlen(sigt), "verified sigT", file, line);
    }
    medseal_verified_free(vd);
    return 1;
}
#define VERIFY_OK(v, jws, alg, trusted_by, signer, sigt) \
    verify_ok_((v), (jws), (alg), (trusted_by), (signer), (sigt), __FILE__, __LINE__)

/* Verification must fail with `want`, writing nothing. */
static void verify_err_(const medseal_verifier *v, const char *jws, medseal_result want, const char *file, int line) {
    medseal_verified *out = SENTINEL_PTR;
    medseal_result rc = medseal_verifier_verify(v, (const uint8_t *)jws, strlen(jws), &out);
    if (!check_rc_(rc, want, "medseal_verifier_verify", file, line) && rc == MEDSEAL_OK) {
        medseal_verified_free(out);
        return;
    }
    check_true_(out == SENTINEL_PTR, "no output on failure", file, line);
}
#define VERIFY_ERR(v, jws, want) verify_err_((v), (jws), (want), __FILE__, __LINE__)

/* The protected header of a compact JWS, decoded (base64url, no padding). */
static char *compact_header(const char *jws) {
    const char *dot = strchr(jws, '.');
    size_t n = dot == NULL ? 0 : (size_t)(dot - jws);
    char *out = xmalloc(n * 3 / 4 + 4);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = jws[i];
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '-'             ? 62
                : c == '_'             ? 63
                                       : -1;
        if (v < 0) {
            break;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits & 0xFF);
        }
    }
    out[o] = '\0';
    return out;
}

/* A software key from a PEM fixture (private keys: PKCS#8). */
static medseal_key *import_file(const char *name, uint32_t alg) {
    size_t len = 0;
    uint8_t *pem = read_file(pki(name), &len);
    medseal_key *key = NULL;
    REQUIRE_OK(medseal_key_import(pem, len, alg, &key));
    free(pem);
    return key;
}

static medseal_result set_chain_file(medseal_signer_builder *b, const char *name) {
    size_t len = 0;
    uint8_t *pem = read_file(pki(name), &len);
    medseal_result rc = medseal_signer_builder_set_certificate_chain(b, pem, len);
    free(pem);
    return rc;
}

/* ---- tests: host callback -------------------------------------------------------------------- */

static void test_callback_es256(void) {
    EVP_PKEY *ec = load_private(pki("signer-ec.key"));
    EVP_PKEY *other = load_private(pki("signer-nosig.key"));
    medseal_key *pub = public_of(ec, MEDSEAL_ALG_FROM_KEY);
    char kid[MEDSEAL_KID_BYTES + 1];
    kid_of(pub, kid);
    medseal_verifier *v = verifier_with_key(pub);
    struct host h;
    host_init(&h, ec, other, 0);
    h.record = 1;

    CHECK(medseal_signer_max_signature_bytes() == MEDSEAL_MAX_SIGNATURE_BYTES);
    CHECK(MEDSEAL_MAX_SIGNATURE_BYTES >= 512); /* RSA-4096 fits */

    /* One call: a signer with the defaults. DER (what OpenSSL and Java give) is accepted. */
    medseal_signer *s = SENTINEL_PTR;
    REQUIRE_OK(medseal_signer_from_callback(pub, host_sign, &h, &s));
    CHECK(s != NULL && s != SENTINEL_PTR);
    CHECK(atomic_load(&h.calls) == 0); /* nothing signed yet */
    {
        /* The host gets the signer's public key back (to publish it, or to verify with). */
        medseal_key *back = SENTINEL_PTR;
        if (CHECK_OK(medseal_signer_public_key(s, &back))) {
            char back_kid[MEDSEAL_KID_BYTES + 1];
            kid_of(back, back_kid);
            CHECK_STR(back_kid, kid);
            uint32_t alg = 0;
            CHECK_OK(medseal_key_algorithm(back, &alg));
            CHECK(alg == MEDSEAL_ALG_ES256);
            medseal_key_free(back);
        }
        back = SENTINEL_PTR;
        CHECK_RC(medseal_signer_public_key(NULL, &back), MEDSEAL_NULL_ARGUMENT);
        CHECK(back == SENTINEL_PTR);
        CHECK_RC(medseal_signer_public_key(s, NULL), MEDSEAL_NULL_ARGUMENT);
    }
    char *jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    CHECK(atomic_load(&h.calls) == 1);
    CHECK(h.last_cap == MEDSEAL_MAX_SIGNATURE_BYTES);
    /* The callback got exactly the JWS signing input: header.payload. */
    const char *last_dot = strrchr(jws, '.');
    if (CHECK(last_dot != NULL && h.last_message != NULL)) {
        CHECK(strlen(h.last_message) == (size_t)(last_dot - jws) &&
              memcmp(h.last_message, jws, (size_t)(last_dot - jws)) == 0);
    }
    char *header = compact_header(jws);
    CHECK_CONTAINS(header, strlen(header), "\"alg\":\"ES256\"");
    char member[128];
    snprintf(member, sizeof member, "\"kid\":\"%s\"", kid);
    CHECK_CONTAINS(header, strlen(header), member);
    CHECK(strstr(header, "x5c") == NULL);
    free(header);
    VERIFY_OK(v, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
    {
        medseal_verified *vd = NULL;
        if (CHECK_OK(medseal_verifier_verify(v, (const uint8_t *)jws, strlen(jws), &vd))) {
            const uint8_t *data = NULL;
            size_t len = 0;
            CHECK_OK(medseal_verified_key_id(vd, &data, &len));
            CHECK_MEM(data, len, kid);
            medseal_verified_free(vd);
        }
    }
    free(jws);

    /* Raw r||s is accepted too; every serialization works. */
    h.mode = HOST_RAW;
    jws = sign_str(s, DOC, MEDSEAL_JWS_FLATTENED);
    VERIFY_OK(v, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
    free(jws);
    jws = sign_str(s, DOC, MEDSEAL_JWS_DETACHED_COMPACT);
    {
        medseal_verified *vd = NULL;
        if (CHECK_OK(medseal_verifier_verify_detached(v, (const uint8_t *)jws, strlen(jws), (const uint8_t *)DOC,
                                                      strlen(DOC), MEDSEAL_PAYLOAD_DOCUMENT, &vd))) {
            medseal_verified_free(vd);
        }
    }
    free(jws);

    /* The callback fails: MEDSEAL_SIGNER_FAILED, with its return value in the message. */
    h.mode = HOST_FAIL;
    SIGN_ERR(s, MEDSEAL_SIGNER_FAILED);
    CHECK_ERROR_CONTAINS("returned 7");
    /* A signature by another key, or a damaged one: checked before use, nothing emitted. */
    h.mode = HOST_OTHER_KEY;
    SIGN_ERR(s, MEDSEAL_SIGNER_BAD_SIGNATURE);
    CHECK_ERROR_CONTAINS("does not verify");
    CHECK_ERROR_CONTAINS(kid);
    h.mode = HOST_CORRUPT;
    SIGN_ERR(s, MEDSEAL_SIGNER_BAD_SIGNATURE);
    /* A length beyond the buffer is never read past the buffer. */
    h.mode = HOST_OVERSIZE;
    SIGN_ERR(s, MEDSEAL_SIGNER_FAILED);
    CHECK_ERROR_CONTAINS("1024");
    h.mode = HOST_EMPTY;
    SIGN_ERR(s, MEDSEAL_SIGNER_BAD_SIGNATURE);
    h.mode = HOST_NO_LENGTH;
    SIGN_ERR(s, MEDSEAL_SIGNER_FAILED);
    /* The signer still works after all that. */
    h.mode = HOST_DER;
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
    free(jws);
    medseal_signer_free(s);

    /* The builder form: options apply to callback signers as to software ones. */
    medseal_signer_builder *b = SENTINEL_PTR;
    REQUIRE_OK(medseal_signer_builder_from_callback(pub, host_sign, &h, &b));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
    REQUIRE_OK(medseal_signer_builder_set_commitment(b, (const uint8_t *)AUTHOR_OID, strlen(AUTHOR_OID)));
    REQUIRE_OK(medseal_signer_builder_set_kid(b, (const uint8_t *)"host-key-1", 10));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    header = compact_header(jws);
    CHECK_CONTAINS(header, strlen(header), "\"kid\":\"host-key-1\"");
    CHECK_CONTAINS(header, strlen(header), "\"sigT\":\"" FIXED_SIGT "\"");
    CHECK_CONTAINS(header, strlen(header), "\"srCms\"");
    free(header);
    VERIFY_OK(v, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, FIXED_SIGT);
    free(jws);
    h.mode = HOST_FAIL;
    SIGN_ERR(s, MEDSEAL_SIGNER_FAILED);
    h.mode = HOST_DER;
    medseal_signer_free(s);
    medseal_signer_builder_free(b);

    /* A private key given as the public key: only its public half is kept. */
    medseal_key *full = import_file("signer-ec.key", MEDSEAL_ALG_FROM_KEY);
    s = NULL;
    REQUIRE_OK(medseal_signer_from_callback(full, host_sign, &h, &s));
    medseal_key_free(full); /* the signer keeps what it needs */
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
    free(jws);
    medseal_signer_free(s);

    /* NULL arguments: MEDSEAL_NULL_ARGUMENT, output untouched. A NULL ctx is the host's business. */
    s = SENTINEL_PTR;
    CHECK_RC(medseal_signer_from_callback(NULL, host_sign, &h, &s), MEDSEAL_NULL_ARGUMENT);
    CHECK_ERROR_CONTAINS("public_key");
    CHECK_RC(medseal_signer_from_callback(pub, NULL, &h, &s), MEDSEAL_NULL_ARGUMENT);
    CHECK_ERROR_CONTAINS("callback");
    CHECK(s == SENTINEL_PTR);
    CHECK_RC(medseal_signer_from_callback(pub, host_sign, &h, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_ERROR_CONTAINS("out");
    b = SENTINEL_PTR;
    CHECK_RC(medseal_signer_builder_from_callback(NULL, host_sign, &h, &b), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_signer_builder_from_callback(pub, NULL, &h, &b), MEDSEAL_NULL_ARGUMENT);
    CHECK_ERROR_CONTAINS("callback");
    CHECK(b == SENTINEL_PTR);
    CHECK_RC(medseal_signer_builder_from_callback(pub, host_sign, &h, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK(atomic_load(&h.calls) > 0);

    host_done(&h);
    medseal_verifier_free(v);
    medseal_key_free(pub);
    EVP_PKEY_free(other);
    EVP_PKEY_free(ec);
}

/* RSA (RS256 and PS256) and Ed25519 from the host. */
static void test_callback_other_algorithms(void) {
    EVP_PKEY *rsa = load_private(pki("signer-rsa.key"));
    struct host h;
    host_init(&h, rsa, NULL, 0);

    /* RS256: an RSA key imported as it comes. */
    medseal_key *rs = public_of(rsa, MEDSEAL_ALG_FROM_KEY);
    uint32_t alg = 0;
    CHECK_OK(medseal_key_algorithm(rs, &alg));
    CHECK(alg == MEDSEAL_ALG_RS256);
    medseal_signer *s = NULL;
    REQUIRE_OK(medseal_signer_from_callback(rs, host_sign, &h, &s));
    medseal_verifier *v = verifier_with_key(rs);
    char *jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v, jws, MEDSEAL_ALG_RS256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
    free(jws);
    /* A PSS signature from a host that was asked for RS256. */
    h.pss = 1;
    SIGN_ERR(s, MEDSEAL_SIGNER_BAD_SIGNATURE);
    medseal_signer_free(s);
    medseal_verifier_free(v);

    /* PS256: the public key imported as PS256 makes a PS256 signer. */
    medseal_key *ps = public_of(rsa, MEDSEAL_ALG_PS256);
    s = NULL;
    REQUIRE_OK(medseal_signer_from_callback(ps, host_sign, &h, &s));
    v = verifier_with_key(ps);
    jws = sign_str(s, DOC, MEDSEAL_JWS_FLATTENED);
    VERIFY_OK(v, jws, MEDSEAL_ALG_PS256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
    free(jws);
    h.pss = 0;
    SIGN_ERR(s, MEDSEAL_SIGNER_BAD_SIGNATURE); /* PKCS#1 v1.5 for a PS256 signer */
    medseal_signer_free(s);
    medseal_verifier_free(v);

    /* EdDSA: a host Ed25519 key. */
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (CHECK(ed != NULL)) {
        struct host he;
        host_init(&he, ed, NULL, 0);
        medseal_key *edpub = public_of(ed, MEDSEAL_ALG_FROM_KEY);
        s = NULL;
        REQUIRE_OK(medseal_signer_from_callback(edpub, host_sign, &he, &s));
        v = verifier_with_key(edpub);
        jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
        VERIFY_OK(v, jws, MEDSEAL_ALG_EDDSA, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
        free(jws);
        he.mode = HOST_CORRUPT;
        SIGN_ERR(s, MEDSEAL_SIGNER_BAD_SIGNATURE);
        medseal_signer_free(s);
        medseal_verifier_free(v);
        medseal_key_free(edpub);
        host_done(&he);
        EVP_PKEY_free(ed);
    }

    host_done(&h);
    medseal_key_free(ps);
    medseal_key_free(rs);
    EVP_PKEY_free(rsa);
}

/* One callback signer shared by several threads, each signing and verifying. */
#define THREADS 4
#define PER_THREAD 8

struct thread_job {
    const medseal_signer *signer;
    const medseal_verifier *verifier;
    int index;
};

static void *sign_in_thread(void *arg) {
    struct thread_job *job = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char doc[160];
        snprintf(doc, sizeof doc, "{\"resourceType\":\"Observation\",\"id\":\"t%d-%d\",\"status\":\"final\"}", job->index,
                 i);
        medseal_buffer *out = NULL;
        if (!CHECK_OK(medseal_signer_sign(job->signer, (const uint8_t *)doc, strlen(doc), MEDSEAL_JWS_COMPACT, &out))) {
            continue;
        }
        medseal_verified *vd = NULL;
        if (CHECK_OK(medseal_verifier_verify(job->verifier, medseal_buffer_data(out), medseal_buffer_len(out), &vd))) {
            const uint8_t *data = NULL;
            size_t len = 0;
            CHECK_OK(medseal_verified_payload(vd, &data, &len));
            char id[32];
            snprintf(id, sizeof id, "\"id\":\"t%d-%d\"", job->index, i);
            CHECK_CONTAINS(data, len, id);
            medseal_verified_free(vd);
        }
        medseal_buffer_free(out);
    }
    return NULL;
}

static void test_callback_threads(void) {
    EVP_PKEY *ec = load_private(pki("signer-ec.key"));
    medseal_key *pub = public_of(ec, MEDSEAL_ALG_FROM_KEY);
    struct host h;
    host_init(&h, ec, NULL, 0);
    medseal_signer *s = NULL;
    REQUIRE_OK(medseal_signer_from_callback(pub, host_sign, &h, &s));
    medseal_verifier *v = verifier_with_key(pub);
    pthread_t threads[THREADS];
    struct thread_job jobs[THREADS];
    int started = 0;
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (struct thread_job){s, v, t};
        if (CHECK(pthread_create(&threads[t], NULL, sign_in_thread, &jobs[t]) == 0)) {
            started++;
        }
    }
    for (int t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
    }
    CHECK(atomic_load(&h.calls) == (long)started * PER_THREAD);
    medseal_verifier_free(v);
    medseal_signer_free(s);
    host_done(&h);
    medseal_key_free(pub);
    EVP_PKEY_free(ec);
}

/* ---- tests: the clock ---------------------------------------------------------------------- */

struct test_clock {
    int64_t now;
    atomic_long reads;
};

static int64_t read_test_clock(void *ctx) {
    struct test_clock *c = ctx;
    atomic_fetch_add(&c->reads, 1);
    return c->now;
}

static void test_clock(void) {
    medseal_key *key = NULL;
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &key));
    medseal_verifier *v = verifier_with_key(key);
    struct test_clock clock = {FIXED_TIME, 0};
    medseal_signer_builder *b = NULL;
    medseal_signer *s = NULL;

    /* The injected clock gives sigT, read at each signature. */
    REQUIRE_OK(medseal_signer_builder_new(key, &b));
    CHECK_OK(medseal_signer_builder_set_clock(b, read_test_clock, &clock));
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    char *jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    CHECK(atomic_load(&clock.reads) >= 1);
    VERIFY_OK(v, jws, MEDSEAL_ALG_EDDSA, MEDSEAL_TRUSTED_BY_KEY, NULL, FIXED_SIGT);
    free(jws);
    clock.now = FIXED_TIME + 60;
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v, jws, MEDSEAL_ALG_EDDSA, MEDSEAL_TRUSTED_BY_KEY, NULL, "2026-01-02T03:05:05Z");
    free(jws);
    medseal_signer_free(s);

    /* The guard: a fixed signing time further from the clock than allowed is refused. */
    clock.now = FIXED_TIME;
    CHECK_OK(medseal_signer_builder_set_max_clock_skew(b, 300));
    CHECK_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME - 3600)); /* backdated an hour */
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    SIGN_ERR(s, MEDSEAL_SIGNING_TIME_SKEW);
    CHECK_ERROR_CONTAINS("300");
    medseal_signer_free(s);
    CHECK_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME + 3600)); /* an hour ahead */
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    SIGN_ERR(s, MEDSEAL_SIGNING_TIME_SKEW);
    /* The clock moves on: the same signer is now within the skew. */
    clock.now = FIXED_TIME + 3600 - 300;
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v, jws, MEDSEAL_ALG_EDDSA, MEDSEAL_TRUSTED_BY_KEY, NULL, "2026-01-02T04:04:05Z");
    free(jws);
    clock.now = FIXED_TIME + 3600 - 301; /* one second too far */
    SIGN_ERR(s, MEDSEAL_SIGNING_TIME_SKEW);
    medseal_signer_free(s);

    /* Within the skew: sigT is the fixed time, not the clock's. */
    clock.now = FIXED_TIME;
    CHECK_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME - 120));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v, jws, MEDSEAL_ALG_EDDSA, MEDSEAL_TRUSTED_BY_KEY, NULL, "2026-01-02T03:02:05Z");
    free(jws);
    medseal_signer_free(s);
    medseal_signer_builder_free(b);

    /* The guard with the system clock: a signing time in 2001 is refused, with none it signs. */
    b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(key, &b));
    CHECK_OK(medseal_signer_builder_set_max_clock_skew(b, 600));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v, jws, MEDSEAL_ALG_EDDSA, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
    free(jws);
    medseal_signer_free(s);
    CHECK_OK(medseal_signer_builder_set_signing_time(b, INT64_C(1000000000)));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    SIGN_ERR(s, MEDSEAL_SIGNING_TIME_SKEW);
    medseal_signer_free(s);
    /* Skew 0: only the very second of the clock. */
    CHECK_OK(medseal_signer_builder_set_clock(b, read_test_clock, &clock));
    CHECK_OK(medseal_signer_builder_set_max_clock_skew(b, 0));
    CHECK_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v, jws, MEDSEAL_ALG_EDDSA, MEDSEAL_TRUSTED_BY_KEY, NULL, FIXED_SIGT);
    free(jws);
    clock.now = FIXED_TIME + 1;
    SIGN_ERR(s, MEDSEAL_SIGNING_TIME_SKEW);
    medseal_signer_free(s);

    /* The clock and guard on a callback signer. */
    {
        EVP_PKEY *ec = load_private(pki("signer-ec.key"));
        medseal_key *pub = public_of(ec, MEDSEAL_ALG_FROM_KEY);
        medseal_verifier *vec = verifier_with_key(pub);
        struct host h;
        host_init(&h, ec, NULL, 0);
        medseal_signer_builder *cb = NULL;
        REQUIRE_OK(medseal_signer_builder_from_callback(pub, host_sign, &h, &cb));
        clock.now = FIXED_TIME;
        CHECK_OK(medseal_signer_builder_set_clock(cb, read_test_clock, &clock));
        CHECK_OK(medseal_signer_builder_set_max_clock_skew(cb, 60));
        CHECK_OK(medseal_signer_builder_set_signing_time(cb, FIXED_TIME - 61));
        s = NULL;
        REQUIRE_OK(medseal_signer_builder_build(cb, &s));
        SIGN_ERR(s, MEDSEAL_SIGNING_TIME_SKEW);
        CHECK(atomic_load(&h.calls) == 0); /* refused before the host was asked to sign */
        medseal_signer_free(s);
        CHECK_OK(medseal_signer_builder_set_signing_time(cb, FIXED_TIME - 60));
        s = NULL;
        REQUIRE_OK(medseal_signer_builder_build(cb, &s));
        jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
        VERIFY_OK(vec, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, "2026-01-02T03:03:05Z");
        free(jws);
        medseal_signer_free(s);
        medseal_signer_builder_free(cb);
        host_done(&h);
        medseal_verifier_free(vec);
        medseal_key_free(pub);
        EVP_PKEY_free(ec);
    }

    /* A clock reading no RFC 3339 can write (beyond year 9999): signing fails, nothing written. */
    {
        struct test_clock broken = {INT64_MAX, 0};
        medseal_signer_builder *bb = NULL;
        REQUIRE_OK(medseal_signer_builder_new(key, &bb));
        CHECK_OK(medseal_signer_builder_set_clock(bb, read_test_clock, &broken));
        s = NULL;
        REQUIRE_OK(medseal_signer_builder_build(bb, &s));
        medseal_buffer *out = SENTINEL_PTR;
        CHECK(medseal_signer_sign(s, (const uint8_t *)DOC, strlen(DOC), MEDSEAL_JWS_COMPACT, &out) != MEDSEAL_OK);
        CHECK(out == SENTINEL_PTR);
        medseal_signer_free(s);
        medseal_signer_builder_free(bb);
    }

    /* NULL arguments. */
    CHECK_RC(medseal_signer_builder_set_clock(b, NULL, &clock), MEDSEAL_NULL_ARGUMENT);
    CHECK_ERROR_CONTAINS("now");
    CHECK_RC(medseal_signer_builder_set_clock(NULL, read_test_clock, &clock), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_signer_builder_set_max_clock_skew(NULL, 60), MEDSEAL_NULL_ARGUMENT);
    CHECK_ERROR_CONTAINS("builder");
    medseal_signer_builder_free(b);
    medseal_verifier_free(v);
    medseal_key_free(key);
}

/* ---- tests: certificate chains ----------------------------------------------------------------- */

static void test_certificate_chain(void) {
    medseal_key *key = import_file("signer-ec.key", MEDSEAL_ALG_FROM_KEY);
    medseal_verifier *by_key = verifier_with_key(key);
    size_t n_chain = 0;
    X509 **chain = load_certs(pki("signer-ec-chain.pem"), &n_chain);
    CHECK(n_chain == 2);
    char *x5t = cert_x5t(chain[0]);
    char *leaf_b64 = cert_b64(chain[0]);
    char *inter_b64 = cert_b64(chain[1]);
    char expected[8192];
    medseal_signer_builder *b = NULL;
    medseal_signer *s = NULL;

    REQUIRE_OK(medseal_signer_builder_new(key, &b));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
    CHECK_OK(set_chain_file(b, "signer-ec-chain.pem"));
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    char *jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    char *header = compact_header(jws);
    snprintf(expected, sizeof expected, "\"x5c\":[\"%s\",\"%s\"]", leaf_b64, inter_b64);
    CHECK_CONTAINS(header, strlen(header), expected);
    snprintf(expected, sizeof expected, "\"x5t#S256\":\"%s\"", x5t);
    CHECK_CONTAINS(header, strlen(header), expected);
    /* The kid defaults to x5t#S256. */
    snprintf(expected, sizeof expected, "\"kid\":\"%s\"", x5t);
    CHECK_CONTAINS(header, strlen(header), expected);
    free(header);
    /* A verifier that holds the key itself still verifies it (x5c is not needed). */
    VERIFY_OK(by_key, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, FIXED_SIGT);
    free(jws);
    medseal_signer_free(s);

    /* An explicit kid wins over x5t#S256, which stays. */
    REQUIRE_OK(medseal_signer_builder_set_kid(b, (const uint8_t *)"cho-ray-2026", 12));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    header = compact_header(jws);
    CHECK_CONTAINS(header, strlen(header), "\"kid\":\"cho-ray-2026\"");
    snprintf(expected, sizeof expected, "\"x5t#S256\":\"%s\"", x5t);
    CHECK_CONTAINS(header, strlen(header), expected);
    free(header);
    free(jws);
    medseal_signer_free(s);
    medseal_signer_builder_free(b);

    /* Refused chains, each with its own code; the chain set before stays in place. */
    b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(key, &b));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
    CHECK_OK(set_chain_file(b, "signer-ec-chain.pem"));
    CHECK_RC(set_chain_file(b, "signer-rsa-chain.pem"), MEDSEAL_SIGNER_CERT_MISMATCH); /* another key's */
    CHECK_ERROR_CONTAINS("medseal test signer RSA");
    CHECK_RC(set_chain_file(b, "signer-nosig-chain.pem"), MEDSEAL_SIGNER_CERT_MISMATCH);
    CHECK_RC(set_chain_file(b, "intermediate.pem"), MEDSEAL_SIGNER_CERT_MISMATCH); /* not the leaf */
    {
        /* Leaf last instead of first. */
        size_t a_len = 0, c_len = 0;
        uint8_t *a = read_file(pki("intermediate.pem"), &a_len);
        uint8_t *c = read_file(pki("signer-ec.pem"), &c_len);
        uint8_t *both = xmalloc(a_len + c_len);
        memcpy(both, a, a_len);
        memcpy(both + a_len, c, c_len);
        CHECK_RC(medseal_signer_builder_set_certificate_chain(b, both, a_len + c_len), MEDSEAL_SIGNER_CERT_MISMATCH);
        CHECK_ERROR_CONTAINS("first");
        free(both);
        free(c);
        free(a);
    }
    static const char not_pem[] = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    static const char garbage[] = "this is not a certificate";
    CHECK_RC(medseal_signer_builder_set_certificate_chain(b, (const uint8_t *)not_pem, strlen(not_pem)),
             MEDSEAL_CERT_INVALID);
    CHECK_RC(medseal_signer_builder_set_certificate_chain(b, (const uint8_t *)garbage, strlen(garbage)),
             MEDSEAL_CERT_INVALID);
    CHECK_RC(medseal_signer_builder_set_certificate_chain(b, (const uint8_t *)garbage, 0), MEDSEAL_CERT_INVALID);
    {
        /* A truncated DER certificate. */
        size_t der_len = 0;
        unsigned char *der = cert_der(chain[0], &der_len);
        CHECK_RC(medseal_signer_builder_set_certificate_chain(b, der, der_len - 1), MEDSEAL_CERT_INVALID);
        OPENSSL_free(der);
    }
    CHECK_RC(medseal_signer_builder_set_certificate_chain(NULL, (const uint8_t *)garbage, 4), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_signer_builder_set_certificate_chain(b, NULL, 4), MEDSEAL_NULL_ARGUMENT);
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    header = compact_header(jws);
    snprintf(expected, sizeof expected, "\"x5c\":[\"%s\",\"%s\"]", leaf_b64, inter_b64);
    CHECK_CONTAINS(header, strlen(header), expected);
    free(header);
    free(jws);
    medseal_signer_free(s);

    /* One DER certificate: x5c holds just it. */
    {
        size_t der_len = 0;
        unsigned char *der = cert_der(chain[0], &der_len);
        CHECK_OK(medseal_signer_builder_set_certificate_chain(b, der, der_len));
        OPENSSL_free(der);
        s = NULL;
        REQUIRE_OK(medseal_signer_builder_build(b, &s));
        jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
        header = compact_header(jws);
        snprintf(expected, sizeof expected, "\"x5c\":[\"%s\"]", leaf_b64);
        CHECK_CONTAINS(header, strlen(header), expected);
        free(header);
        free(jws);
        medseal_signer_free(s);
    }
    medseal_signer_builder_free(b);

    /* A leaf that allows neither digitalSignature nor nonRepudiation. */
    medseal_key *nosig = import_file("signer-nosig.key", MEDSEAL_ALG_FROM_KEY);
    b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(nosig, &b));
    CHECK_RC(set_chain_file(b, "signer-nosig-chain.pem"), MEDSEAL_CERT_KEY_USAGE);
    CHECK_ERROR_CONTAINS("digitalSignature");
    CHECK_RC(set_chain_file(b, "signer-ec-chain.pem"), MEDSEAL_SIGNER_CERT_MISMATCH);
    medseal_signer_builder_free(b);
    medseal_key_free(nosig);

    /* Signing outside the leaf's window (2024): refused at signing, nothing written. */
    medseal_key *past = import_file("signer-past.key", MEDSEAL_ALG_FROM_KEY);
    b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(past, &b));
    CHECK_OK(set_chain_file(b, "signer-past-chain.pem")); /* accepted: the window is checked per signature */
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, BEFORE_PAST_TIME));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    SIGN_ERR(s, MEDSEAL_SIGNED_OUTSIDE_VALIDITY);
    CHECK_ERROR_CONTAINS(BEFORE_PAST_SIGT);
    medseal_signer_free(s);
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME)); /* after it */
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    SIGN_ERR(s, MEDSEAL_SIGNED_OUTSIDE_VALIDITY);
    medseal_signer_free(s);
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, PAST_TIME)); /* inside */
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    free(jws);
    medseal_signer_free(s);
    /* With the system clock (2026 or later) and no fixed time: outside too. */
    medseal_signer_builder_free(b);
    b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(past, &b));
    CHECK_OK(set_chain_file(b, "signer-past-chain.pem"));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    SIGN_ERR(s, MEDSEAL_SIGNED_OUTSIDE_VALIDITY);
    medseal_signer_free(s);
    medseal_signer_builder_free(b);
    medseal_key_free(past);

    /* RSA: a software RSA key with its chain; and a callback signer with a chain. */
    medseal_key *rsa = import_file("signer-rsa.key", MEDSEAL_ALG_FROM_KEY);
    b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(rsa, &b));
    CHECK_OK(set_chain_file(b, "signer-rsa-chain.pem"));
    CHECK_RC(set_chain_file(b, "signer-ec-chain.pem"), MEDSEAL_SIGNER_CERT_MISMATCH);
    medseal_signer_builder_free(b);
    medseal_key_free(rsa);
    {
        EVP_PKEY *ec = load_private(pki("signer-ec.key"));
        medseal_key *pub = public_of(ec, MEDSEAL_ALG_FROM_KEY);
        struct host h;
        host_init(&h, ec, NULL, 0);
        b = NULL;
        REQUIRE_OK(medseal_signer_builder_from_callback(pub, host_sign, &h, &b));
        CHECK_RC(set_chain_file(b, "signer-rsa-chain.pem"), MEDSEAL_SIGNER_CERT_MISMATCH);
        CHECK_OK(set_chain_file(b, "signer-ec-chain.pem"));
        s = NULL;
        REQUIRE_OK(medseal_signer_builder_build(b, &s));
        jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
        header = compact_header(jws);
        snprintf(expected, sizeof expected, "\"kid\":\"%s\"", x5t);
        CHECK_CONTAINS(header, strlen(header), expected);
        free(header);
        VERIFY_OK(by_key, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
        free(jws);
        medseal_signer_free(s);
        medseal_signer_builder_free(b);
        host_done(&h);
        medseal_key_free(pub);
        EVP_PKEY_free(ec);
    }

    free(inter_b64);
    free(leaf_b64);
    free(x5t);
    free_certs(chain, n_chain);
    medseal_verifier_free(by_key);
    medseal_key_free(key);
}

/* A JWS made by hand (as another implementation could), signed by `host`: header members in
 * canonical order with x5c from `chain_file` and the given sigT. medseal itself refuses to
 * sign outside the leaf's window, so this is how a verifier meets such a signature. */
static char *handmade_jws(struct host *h, const char *chain_file, const char *sigt, const char *x5t_override) {
    size_t n = 0;
    X509 **certs = load_certs(pki(chain_file), &n);
    char *x5t = cert_x5t(certs[0]);
    char x5c[8192] = "";
    for (size_t i = 0; i < n; i++) {
        char *b64 = cert_b64(certs[i]);
        strcat(x5c, i == 0 ? "\"" : ",\"");
        strcat(x5c, b64);
        strcat(x5c, "\"");
        free(b64);
    }
    const char *thumb = x5t_override != NULL ? x5t_override : x5t;
    char header[10000];
    snprintf(header, sizeof header,
             "{\"alg\":\"ES256\",\"crit\":[\"sigT\"],\"kid\":\"%s\",\"sigT\":\"%s\",\"typ\":\"medseal+jws\","
             "\"x5c\":[%s],\"x5t#S256\":\"%s\"}",
             thumb, sigt, x5c, thumb);
    char *h64 = b64url(header, strlen(header));
    char *p64 = b64url(DOC_CANON, strlen(DOC_CANON));
    size_t input_len = strlen(h64) + 1 + strlen(p64);
    char *input = xmalloc(input_len + 1);
    snprintf(input, input_len + 1, "%s.%s", h64, p64);
    uint8_t sig[MEDSEAL_MAX_SIGNATURE_BYTES];
    size_t sig_len = 0;
    h->mode = HOST_RAW;
    if (host_sign(h, (const uint8_t *)input, input_len, sig, sizeof sig, &sig_len) != 0) {
        fprintf(stderr, "FATAL: the host could not sign\n");
        exit(2);
    }
    char *s64 = b64url(sig, sig_len);
    char *jws = xmalloc(input_len + strlen(s64) + 2);
    sprintf(jws, "%s.%s", input, s64);
    free(s64);
    free(input);
    free(p64);
    free(h64);
    free(x5t);
    free_certs(certs, n);
    return jws;
}

static void test_trust_anchors(void) {
    medseal_verifier *root = verifier_with_anchors("root.pem");
    medseal_verifier *other_root = verifier_with_anchors("other-root.pem");
    medseal_verifier *inter = verifier_with_anchors("intermediate.pem");
    medseal_key *ec = import_file("signer-ec.key", MEDSEAL_ALG_FROM_KEY);
    char ec_kid[MEDSEAL_KID_BYTES + 1];
    kid_of(ec, ec_kid);
    medseal_signer_builder *b = NULL;
    medseal_signer *s = NULL;

    /* EC leaf, chain to the root: trusted by certificate, signer = the leaf's subject. */
    REQUIRE_OK(medseal_signer_builder_new(ec, &b));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
    REQUIRE_OK(set_chain_file(b, "signer-ec-chain.pem"));
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    char *jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(root, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_CERTIFICATE, SIGNER_EC_SUBJECT, FIXED_SIGT);
    {
        medseal_verified *vd = NULL;
        if (CHECK_OK(medseal_verifier_verify(root, (const uint8_t *)jws, strlen(jws), &vd))) {
            const uint8_t *data = NULL;
            size_t len = 0;
            CHECK_OK(medseal_verified_key_id(vd, &data, &len)); /* the key's thumbprint, as always */
            CHECK_MEM(data, len, ec_kid);
            medseal_verified_free(vd);
        }
    }
    /* The intermediate as the anchor: the chain ends at it. */
    VERIFY_OK(inter, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_CERTIFICATE, SIGNER_EC_SUBJECT, FIXED_SIGT);
    /* An unrelated root. */
    VERIFY_ERR(other_root, jws, MEDSEAL_CERT_UNKNOWN_ISSUER);
    /* The flattened form too. */
    char *flat = sign_str(s, DOC, MEDSEAL_JWS_FLATTENED);
    VERIFY_OK(root, flat, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_CERTIFICATE, SIGNER_EC_SUBJECT, FIXED_SIGT);
    free(flat);
    free(jws);
    medseal_signer_free(s);

    /* The leaf alone in x5c: the root cannot be reached, the intermediate can. */
    REQUIRE_OK(set_chain_file(b, "signer-ec.pem"));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_ERR(root, jws, MEDSEAL_CERT_UNKNOWN_ISSUER);
    VERIFY_OK(inter, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_CERTIFICATE, SIGNER_EC_SUBJECT, FIXED_SIGT);
    free(jws);
    medseal_signer_free(s);
    medseal_signer_builder_free(b);

    /* RSA leaf (RS256) under the same root. */
    medseal_key *rsa = import_file("signer-rsa.key", MEDSEAL_ALG_FROM_KEY);
    b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(rsa, &b));
    REQUIRE_OK(set_chain_file(b, "signer-rsa-chain.pem"));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_FLATTENED);
    VERIFY_OK(root, jws, MEDSEAL_ALG_RS256, MEDSEAL_TRUSTED_BY_CERTIFICATE, SIGNER_RSA_SUBJECT, NULL);
    VERIFY_ERR(other_root, jws, MEDSEAL_CERT_UNKNOWN_ISSUER);
    free(jws);
    medseal_signer_free(s);
    medseal_signer_builder_free(b);
    medseal_key_free(rsa);

    /* A certificate that expired (2025) still verifies what it signed in 2024: checked at sigT. */
    medseal_key *past = import_file("signer-past.key", MEDSEAL_ALG_FROM_KEY);
    b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(past, &b));
    REQUIRE_OK(set_chain_file(b, "signer-past-chain.pem"));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, PAST_TIME));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(root, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_CERTIFICATE, SIGNER_PAST_SUBJECT, PAST_SIGT);
    free(jws);
    medseal_signer_free(s);
    medseal_signer_builder_free(b);
    medseal_key_free(past);

    /* sigT outside the leaf's window: a JWS made by hand with the 2024 certificate. The same
     * construction inside the window verifies, so only the time differs. */
    {
        EVP_PKEY *past_key = load_private(pki("signer-past.key"));
        struct host h;
        host_init(&h, past_key, NULL, 0);
        char *inside = handmade_jws(&h, "signer-past-chain.pem", PAST_SIGT, NULL);
        VERIFY_OK(root, inside, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_CERTIFICATE, SIGNER_PAST_SUBJECT, PAST_SIGT);
        char *before = handmade_jws(&h, "signer-past-chain.pem", BEFORE_PAST_SIGT, NULL);
        VERIFY_ERR(root, before, MEDSEAL_SIGNED_OUTSIDE_VALIDITY);
        CHECK_ERROR_CONTAINS(BEFORE_PAST_SIGT);
        char *after = handmade_jws(&h, "signer-past-chain.pem", FIXED_SIGT, NULL);
        VERIFY_ERR(root, after, MEDSEAL_SIGNED_OUTSIDE_VALIDITY);
        /* x5t#S256 of another certificate than x5c's first. */
        char *wrong_x5t = handmade_jws(&h, "signer-past-chain.pem", PAST_SIGT,
                                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        VERIFY_ERR(root, wrong_x5t, MEDSEAL_CERT_CHAIN_BROKEN);
        free(wrong_x5t);
        free(after);
        free(before);
        free(inside);
        host_done(&h);
        EVP_PKEY_free(past_key);
    }

    /* A verifier with anchors and no keys, given a JWS without x5c: nothing to trust it with. */
    {
        medseal_signer *plain = NULL;
        medseal_signer_builder *pb = NULL;
        REQUIRE_OK(medseal_signer_builder_new(ec, &pb));
        REQUIRE_OK(medseal_signer_builder_build(pb, &plain));
        jws = sign_str(plain, DOC, MEDSEAL_JWS_COMPACT);
        medseal_verified *out = SENTINEL_PTR;
        CHECK_RC(medseal_verifier_verify(root, (const uint8_t *)jws, strlen(jws), &out), MEDSEAL_CERT_UNKNOWN_ISSUER);
        CHECK_ERROR_CONTAINS("no x5c");
        CHECK(out == SENTINEL_PTR);
        free(jws);
        medseal_signer_free(plain);
        medseal_signer_builder_free(pb);
    }

    /* add_trust_anchors: errors, and anchors besides keys. */
    medseal_verifier_builder *vb = NULL;
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    static const char garbage[] = "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n";
    CHECK_RC(medseal_verifier_builder_add_trust_anchors(vb, (const uint8_t *)garbage, strlen(garbage)),
             MEDSEAL_CERT_INVALID);
    CHECK_RC(medseal_verifier_builder_add_trust_anchors(vb, (const uint8_t *)"junk", 4), MEDSEAL_CERT_INVALID);
    CHECK_RC(medseal_verifier_builder_add_trust_anchors(NULL, (const uint8_t *)garbage, 4), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_verifier_builder_add_trust_anchors(vb, NULL, 4), MEDSEAL_NULL_ARGUMENT);
    {
        /* Nothing was added by the refused calls: building still needs a key. */
        medseal_verifier *none = SENTINEL_PTR;
        CHECK_RC(medseal_verifier_builder_build(vb, &none), MEDSEAL_JWS_NO_KEYS);
        CHECK(none == SENTINEL_PTR);
    }
    {
        /* One DER anchor, and two PEM anchors in one call. */
        size_t n = 0;
        X509 **roots = load_certs(pki("root.pem"), &n);
        size_t der_len = 0;
        unsigned char *der = cert_der(roots[0], &der_len);
        CHECK_OK(medseal_verifier_builder_add_trust_anchors(vb, der, der_len));
        OPENSSL_free(der);
        free_certs(roots, n);
        size_t a_len = 0, c_len = 0;
        uint8_t *a = read_file(pki("other-root.pem"), &a_len);
        uint8_t *c = read_file(pki("intermediate.pem"), &c_len);
        uint8_t *both = xmalloc(a_len + c_len);
        memcpy(both, a, a_len);
        memcpy(both + a_len, c, c_len);
        CHECK_OK(medseal_verifier_builder_add_trust_anchors(vb, both, a_len + c_len));
        free(both);
        free(c);
        free(a);
    }
    CHECK_OK(medseal_verifier_builder_add_key(vb, ec));
    medseal_verifier *mixed = NULL;
    REQUIRE_OK(medseal_verifier_builder_build(vb, &mixed));
    medseal_verifier_builder_free(vb);
    {
        /* x5c: judged by its chain; no x5c: by the key. */
        b = NULL;
        REQUIRE_OK(medseal_signer_builder_new(ec, &b));
        REQUIRE_OK(set_chain_file(b, "signer-ec-chain.pem"));
        s = NULL;
        REQUIRE_OK(medseal_signer_builder_build(b, &s));
        jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
        VERIFY_OK(mixed, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_CERTIFICATE, SIGNER_EC_SUBJECT, NULL);
        free(jws);
        medseal_signer_free(s);
        medseal_signer_builder_free(b);
        b = NULL;
        REQUIRE_OK(medseal_signer_builder_new(ec, &b));
        s = NULL;
        REQUIRE_OK(medseal_signer_builder_build(b, &s));
        jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
        VERIFY_OK(mixed, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
        free(jws);
        medseal_signer_free(s);
        medseal_signer_builder_free(b);
    }
    medseal_verifier_free(mixed);

    /* NULL arguments of the new accessors. */
    {
        b = NULL;
        REQUIRE_OK(medseal_signer_builder_new(ec, &b));
        s = NULL;
        REQUIRE_OK(medseal_signer_builder_build(b, &s));
        medseal_verifier *v = verifier_with_key(ec);
        jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
        medseal_verified *vd = NULL;
        REQUIRE_OK(medseal_verifier_verify(v, (const uint8_t *)jws, strlen(jws), &vd));
        uint32_t kind = SENTINEL_U32;
        const uint8_t *data = SENTINEL_PTR;
        size_t len = SENTINEL_LEN;
        CHECK_RC(medseal_verified_trusted_by(NULL, &kind), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_verified_trusted_by(vd, NULL), MEDSEAL_NULL_ARGUMENT);
        CHECK(kind == SENTINEL_U32);
        CHECK_RC(medseal_verified_signer(NULL, &data, &len), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_verified_signer(vd, NULL, &len), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_verified_signer(vd, &data, NULL), MEDSEAL_NULL_ARGUMENT);
        CHECK(data == SENTINEL_PTR && len == SENTINEL_LEN);
        /* A configured key: trusted by key, signer empty. */
        CHECK_OK(medseal_verified_trusted_by(vd, &kind));
        CHECK(kind == MEDSEAL_TRUSTED_BY_KEY);
        CHECK_OK(medseal_verified_signer(vd, &data, &len));
        CHECK(len == 0);
        medseal_verified_free(vd);
        free(jws);
        medseal_verifier_free(v);
        medseal_signer_free(s);
        medseal_signer_builder_free(b);
    }

    medseal_key_free(ec);
    medseal_verifier_free(inter);
    medseal_verifier_free(other_root);
    medseal_verifier_free(root);
}

/* ---- tests: PKCS#11 (SoftHSM2) ---------------------------------------------------------------- */

struct token {
    const char *module, *label, *ec_key, *rsa_key, *pin;
};

static medseal_result open_pkcs11(const char *module, const char *label, const char *key, const char *pin, uint32_t alg,
                                  medseal_signer_builder **out) {
    return medseal_signer_builder_from_pkcs11((const uint8_t *)module, strlen(module), (const uint8_t *)label,
                                              strlen(label), (const uint8_t *)key, strlen(key), (const uint8_t *)pin,
                                              strlen(pin), alg, out);
}

/* Opening must fail with `want`, writing nothing, and the message must not hold a PIN. */
static void pkcs11_err_(const struct token *t, const char *module, const char *label, const char *key,
                        const char *pin, uint32_t alg, medseal_result want, const char *file, int line) {
    medseal_signer_builder *b = SENTINEL_PTR;
    medseal_result rc = open_pkcs11(module, label, key, pin, alg, &b);
    char message[1024];
    check_last_error(message, sizeof message);
    if (!check_rc_(rc, want, "medseal_signer_builder_from_pkcs11", file, line) && rc == MEDSEAL_OK) {
        medseal_signer_builder_free(b);
        return;
    }
    check_true_(b == SENTINEL_PTR, "no output on failure", file, line);
    check_true_(strstr(message, t->pin) == NULL && (pin[0] == '\0' || strstr(message, pin) == NULL),
                "no PIN in the message", file, line);
}
#define PKCS11_ERR(t, module, label, key, pin, alg, want) \
    pkcs11_err_((t), (module), (label), (key), (pin), (alg), (want), __FILE__, __LINE__)

struct pkcs11_job {
    const medseal_signer *signer;
    const medseal_verifier *verifier;
};

static void *pkcs11_thread(void *arg) {
    struct pkcs11_job *job = arg;
    for (int i = 0; i < 4; i++) {
        medseal_buffer *out = NULL;
        if (CHECK_OK(medseal_signer_sign(job->signer, (const uint8_t *)DOC, strlen(DOC), MEDSEAL_JWS_COMPACT, &out))) {
            medseal_verified *vd = NULL;
            if (CHECK_OK(medseal_verifier_verify(job->verifier, medseal_buffer_data(out), medseal_buffer_len(out), &vd))) {
                medseal_verified_free(vd);
            }
            medseal_buffer_free(out);
        }
    }
    return NULL;
}

static void test_pkcs11(void) {
    struct token t = {need_env("MEDSEAL_TEST_PKCS11_MODULE"), need_env("MEDSEAL_TEST_PKCS11_TOKEN"),
                      need_env("MEDSEAL_TEST_PKCS11_EC_KEY"), need_env("MEDSEAL_TEST_PKCS11_RSA_KEY"),
                      need_env("MEDSEAL_TEST_PKCS11_PIN")};
    need_env("SOFTHSM2_CONF");
    static const char wrong_pin[] = "97531864";

    /* The wrong PIN, before any key is open (the token itself refuses it). */
    PKCS11_ERR(&t, t.module, t.label, t.ec_key, wrong_pin, MEDSEAL_ALG_FROM_KEY, MEDSEAL_PKCS11_PIN);
    CHECK_ERROR_CONTAINS(t.label);
    PKCS11_ERR(&t, t.module, t.label, t.ec_key, "", MEDSEAL_ALG_FROM_KEY, MEDSEAL_PKCS11_PIN);
    /* Unknown token, unknown key, bad module. */
    PKCS11_ERR(&t, t.module, "no-such-token", t.ec_key, t.pin, MEDSEAL_ALG_FROM_KEY, MEDSEAL_PKCS11_TOKEN_NOT_FOUND);
    CHECK_ERROR_CONTAINS("no-such-token");
    CHECK_ERROR_CONTAINS(t.label); /* the tokens present are listed */
    PKCS11_ERR(&t, t.module, t.label, "no-such-key", t.pin, MEDSEAL_ALG_FROM_KEY, MEDSEAL_PKCS11_KEY_NOT_FOUND);
    CHECK_ERROR_CONTAINS("no-such-key");
    PKCS11_ERR(&t, "/nonexistent/libpkcs11.so", t.label, t.ec_key, t.pin, MEDSEAL_ALG_FROM_KEY, MEDSEAL_PKCS11_MODULE);
    CHECK_ERROR_CONTAINS("/nonexistent/libpkcs11.so");
    PKCS11_ERR(&t, pki("root.pem"), t.label, t.ec_key, t.pin, MEDSEAL_ALG_FROM_KEY, MEDSEAL_PKCS11_MODULE);
    /* Algorithms the key cannot sign, and one that does not exist. */
    PKCS11_ERR(&t, t.module, t.label, t.ec_key, t.pin, MEDSEAL_ALG_PS256, MEDSEAL_KEY_UNSUPPORTED);
    PKCS11_ERR(&t, t.module, t.label, t.rsa_key, t.pin, MEDSEAL_ALG_ES256, MEDSEAL_KEY_UNSUPPORTED);
    PKCS11_ERR(&t, t.module, t.label, t.rsa_key, t.pin, MEDSEAL_ALG_EDDSA, MEDSEAL_KEY_UNSUPPORTED);
    PKCS11_ERR(&t, t.module, t.label, t.ec_key, t.pin, 99, MEDSEAL_INVALID_ARGUMENT);
    /* Text arguments: NULL and invalid UTF-8. */
    {
        medseal_signer_builder *b = SENTINEL_PTR;
        CHECK_RC(medseal_signer_builder_from_pkcs11(NULL, 5, (const uint8_t *)t.label, strlen(t.label),
                                                    (const uint8_t *)t.ec_key, strlen(t.ec_key), (const uint8_t *)t.pin,
                                                    strlen(t.pin), 0, &b),
                 MEDSEAL_NULL_ARGUMENT);
        CHECK_ERROR_CONTAINS("module");
        CHECK_RC(medseal_signer_builder_from_pkcs11((const uint8_t *)t.module, strlen(t.module), (const uint8_t *)t.label,
                                                    strlen(t.label), (const uint8_t *)t.ec_key, strlen(t.ec_key), NULL,
                                                    4, 0, &b),
                 MEDSEAL_NULL_ARGUMENT);
        CHECK_ERROR_CONTAINS("pin");
        CHECK_RC(medseal_signer_builder_from_pkcs11((const uint8_t *)t.module, strlen(t.module), (const uint8_t *)t.label,
                                                    strlen(t.label), (const uint8_t *)t.ec_key, strlen(t.ec_key),
                                                    (const uint8_t *)t.pin, strlen(t.pin), 0, NULL),
                 MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_signer_builder_from_pkcs11((const uint8_t *)t.module, strlen(t.module), (const uint8_t *)"\xFF",
                                                    1, (const uint8_t *)t.ec_key, strlen(t.ec_key),
                                                    (const uint8_t *)t.pin, strlen(t.pin), 0, &b),
                 MEDSEAL_INVALID_UTF8_ARGUMENT);
        CHECK(b == SENTINEL_PTR);
    }

    /* ES256 on the token; the public key the host knows is the certificate's. */
    EVP_PKEY *ec_host = load_private(pki("signer-ec.key"));
    medseal_key *ec_pub = public_of(ec_host, MEDSEAL_ALG_FROM_KEY);
    char ec_kid[MEDSEAL_KID_BYTES + 1];
    kid_of(ec_pub, ec_kid);
    medseal_verifier *v_ec = verifier_with_key(ec_pub);
    medseal_signer_builder *b_ec = NULL;
    REQUIRE_OK(open_pkcs11(t.module, t.label, t.ec_key, t.pin, MEDSEAL_ALG_FROM_KEY, &b_ec));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b_ec, FIXED_TIME));
    medseal_signer *s_ec = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b_ec, &s_ec));
    char *jws = sign_str(s_ec, DOC, MEDSEAL_JWS_COMPACT);
    char *header = compact_header(jws);
    char member[128];
    snprintf(member, sizeof member, "\"kid\":\"%s\"", ec_kid);
    CHECK_CONTAINS(header, strlen(header), member);
    free(header);
    VERIFY_OK(v_ec, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, FIXED_SIGT);
    free(jws);

    /* With the wrong PIN while a key is open, still refused (and still no PIN shown). */
    PKCS11_ERR(&t, t.module, t.label, t.rsa_key, wrong_pin, MEDSEAL_ALG_FROM_KEY, MEDSEAL_PKCS11_PIN);

    /* RS256 and PS256 with the RSA key, while the EC key stays open on the same token. */
    EVP_PKEY *rsa_host = load_private(pki("signer-rsa.key"));
    medseal_key *rs_pub = public_of(rsa_host, MEDSEAL_ALG_FROM_KEY);
    medseal_key *ps_pub = public_of(rsa_host, MEDSEAL_ALG_PS256);
    medseal_verifier *v_rs = verifier_with_key(rs_pub);
    medseal_verifier *v_ps = verifier_with_key(ps_pub);
    const uint32_t rsa_algs[] = {MEDSEAL_ALG_FROM_KEY, MEDSEAL_ALG_RS256, MEDSEAL_ALG_PS256};
    for (size_t i = 0; i < 3; i++) {
        medseal_signer_builder *b = NULL;
        if (!CHECK_OK(open_pkcs11(t.module, t.label, t.rsa_key, t.pin, rsa_algs[i], &b))) {
            continue;
        }
        medseal_signer *s = NULL;
        REQUIRE_OK(medseal_signer_builder_build(b, &s));
        medseal_signer_builder_free(b); /* the signer keeps the session */
        jws = sign_str(s, DOC, MEDSEAL_JWS_FLATTENED);
        if (rsa_algs[i] == MEDSEAL_ALG_PS256) {
            VERIFY_OK(v_ps, jws, MEDSEAL_ALG_PS256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
            VERIFY_ERR(v_rs, jws, MEDSEAL_JWS_ALG_MISMATCH);
        } else {
            VERIFY_OK(v_rs, jws, MEDSEAL_ALG_RS256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
        }
        free(jws);
        medseal_signer_free(s);
    }

    /* The certificate chain on a token key: trusted by the root. */
    REQUIRE_OK(set_chain_file(b_ec, "signer-ec-chain.pem"));
    CHECK_RC(set_chain_file(b_ec, "signer-rsa-chain.pem"), MEDSEAL_SIGNER_CERT_MISMATCH);
    medseal_signer *s_chain = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b_ec, &s_chain));
    jws = sign_str(s_chain, DOC, MEDSEAL_JWS_COMPACT);
    medseal_verifier *root = verifier_with_anchors("root.pem");
    VERIFY_OK(root, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_CERTIFICATE, SIGNER_EC_SUBJECT, FIXED_SIGT);
    free(jws);
    medseal_verifier_free(root);

    /* One token signer, several threads (the session is used by one at a time). */
    {
        pthread_t threads[3];
        struct pkcs11_job job = {s_ec, v_ec};
        int started = 0;
        for (int i = 0; i < 3; i++) {
            if (CHECK(pthread_create(&threads[i], NULL, pkcs11_thread, &job) == 0)) {
                started++;
            }
        }
        for (int i = 0; i < started; i++) {
            pthread_join(threads[i], NULL);
        }
    }

    /* Freed in any order: builder first, then signers; the second signer still works. */
    medseal_signer_builder_free(b_ec);
    medseal_signer_free(s_ec);
    jws = sign_str(s_chain, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v_ec, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_KEY, NULL, NULL);
    free(jws);
    medseal_signer_free(s_chain);

    /* Everything closed: the token can be opened again. */
    b_ec = NULL;
    CHECK_OK(open_pkcs11(t.module, t.label, t.ec_key, t.pin, MEDSEAL_ALG_ES256, &b_ec));
    medseal_signer_builder_free(b_ec);
    PKCS11_ERR(&t, t.module, t.label, t.ec_key, wrong_pin, MEDSEAL_ALG_FROM_KEY, MEDSEAL_PKCS11_PIN);

    medseal_verifier_free(v_ps);
    medseal_verifier_free(v_rs);
    medseal_key_free(ps_pub);
    medseal_key_free(rs_pub);
    EVP_PKEY_free(rsa_host);
    medseal_verifier_free(v_ec);
    medseal_key_free(ec_pub);
    EVP_PKEY_free(ec_host);
}

/* ---- tests: trust lists ------------------------------------------------------------------------ */

/* The public JWK of a key, as medseal writes it (with alg, kid and use). */
static char *public_jwk(const medseal_key *key) {
    medseal_buffer *spki = NULL, *jwk = NULL;
    medseal_key *pub = NULL;
    REQUIRE_OK(medseal_key_export(key, MEDSEAL_KEY_FORMAT_SPKI_DER, &spki));
    REQUIRE_OK(medseal_key_import(medseal_buffer_data(spki), medseal_buffer_len(spki), MEDSEAL_ALG_FROM_KEY, &pub));
    REQUIRE_OK(medseal_key_export(pub, MEDSEAL_KEY_FORMAT_JWK, &jwk));
    char *s = buf_str(jwk);
    medseal_buffer_free(jwk);
    medseal_key_free(pub);
    medseal_buffer_free(spki);
    return s;
}

static char *trust_list_json(uint64_t sequence, const char *record_kid, const char *record_jwk, const char *tls_kid,
                             const char *tls_jwk, const char *cert_kid, const char *cert_b64) {
    size_t cap = 16384;
    char *json = xmalloc(cap);
    snprintf(json, cap,
             "{\n"
             "  \"type\": \"medseal-trust-list\", \"version\": 1,\n"
             "  \"issuer\": \"HCMC Department of Health (TEST)\", \"sequence\": %llu,\n"
             "  \"issued\": \"" LIST_ISSUED "\", \"expires\": \"" LIST_EXPIRES "\",\n"
             "  \"entries\": [\n"
             "    {\"facility\": \"Cho Ray Hospital\", \"kid\": \"%s\", \"alg\": \"ES256\", \"jwk\": %s,\n"
             "     \"roles\": [\"record-signing\"], \"not_before\": \"" ENTRY_FROM "\", \"not_after\": \"" ENTRY_UNTIL
             "\"},\n"
             "    {\"facility\": \"Cho Ray Hospital\", \"kid\": \"%s\", \"alg\": \"EdDSA\", \"jwk\": %s,\n"
             "     \"roles\": [\"tls-client\"], \"not_before\": \"" ENTRY_FROM "\", \"not_after\": \"" ENTRY_UNTIL
             "\"},\n"
             "    {\"facility\": \"B\xE1\xBB\x87nh vi\xE1\xBB\x87n Nhi \xC4\x90\xE1\xBB\x93ng 1\", \"kid\": \"%s\","
             " \"alg\": \"ES256\", \"x5c\": [\"%s\"],\n"
             "     \"roles\": [\"record-signing\"], \"not_before\": \"" ENTRY_FROM "\", \"not_after\": \"" ENTRY_UNTIL
             "\"}\n"
             "  ]\n"
             "}\n",
             (unsigned long long)sequence, record_kid, record_jwk, tls_kid, tls_jwk, cert_kid, cert_b64);
    return json;
}

#define NHI_DONG_1 "B\xE1\xBB\x87nh vi\xE1\xBB\x87n Nhi \xC4\x90\xE1\xBB\x93ng 1"

static void test_trust_lists(void) {
    medseal_key *list_key = NULL, *other_list_key = NULL, *record_key = NULL, *tls_key = NULL, *stranger = NULL;
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &list_key));
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &other_list_key));
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_ES256, &record_key));
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &tls_key));
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_ES256, &stranger));
    char record_kid[MEDSEAL_KID_BYTES + 1], tls_kid[MEDSEAL_KID_BYTES + 1];
    kid_of(record_key, record_kid);
    kid_of(tls_key, tls_kid);
    char *record_jwk = public_jwk(record_key);
    char *tls_jwk = public_jwk(tls_key);
    size_t n_chain = 0;
    X509 **chain = load_certs(pki("signer-ec-chain.pem"), &n_chain);
    char *leaf_x5t = cert_x5t(chain[0]);
    char *leaf_b64 = cert_b64(chain[0]);
    char *json = trust_list_json(7, record_kid, record_jwk, tls_kid, tls_jwk, leaf_x5t, leaf_b64);

    /* Signing a list. */
    medseal_buffer *signed_list = SENTINEL_PTR;
    REQUIRE_OK(medseal_trust_list_sign((const uint8_t *)json, strlen(json), list_key, &signed_list));
    char *list_jws = buf_str(signed_list);
    medseal_buffer_free(signed_list);
    CHECK(strncmp(list_jws, "{", 1) == 0); /* flattened JSON */
    {
        medseal_buffer *out = SENTINEL_PTR;
        medseal_key *pub_only = NULL;
        medseal_buffer *spki = NULL;
        REQUIRE_OK(medseal_key_export(list_key, MEDSEAL_KEY_FORMAT_SPKI_DER, &spki));
        REQUIRE_OK(medseal_key_import(medseal_buffer_data(spki), medseal_buffer_len(spki), 0, &pub_only));
        CHECK_RC(medseal_trust_list_sign((const uint8_t *)json, strlen(json), pub_only, &out), MEDSEAL_KEY_NOT_PRIVATE);
        medseal_key_free(pub_only);
        medseal_buffer_free(spki);
        CHECK_RC(medseal_trust_list_sign((const uint8_t *)"{\"type\":\"x\"}", 12, list_key, &out),
                 MEDSEAL_TRUST_LIST_INVALID);
        CHECK_RC(medseal_trust_list_sign((const uint8_t *)"not json", 8, list_key, &out), MEDSEAL_TRUST_LIST_INVALID);
        /* Private key material in an entry's JWK: refused. (medseal exports only public JWKs, so
         * the "d" member is added by hand; its value does not matter.) */
        size_t pj_len = strlen(record_jwk) + 64;
        char *pj = xmalloc(pj_len);
        snprintf(pj, pj_len, "{\"d\":\"%s\",%s", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", record_jwk + 1);
        char *bad = trust_list_json(7, record_kid, pj, tls_kid, tls_jwk, leaf_x5t, leaf_b64);
        CHECK_RC(medseal_trust_list_sign((const uint8_t *)bad, strlen(bad), list_key, &out), MEDSEAL_TRUST_LIST_INVALID);
        CHECK_ERROR_CONTAINS("private");
        free(bad);
        free(pj);
        CHECK_RC(medseal_trust_list_sign((const uint8_t *)json, strlen(json), NULL, &out), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_trust_list_sign(NULL, 4, list_key, &out), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_trust_list_sign((const uint8_t *)json, strlen(json), list_key, NULL), MEDSEAL_NULL_ARGUMENT);
        CHECK(out == SENTINEL_PTR);
    }

    /* Verifying it, and its header. */
    medseal_trust_list *list = SENTINEL_PTR;
    REQUIRE_OK(medseal_trust_list_verify((const uint8_t *)list_jws, strlen(list_jws), list_key, FIXED_TIME, 0, &list));
    uint64_t sequence = 0;
    int64_t expires = 0;
    size_t count = 0;
    CHECK_OK(medseal_trust_list_sequence(list, &sequence));
    CHECK(sequence == 7);
    CHECK_OK(medseal_trust_list_expires(list, &expires));
    CHECK(expires == LIST_EXPIRES_TIME);
    CHECK_OK(medseal_trust_list_entry_count(list, &count));
    CHECK(count == 3);
    {
        uint64_t seq = UINT64_MAX;
        int64_t exp = INT64_MIN;
        size_t cnt = SENTINEL_LEN;
        CHECK_RC(medseal_trust_list_sequence(NULL, &seq), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_trust_list_sequence(list, NULL), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_trust_list_expires(NULL, &exp), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_trust_list_expires(list, NULL), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_trust_list_entry_count(NULL, &cnt), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_trust_list_entry_count(list, NULL), MEDSEAL_NULL_ARGUMENT);
        CHECK(seq == UINT64_MAX && exp == INT64_MIN && cnt == SENTINEL_LEN);
    }

    /* Freshness: the last second of the list, the next; the sequence already seen. */
    {
        medseal_trust_list *l = NULL;
        CHECK_OK(medseal_trust_list_verify((const uint8_t *)list_jws, strlen(list_jws), list_key, LIST_EXPIRES_TIME, 7,
                                           &l));
        medseal_trust_list_free(l);
        l = SENTINEL_PTR;
        CHECK_RC(medseal_trust_list_verify((const uint8_t *)list_jws, strlen(list_jws), list_key, LIST_EXPIRES_TIME + 1,
                                           0, &l),
                 MEDSEAL_TRUST_LIST_EXPIRED);
        CHECK_ERROR_CONTAINS(LIST_EXPIRES);
        CHECK_RC(medseal_trust_list_verify((const uint8_t *)list_jws, strlen(list_jws), list_key, FIXED_TIME, 8, &l),
                 MEDSEAL_TRUST_LIST_STALE);
        CHECK_ERROR_CONTAINS("#7");
        CHECK_RC(medseal_trust_list_verify((const uint8_t *)list_jws, strlen(list_jws), other_list_key, FIXED_TIME, 0,
                                           &l),
                 MEDSEAL_TRUST_LIST_SIGNATURE);
        /* Issued (2026-01-01) far after `now`: refused. */
        CHECK_RC(medseal_trust_list_verify((const uint8_t *)list_jws, strlen(list_jws), list_key,
                                           INT64_C(1767225600) - 3600, 0, &l),
                 MEDSEAL_TRUST_LIST_INVALID);
        /* A damaged signature. */
        char *damaged = xstrdup(list_jws);
        char *sig = strstr(damaged, "\"signature\":\"");
        if (CHECK(sig != NULL)) {
            sig += strlen("\"signature\":\"") + 5;
            *sig = *sig == 'A' ? 'B' : 'A';
            CHECK_RC(medseal_trust_list_verify((const uint8_t *)damaged, strlen(damaged), list_key, FIXED_TIME, 0, &l),
                     MEDSEAL_TRUST_LIST_SIGNATURE);
        }
        free(damaged);
        /* A record is not a trust list, even signed by the list key. */
        medseal_signer_builder *rb = NULL;
        medseal_signer *rs = NULL;
        REQUIRE_OK(medseal_signer_builder_new(list_key, &rb));
        REQUIRE_OK(medseal_signer_builder_build(rb, &rs));
        char *record = sign_str(rs, json, MEDSEAL_JWS_FLATTENED);
        CHECK_RC(medseal_trust_list_verify((const uint8_t *)record, strlen(record), list_key, FIXED_TIME, 0, &l),
                 MEDSEAL_TRUST_LIST_INVALID);
        free(record);
        medseal_signer_free(rs);
        medseal_signer_builder_free(rb);
        CHECK_RC(medseal_trust_list_verify(NULL, 4, list_key, FIXED_TIME, 0, &l), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_trust_list_verify((const uint8_t *)list_jws, strlen(list_jws), NULL, FIXED_TIME, 0, &l),
                 MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_trust_list_verify((const uint8_t *)list_jws, strlen(list_jws), list_key, FIXED_TIME, 0, NULL),
                 MEDSEAL_NULL_ARGUMENT);
        CHECK(l == SENTINEL_PTR);
    }

    /* A verifier trusting the list (freed right after: the verifier keeps what it needs). */
    medseal_verifier_builder *vb = NULL;
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    CHECK_RC(medseal_verifier_builder_set_trust_list(vb, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_verifier_builder_set_trust_list(NULL, list), MEDSEAL_NULL_ARGUMENT);
    CHECK_OK(medseal_verifier_builder_set_trust_list(vb, list));
    medseal_trust_list_free(list);
    medseal_trust_list_free(NULL);
    medseal_verifier *v = NULL;
    REQUIRE_OK(medseal_verifier_builder_build(vb, &v));
    medseal_verifier_builder_free(vb);

    /* A record signed by the listed key inside its window. */
    medseal_signer_builder *b = NULL;
    medseal_signer *s = NULL;
    REQUIRE_OK(medseal_signer_builder_new(record_key, &b));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    char *jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_TRUST_LIST, "Cho Ray Hospital", FIXED_SIGT);
    free(jws);
    medseal_signer_free(s);
    /* Outside the entry's window. */
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, AFTER_ENTRY_TIME));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_ERR(v, jws, MEDSEAL_SIGNED_OUTSIDE_VALIDITY);
    CHECK_ERROR_CONTAINS("Cho Ray Hospital");
    free(jws);
    medseal_signer_free(s);
    medseal_signer_builder_free(b);

    /* Keys the list does not trust for records: a stranger, a tls-client key. */
    medseal_key *untrusted[] = {stranger, tls_key};
    for (size_t i = 0; i < 2; i++) {
        b = NULL;
        REQUIRE_OK(medseal_signer_builder_new(untrusted[i], &b));
        REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
        s = NULL;
        REQUIRE_OK(medseal_signer_builder_build(b, &s));
        jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
        VERIFY_ERR(v, jws, MEDSEAL_TRUST_UNKNOWN_SIGNER);
        free(jws);
        medseal_signer_free(s);
        medseal_signer_builder_free(b);
    }
    /* The stranger claiming the listed kid: the signature does not verify. */
    b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(stranger, &b));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
    REQUIRE_OK(medseal_signer_builder_set_kid(b, (const uint8_t *)record_kid, strlen(record_kid)));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_ERR(v, jws, MEDSEAL_JWS_SIGNATURE_INVALID);
    free(jws);
    medseal_signer_free(s);
    medseal_signer_builder_free(b);

    /* The x5c entry: a record signed with the certificate's key (kid = x5t#S256). */
    medseal_key *cert_key = import_file("signer-ec.key", MEDSEAL_ALG_FROM_KEY);
    b = NULL;
    REQUIRE_OK(medseal_signer_builder_new(cert_key, &b));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
    REQUIRE_OK(set_chain_file(b, "signer-ec-chain.pem"));
    s = NULL;
    REQUIRE_OK(medseal_signer_builder_build(b, &s));
    jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
    VERIFY_OK(v, jws, MEDSEAL_ALG_ES256, MEDSEAL_TRUSTED_BY_TRUST_LIST, NHI_DONG_1, FIXED_SIGT);
    free(jws);
    medseal_signer_free(s);
    medseal_signer_builder_free(b);
    medseal_key_free(cert_key);
    medseal_verifier_free(v);

    /* A list next to a configured key: each verifies its own signers. */
    {
        medseal_trust_list *l = NULL;
        REQUIRE_OK(medseal_trust_list_verify((const uint8_t *)list_jws, strlen(list_jws), list_key, FIXED_TIME, 7, &l));
        vb = NULL;
        REQUIRE_OK(medseal_verifier_builder_new(&vb));
        REQUIRE_OK(medseal_verifier_builder_set_trust_list(vb, l));
        REQUIRE_OK(medseal_verifier_builder_add_key(vb, stranger));
        v = NULL;
        REQUIRE_OK(medseal_verifier_builder_build(vb, &v));
        medseal_verifier_builder_free(vb);
        medseal_key *signers[] = {record_key, stranger};
        const uint32_t kinds[] = {MEDSEAL_TRUSTED_BY_TRUST_LIST, MEDSEAL_TRUSTED_BY_KEY};
        const char *names[] = {"Cho Ray Hospital", NULL};
        for (size_t i = 0; i < 2; i++) {
            b = NULL;
            REQUIRE_OK(medseal_signer_builder_new(signers[i], &b));
            REQUIRE_OK(medseal_signer_builder_set_signing_time(b, FIXED_TIME));
            s = NULL;
            REQUIRE_OK(medseal_signer_builder_build(b, &s));
            jws = sign_str(s, DOC, MEDSEAL_JWS_COMPACT);
            VERIFY_OK(v, jws, MEDSEAL_ALG_ES256, kinds[i], names[i], FIXED_SIGT);
            free(jws);
            medseal_signer_free(s);
            medseal_signer_builder_free(b);
        }
        medseal_verifier_free(v);
        medseal_trust_list_free(l);
    }

    free(json);
    free(leaf_b64);
    free(leaf_x5t);
    free_certs(chain, n_chain);
    free(list_jws);
    free(tls_jwk);
    free(record_jwk);
    medseal_key_free(stranger);
    medseal_key_free(tls_key);
    medseal_key_free(record_key);
    medseal_key_free(other_list_key);
    medseal_key_free(list_key);
}

/* The new result codes have names and descriptions. */
static void test_result_codes(void) {
    static const struct {
        medseal_result code;
        const char *name;
    } codes[] = {
        {MEDSEAL_CERT_INVALID, "MEDSEAL_CERT_INVALID"},
        {MEDSEAL_CERT_EXPIRED, "MEDSEAL_CERT_EXPIRED"},
        {MEDSEAL_CERT_NOT_YET_VALID, "MEDSEAL_CERT_NOT_YET_VALID"},
        {MEDSEAL_CERT_UNKNOWN_ISSUER, "MEDSEAL_CERT_UNKNOWN_ISSUER"},
        {MEDSEAL_CERT_KEY_USAGE, "MEDSEAL_CERT_KEY_USAGE"},
        {MEDSEAL_CERT_CHAIN_BROKEN, "MEDSEAL_CERT_CHAIN_BROKEN"},
        {MEDSEAL_SIGNED_OUTSIDE_VALIDITY, "MEDSEAL_SIGNED_OUTSIDE_VALIDITY"},
        {MEDSEAL_TRUST_LIST_INVALID, "MEDSEAL_TRUST_LIST_INVALID"},
        {MEDSEAL_TRUST_LIST_EXPIRED, "MEDSEAL_TRUST_LIST_EXPIRED"},
        {MEDSEAL_TRUST_LIST_STALE, "MEDSEAL_TRUST_LIST_STALE"},
        {MEDSEAL_TRUST_LIST_SIGNATURE, "MEDSEAL_TRUST_LIST_SIGNATURE"},
        {MEDSEAL_TRUST_UNKNOWN_SIGNER, "MEDSEAL_TRUST_UNKNOWN_SIGNER"},
        {MEDSEAL_SIGNER_FAILED, "MEDSEAL_SIGNER_FAILED"},
        {MEDSEAL_SIGNER_BAD_SIGNATURE, "MEDSEAL_SIGNER_BAD_SIGNATURE"},
        {MEDSEAL_SIGNER_CERT_MISMATCH, "MEDSEAL_SIGNER_CERT_MISMATCH"},
        {MEDSEAL_SIGNING_TIME_SKEW, "MEDSEAL_SIGNING_TIME_SKEW"},
        {MEDSEAL_PKCS11_MODULE, "MEDSEAL_PKCS11_MODULE"},
        {MEDSEAL_PKCS11_TOKEN_NOT_FOUND, "MEDSEAL_PKCS11_TOKEN_NOT_FOUND"},
        {MEDSEAL_PKCS11_KEY_NOT_FOUND, "MEDSEAL_PKCS11_KEY_NOT_FOUND"},
        {MEDSEAL_PKCS11_PIN, "MEDSEAL_PKCS11_PIN"},
        {MEDSEAL_PKCS11_DEVICE, "MEDSEAL_PKCS11_DEVICE"},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK_STR(medseal_result_name(codes[i].code), codes[i].name);
        const char *description = medseal_result_describe(codes[i].code);
        CHECK(description != NULL && strlen(description) > 10);
    }
    CHECK(MEDSEAL_CERT_INVALID == 500 && MEDSEAL_TRUST_UNKNOWN_SIGNER == 511);
    CHECK(MEDSEAL_SIGNER_FAILED == 600 && MEDSEAL_PKCS11_DEVICE == 608);
    CHECK(MEDSEAL_TRUSTED_BY_KEY == 1 && MEDSEAL_TRUSTED_BY_CERTIFICATE == 2 && MEDSEAL_TRUSTED_BY_TRUST_LIST == 3);
}

int main(void) {
    test_result_codes();
    test_callback_es256();
    test_callback_other_algorithms();
    test_callback_threads();
    test_clock();
    test_certificate_chain();
    test_trust_anchors();
    test_pkcs11();
    test_trust_lists();
    return check_summary();
}
