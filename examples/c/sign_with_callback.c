/*
 * sign_with_callback.c -- sign a FHIR resource with a private key medseal never sees.
 *
 *   sign_with_callback PRIVATE_KEY.pem [RESOURCE.json]
 *
 * The private key stays in the host: here a PEM file read with OpenSSL's libcrypto, standing for
 * whatever key store a hospital system has (a Java KeyStore, the Windows certificate store, a
 * remote-signing service). medseal gets only the public key and a callback; it builds the
 * JWS (JAdES header, canonical record), hands the callback the exact bytes to sign, checks
 * the returned signature against the public key, and only then emits the JWS. The program
 * signs RESOURCE.json (or the sample Patient below), prints the JWS, verifies it and prints
 * what was verified.
 *
 * PRIVATE_KEY.pem: a P-256 (ES256), RSA (RS256) or Ed25519 (EdDSA) private key in PEM, e.g.
 *   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem
 *
 * Build (from the medseal repository, after `cargo build --lib`; needs libssl-dev):
 *
 *   cc -std=c11 -Iinclude examples/c/sign_with_callback.c -Ltarget/debug -lmedseal -lcrypto \
 *      -Wl,-rpath,"$PWD/target/debug" -o sign_with_callback
 *
 * Conventions of the medseal C API used throughout:
 *   - functions return a medseal_result: MEDSEAL_OK (0) or an error code;
 *   - on error, medseal_last_error_message() explains it. Read it straight away, before any
 *     other medseal call (even medseal_result_name or a _free), which may reset it;
 *   - outputs are written only on success, so "initialize to NULL, free at the end" is safe;
 *   - every handle has exactly one _free function, and _free(NULL) does nothing;
 *   - the callback's ctx (here the host key) must outlive the signer and its builder, and the
 *     callback may be called from any thread that signs with the signer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "medseal.h"

/* The sample record: a Patient named "Nguyễn Văn An", written with escapes so that it is
 * certainly in Unicode NFC, which medseal requires by default. */
static const char SAMPLE_PATIENT[] =
    "{\n"
    "  \"resourceType\": \"Patient\",\n"
    "  \"id\": \"vn-hcm-000123\",\n"
    "  \"identifier\": [{\"system\": \"urn:oid:1.2.704.99.1\", \"value\": \"079085001234\"}],\n"
    "  \"name\": [{\"use\": \"official\", \"text\": \"Nguy\xE1\xBB\x85n V\xC4\x83n An\"}],\n"
    "  \"gender\": \"male\",\n"
    "  \"birthDate\": \"1985-04-12\"\n"
    "}\n";

/* ASTM E1762 purpose of signature: "author's signature". Recorded in the JAdES header. */
static const char COMMITMENT_OID[] = "1.2.840.10065.1.12.1.1";

/* ---- the host's key store ------------------------------------------------------------------- */

/* What the callback's ctx points to: the host's private key. */
struct host_keystore {
    EVP_PKEY *key;
};

/* The signing callback (medseal_sign_callback). medseal passes the JWS signing input; the host
 * signs it as the algorithm says (SHA-256 with ECDSA or RSA PKCS#1 v1.5; Ed25519 signs the
 * message itself). For ES256 OpenSSL returns an ASN.1 DER signature, which medseal accepts and
 * converts to the r||s that JWS uses. Returns 0 on success; anything else tells medseal the
 * host failed (MEDSEAL_SIGNER_FAILED). */
static int32_t host_sign(void *ctx, const uint8_t *message, size_t message_len, uint8_t *signature,
                         size_t signature_cap, size_t *signature_len) {
    struct host_keystore *store = ctx;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    const EVP_MD *digest = EVP_PKEY_is_a(store->key, "ED25519") ? NULL : EVP_sha256();
    size_t len = signature_cap;
    int ok = md != NULL && EVP_DigestSignInit(md, NULL, digest, NULL, store->key) == 1 &&
             EVP_DigestSign(md, signature, &len, message, message_len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) {
        fprintf(stderr, "host key store: signing failed: %s\n", ERR_error_string(ERR_get_error(), NULL));
        return 1;
    }
    *signature_len = len;
    return 0;
}

/* Reads a PEM private key with OpenSSL. NULL (with a message) if the file holds none. */
static EVP_PKEY *load_private_key(const char *path) {
    BIO *bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        fprintf(stderr, "%s: cannot open the file\n", path);
        return NULL;
    }
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL) {
        fprintf(stderr, "%s: not a PEM private key (unencrypted PKCS#8, or traditional EC/RSA)\n", path);
    }
    return key;
}

/* ---- medseal helpers, as in sign_verify.c ----------------------------------------------------- */

/* Prints "medseal: <what> failed: <NAME> (<code>): <message>". Call it right after the failing
 * call: the message is read first, because other medseal calls may reset it. */
static void print_error(const char *what, medseal_result rc) {
    char small[256];
    char *message = small;
    size_t len = 0;
    medseal_result mrc = medseal_last_error_message((uint8_t *)small, sizeof small, &len);
    if (mrc == MEDSEAL_BUFFER_TOO_SMALL) {
        message = malloc(len + 1);
        if (message == NULL || medseal_last_error_message((uint8_t *)message, len + 1, &len) != MEDSEAL_OK) {
            free(message);
            message = small;
            strcpy(small, "(message unavailable)");
        }
    } else if (mrc != MEDSEAL_OK) {
        strcpy(small, "(message unavailable)");
    }
    fprintf(stderr, "medseal: %s failed: %s (%d): %s\n", what, medseal_result_name(rc), (int)rc, message);
    if (message != small) {
        free(message);
    }
}

/* Reads a whole file into memory. Returns NULL (with a message) on failure. */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    uint8_t *data = malloc(cap);
    while (data != NULL) {
        n += fread(data + n, 1, cap - n, f);
        if (n < cap) {
            break;
        }
        uint8_t *bigger = realloc(data, cap * 2);
        if (bigger == NULL) {
            free(data);
            data = NULL;
            break;
        }
        data = bigger;
        cap *= 2;
    }
    if (data == NULL || ferror(f)) {
        fprintf(stderr, "%s: cannot read the file\n", path);
        free(data);
        data = NULL;
    }
    fclose(f);
    *len = n;
    return data;
}

static void print_bytes(const char *label, const uint8_t *data, size_t len) {
    printf("%s: %.*s\n", label, (int)len, (const char *)data);
}

static const char *alg_name(uint32_t alg) {
    return alg == MEDSEAL_ALG_EDDSA   ? "EdDSA"
           : alg == MEDSEAL_ALG_ES256 ? "ES256"
           : alg == MEDSEAL_ALG_RS256 ? "RS256"
           : alg == MEDSEAL_ALG_PS256 ? "PS256"
                                      : "?";
}

int main(int argc, char **argv) {
    int status = EXIT_FAILURE;
    medseal_result rc;

    struct host_keystore store = {NULL};
    unsigned char *spki = NULL; /* the public key, DER SubjectPublicKeyInfo (OpenSSL's) */
    int spki_len = 0;
    uint8_t *record = NULL;
    medseal_key *public_key = NULL;
    medseal_signer_builder *signer_builder = NULL;
    medseal_signer *signer = NULL;
    medseal_buffer *jws = NULL;
    medseal_verifier_builder *verifier_builder = NULL;
    medseal_verifier *verifier = NULL;
    medseal_verified *verified = NULL;
    const uint8_t *doc = (const uint8_t *)SAMPLE_PATIENT;
    size_t doc_len = strlen(SAMPLE_PATIENT);
    const uint8_t *data = NULL; /* borrowed from `verified` */
    size_t len = 0;
    uint32_t alg = 0;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PRIVATE_KEY.pem [RESOURCE.json]\n", argv[0]);
        return EXIT_FAILURE;
    }
    if (medseal_abi_version() != MEDSEAL_ABI_VERSION) {
        fprintf(stderr, "medseal ABI %u loaded, but this program was built for ABI %u\n",
                (unsigned)medseal_abi_version(), (unsigned)MEDSEAL_ABI_VERSION);
        return EXIT_FAILURE;
    }

    /* 1. The host's key. medseal is given its public half only: the SubjectPublicKeyInfo, which
     *    medseal_key_import reads (as it reads PEM, JWK, ...). */
    store.key = load_private_key(argv[1]);
    if (store.key == NULL) {
        goto done;
    }
    spki_len = i2d_PUBKEY(store.key, &spki);
    if (spki_len <= 0) {
        fprintf(stderr, "%s: cannot encode the public key\n", argv[1]);
        goto done;
    }
    /* MEDSEAL_ALG_FROM_KEY: P-256 signs ES256, RSA RS256 (pass MEDSEAL_ALG_PS256 for PS256, and
     * make the callback sign RSA-PSS), Ed25519 EdDSA. Other curves: MEDSEAL_KEY_UNSUPPORTED. */
    rc = medseal_key_import(spki, (size_t)spki_len, MEDSEAL_ALG_FROM_KEY, &public_key);
    if (rc != MEDSEAL_OK) {
        print_error("importing the public key", rc);
        goto done;
    }

    /* 2. The record. */
    if (argc > 2) {
        record = read_file(argv[2], &doc_len);
        if (record == NULL) {
            goto done;
        }
        doc = record;
    }

    /* 3. A signer that calls back into the host for every signature. Build it once and share it
     *    between threads; `store` must outlive it. */
    rc = medseal_signer_builder_from_callback(public_key, host_sign, &store, &signer_builder);
    if (rc != MEDSEAL_OK) {
        print_error("starting the signer", rc);
        goto done;
    }
    rc = medseal_signer_builder_set_commitment(signer_builder, (const uint8_t *)COMMITMENT_OID, strlen(COMMITMENT_OID));
    if (rc != MEDSEAL_OK) {
        print_error("setting the commitment type", rc);
        goto done;
    }
    rc = medseal_signer_builder_build(signer_builder, &signer);
    if (rc != MEDSEAL_OK) {
        print_error("building the signer", rc);
        goto done;
    }

    /* 4. Sign. A callback that fails gives MEDSEAL_SIGNER_FAILED; a signature that does not
     *    verify with the public key, MEDSEAL_SIGNER_BAD_SIGNATURE (and no JWS). */
    rc = medseal_signer_sign(signer, doc, doc_len, MEDSEAL_JWS_FLATTENED, &jws);
    if (rc != MEDSEAL_OK) {
        print_error("signing", rc);
        goto done;
    }
    print_bytes("jws", medseal_buffer_data(jws), medseal_buffer_len(jws));

    /* 5. Verify, as the receiving system would, with the public key only. */
    rc = medseal_verifier_builder_new(&verifier_builder);
    if (rc != MEDSEAL_OK) {
        print_error("starting the verifier", rc);
        goto done;
    }
    rc = medseal_verifier_builder_add_key(verifier_builder, public_key);
    if (rc != MEDSEAL_OK) {
        print_error("trusting the key", rc);
        goto done;
    }
    rc = medseal_verifier_builder_build(verifier_builder, &verifier);
    if (rc != MEDSEAL_OK) {
        print_error("building the verifier", rc);
        goto done;
    }
    rc = medseal_verifier_verify(verifier, medseal_buffer_data(jws), medseal_buffer_len(jws), &verified);
    if (rc != MEDSEAL_OK) {
        print_error("verifying", rc);
        goto done;
    }
    rc = medseal_verified_algorithm(verified, &alg);
    if (rc != MEDSEAL_OK) {
        print_error("reading the algorithm", rc);
        goto done;
    }
    printf("verified: yes\n");
    printf("algorithm: %s\n", alg_name(alg));
    rc = medseal_verified_key_id(verified, &data, &len);
    if (rc != MEDSEAL_OK) {
        print_error("reading the key id", rc);
        goto done;
    }
    print_bytes("signed by", data, len);
    rc = medseal_verified_signing_time(verified, &data, &len);
    if (rc != MEDSEAL_OK) {
        print_error("reading the signing time", rc);
        goto done;
    }
    print_bytes("signed at", data, len);
    rc = medseal_verified_payload(verified, &data, &len);
    if (rc != MEDSEAL_OK) {
        print_error("reading the payload", rc);
        goto done;
    }
    print_bytes("payload", data, len);
    status = EXIT_SUCCESS;

done:
    medseal_verified_free(verified);
    medseal_verifier_free(verifier);
    medseal_verifier_builder_free(verifier_builder);
    medseal_buffer_free(jws);
    medseal_signer_free(signer);
    medseal_signer_builder_free(signer_builder);
    medseal_key_free(public_key);
    free(record);
    OPENSSL_free(spki);
    EVP_PKEY_free(store.key); /* last: the signer (now freed) used it */
    return status;
}
