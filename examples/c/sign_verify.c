/*
 * sign_verify.c -- seal a FHIR resource with medseal and check the seal.
 *
 *   sign_verify [RESOURCE.json [PRIVATE_KEY.pem]]
 *
 * Reads a FHIR resource (JSON) from RESOURCE.json, or uses the sample Patient below;
 * canonicalizes it (RFC 8785); signs it as a JWS with a JAdES header, using the PKCS#8 PEM key
 * in PRIVATE_KEY.pem or a fresh Ed25519 key; prints the JWS; verifies it and prints what was
 * verified.
 *
 * Build (from the medseal repository, after `cargo build --lib`):
 *
 *   cc -std=c11 -Iinclude examples/c/sign_verify.c -Ltarget/debug -lmedseal \
 *      -Wl,-rpath,"$PWD/target/debug" -o sign_verify
 *
 * Conventions of the medseal C API used throughout:
 *   - functions return a medseal_result: MEDSEAL_OK (0) or an error code;
 *   - on error, medseal_last_error_message() explains it. Read it straight away, before any
 *     other medseal call (even medseal_result_name or a _free), which may reset it;
 *   - outputs are written only on success, so "initialize to NULL, free at the end" is safe;
 *   - every handle has exactly one _free function, and _free(NULL) does nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medseal.h"

/* The sample record: a Patient named "Nguyễn Văn An". The name is written with escapes so that
 * it is certainly in Unicode NFC (precomposed: ễ = U+1EC5, ă = U+0103), which medseal requires by
 * default: the same name typed in decomposed form (NFD) would otherwise give a different
 * signature. Pass MEDSEAL_CANON_NORMALIZE_NFC to accept NFD input and normalize it. */
static const char SAMPLE_PATIENT[] =
    "{\n"
    "  \"resourceType\": \"Patient\",\n"
    "  \"id\": \"vn-hcm-000123\",\n"
    "  \"identifier\": [{\"system\": \"urn:oid:1.2.704.99.1\", \"value\": \"079085001234\"}],\n"
    "  \"name\": [{\"use\": \"official\", \"text\": \"Nguy\xE1\xBB\x85n V\xC4\x83n An\",\n"
    "            \"family\": \"Nguy\xE1\xBB\x85n\", \"given\": [\"V\xC4\x83n\", \"An\"]}],\n"
    "  \"gender\": \"male\",\n"
    "  \"birthDate\": \"1985-04-12\"\n"
    "}\n";

/* Canonicalization flags, used both to sign and to verify detached documents. 0 is the strict
 * medseal default: no lossy numbers ("1.50"), Unicode NFC required. Add one FHIR variant if your
 * profile asks for it, e.g. MEDSEAL_CANON_FHIR_DATA (drops the narrative `text`). */
static const uint32_t CANON_FLAGS = 0;

/* ASTM E1762 purpose of signature: "author's signature". Recorded in the JAdES header. */
static const char COMMITMENT_OID[] = "1.2.840.10065.1.12.1.1";

/* Prints "medseal: <what> failed: <NAME> (<code>): <message>". Call it right after the failing
 * call: the message is read first, because other medseal calls may reset it. */
static void print_error(const char *what, medseal_result rc) {
    char small[256];
    char *message = small;
    size_t len = 0;
    medseal_result mrc = medseal_last_error_message((uint8_t *)small, sizeof small, &len);
    if (mrc == MEDSEAL_BUFFER_TOO_SMALL) {
        /* `len` now holds the length the message needs (without its NUL). */
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

/* Prints `label: <bytes>` for a (pointer, length) pair that is not NUL-terminated. */
static void print_bytes(const char *label, const uint8_t *data, size_t len) {
    printf("%s: %.*s\n", label, (int)len, (const char *)data);
}

int main(int argc, char **argv) {
    int status = EXIT_FAILURE;
    medseal_result rc;

    /* Every handle starts NULL and is freed once at the end: _free(NULL) is a no-op. */
    uint8_t *record = NULL, *pem = NULL;
    medseal_buffer *canonical = NULL, *kid = NULL, *jws = NULL;
    medseal_key *key = NULL;
    medseal_signer_builder *signer_builder = NULL;
    medseal_signer *signer = NULL;
    medseal_verifier_builder *verifier_builder = NULL;
    medseal_verifier *verifier = NULL;
    medseal_verified *verified = NULL;
    const uint8_t *doc = (const uint8_t *)SAMPLE_PATIENT;
    size_t doc_len = strlen(SAMPLE_PATIENT);
    const uint8_t *data = NULL; /* borrowed from `verified` */
    size_t len = 0;
    uint32_t alg = 0;

    if (argc > 3) {
        fprintf(stderr, "usage: %s [RESOURCE.json [PRIVATE_KEY.pem]]\n", argv[0]);
        return EXIT_FAILURE;
    }

    /* 0. Bindings should check that the library they load speaks the ABI they were built for. */
    if (medseal_abi_version() != MEDSEAL_ABI_VERSION) {
        fprintf(stderr, "medseal ABI %u loaded, but this program was built for ABI %u\n",
                (unsigned)medseal_abi_version(), (unsigned)MEDSEAL_ABI_VERSION);
        return EXIT_FAILURE;
    }
    printf("medseal %s (ABI %u)\n", medseal_library_version(), (unsigned)medseal_abi_version());

    /* 1. The record: the file given, or the sample. */
    if (argc > 1) {
        record = read_file(argv[1], &doc_len);
        if (record == NULL) {
            goto done;
        }
        doc = record;
    }

    /* 2. Canonicalize it. Signing does this itself; we do it here to show the exact bytes that
     *    get signed, and to report JSON problems (with line and column) before anything else. */
    rc = medseal_json_canonicalize(doc, doc_len, CANON_FLAGS, &canonical);
    if (rc != MEDSEAL_OK) {
        print_error("canonicalizing the record", rc);
        goto done;
    }
    print_bytes("canonical", medseal_buffer_data(canonical), medseal_buffer_len(canonical));

    /* 3. The key: a PKCS#8 PEM file ("-----BEGIN PRIVATE KEY-----", Ed25519, P-256 or RSA), or
     *    a new Ed25519 key. In production the key comes from your key store, never generated per
     *    run: verifiers must already trust its public half. */
    if (argc > 2) {
        size_t pem_len = 0;
        pem = read_file(argv[2], &pem_len);
        if (pem == NULL) {
            goto done;
        }
        rc = medseal_key_import(pem, pem_len, MEDSEAL_ALG_FROM_KEY, &key);
        if (rc != MEDSEAL_OK) {
            print_error("importing the key", rc);
            goto done;
        }
    } else {
        rc = medseal_key_generate(MEDSEAL_ALG_EDDSA, &key);
        if (rc != MEDSEAL_OK) {
            print_error("generating a key", rc);
            goto done;
        }
    }
    rc = medseal_key_kid(key, &kid);
    if (rc != MEDSEAL_OK) {
        print_error("reading the key id", rc);
        goto done;
    }
    print_bytes("key id", medseal_buffer_data(kid), medseal_buffer_len(kid));

    /* 4. A signer: build it once, then share it between threads for as many records as needed. */
    rc = medseal_signer_builder_new(key, &signer_builder);
    if (rc != MEDSEAL_OK) {
        print_error("starting the signer", rc); /* e.g. MEDSEAL_KEY_NOT_PRIVATE for a public key */
        goto done;
    }
    rc = medseal_signer_builder_set_commitment(signer_builder, (const uint8_t *)COMMITMENT_OID, strlen(COMMITMENT_OID));
    if (rc != MEDSEAL_OK) {
        print_error("setting the commitment type", rc);
        goto done;
    }
    rc = medseal_signer_builder_set_canon_flags(signer_builder, CANON_FLAGS);
    if (rc != MEDSEAL_OK) {
        print_error("setting the canonicalization flags", rc);
        goto done;
    }
    rc = medseal_signer_builder_build(signer_builder, &signer);
    if (rc != MEDSEAL_OK) {
        print_error("building the signer", rc);
        goto done;
    }

    /* 5. Sign: JWS JSON flattened serialization, payload included. */
    rc = medseal_signer_sign(signer, doc, doc_len, MEDSEAL_JWS_FLATTENED, &jws);
    if (rc != MEDSEAL_OK) {
        print_error("signing", rc);
        goto done;
    }
    print_bytes("jws", medseal_buffer_data(jws), medseal_buffer_len(jws));

    /* 6. Verify, as the receiving system would: a verifier trusting the public half of the key.
     *    (A receiver imports the key from its SPKI PEM or JWK instead of holding the private key.) */
    rc = medseal_verifier_builder_new(&verifier_builder);
    if (rc != MEDSEAL_OK) {
        print_error("starting the verifier", rc);
        goto done;
    }
    rc = medseal_verifier_builder_add_key(verifier_builder, key);
    if (rc != MEDSEAL_OK) {
        print_error("trusting the key", rc);
        goto done;
    }
    rc = medseal_verifier_builder_set_canon_flags(verifier_builder, CANON_FLAGS);
    if (rc != MEDSEAL_OK) {
        print_error("setting the verifier's canonicalization flags", rc);
        goto done;
    }
    rc = medseal_verifier_builder_build(verifier_builder, &verifier);
    if (rc != MEDSEAL_OK) {
        print_error("building the verifier", rc);
        goto done;
    }
    rc = medseal_verifier_verify(verifier, medseal_buffer_data(jws), medseal_buffer_len(jws), &verified);
    if (rc != MEDSEAL_OK) {
        print_error("verifying", rc); /* e.g. MEDSEAL_JWS_SIGNATURE_INVALID for a changed record */
        goto done;
    }

    /* 7. What was verified. The pointers are borrowed from `verified`: valid until it is freed. */
    rc = medseal_verified_algorithm(verified, &alg);
    if (rc != MEDSEAL_OK) {
        print_error("reading the algorithm", rc);
        goto done;
    }
    printf("verified: yes\n");
    printf("algorithm: %s\n", alg == MEDSEAL_ALG_EDDSA   ? "EdDSA"
                              : alg == MEDSEAL_ALG_ES256 ? "ES256"
                              : alg == MEDSEAL_ALG_RS256 ? "RS256"
                              : alg == MEDSEAL_ALG_PS256 ? "PS256"
                                                         : "?");
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
    rc = medseal_verified_header(verified, &data, &len);
    if (rc != MEDSEAL_OK) {
        print_error("reading the header", rc);
        goto done;
    }
    print_bytes("header", data, len);
    rc = medseal_verified_payload(verified, &data, &len);
    if (rc != MEDSEAL_OK) {
        print_error("reading the payload", rc);
        goto done;
    }
    /* The verified payload is exactly the canonical record. */
    if (len != medseal_buffer_len(canonical) || memcmp(data, medseal_buffer_data(canonical), len) != 0) {
        fprintf(stderr, "the verified payload differs from the canonical record\n");
        goto done;
    }
    print_bytes("payload", data, len);
    status = EXIT_SUCCESS;

done:
    /* Free everything, in any order (keys are shared with what was built from them). */
    medseal_verified_free(verified);
    medseal_verifier_free(verifier);
    medseal_verifier_builder_free(verifier_builder);
    medseal_signer_free(signer);
    medseal_signer_builder_free(signer_builder);
    medseal_buffer_free(jws);
    medseal_buffer_free(kid);
    medseal_key_free(key);
    medseal_buffer_free(canonical);
    free(pem);
    free(record);
    return status;
}
