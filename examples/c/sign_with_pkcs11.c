/*
 * sign_with_pkcs11.c -- sign a FHIR resource with a key on a PKCS#11 token (USB token, smart
 * card, HSM) and check the signature as a receiver would.
 *
 *   MEDSEAL_PKCS11_PIN=... sign_with_pkcs11 MODULE TOKEN_LABEL KEY_LABEL TRUSTED [CHAIN.pem]
 *
 * MODULE       the token's PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so)
 * TOKEN_LABEL  the token's label
 * KEY_LABEL    the private key's label (CKA_LABEL) on the token: P-256 (ES256) or RSA (RS256)
 * TRUSTED      what the receiving side trusts, to verify with: the key's public key (PEM, DER
 *              or JWK), or CA certificates (PEM) when the signature carries a chain
 * CHAIN.pem    optional: the signer's certificate chain, its own certificate first; the JWS
 *              then carries it (x5c, x5t#S256) and its kid is the certificate's x5t#S256
 *
 * The user PIN comes from the environment (MEDSEAL_PKCS11_PIN), never from the command line,
 * where other users could read it; this program never prints it, and medseal keeps it out of
 * its messages. Signs the sample Patient below, prints the JWS, verifies it and prints what
 * was verified.
 *
 * Try it with SoftHSM2 (apt-get install softhsm2):
 *
 *   softhsm2-util --init-token --free --label demo --pin 1234 --so-pin 5678
 *   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem
 *   openssl pkey -in key.pem -pubout -out pub.pem
 *   softhsm2-util --import key.pem --token demo --label signer --id 01 --pin 1234
 *   MEDSEAL_PKCS11_PIN=1234 ./sign_with_pkcs11 /usr/lib/softhsm/libsofthsm2.so demo signer pub.pem
 *
 * Build (from the medseal repository, after `cargo build --lib`):
 *
 *   cc -std=c11 -Iinclude examples/c/sign_with_pkcs11.c -Ltarget/debug -lmedseal \
 *      -Wl,-rpath,"$PWD/target/debug" -o sign_with_pkcs11
 *
 * Conventions of the medseal C API used throughout:
 *   - functions return a medseal_result: MEDSEAL_OK (0) or an error code;
 *   - on error, medseal_last_error_message() explains it. Read it straight away, before any
 *     other medseal call (even medseal_result_name or a _free), which may reset it;
 *   - outputs are written only on success, so "initialize to NULL, free at the end" is safe;
 *   - every handle has exactly one _free function, and _free(NULL) does nothing;
 *   - the token session stays open (logged in) until the signer and its builder are freed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The environment variable holding the user PIN. */
static const char PIN_VARIABLE[] = "MEDSEAL_PKCS11_PIN";

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

/* Whether bytes [data, data + len) contain the C string `needle`. */
static int contains(const uint8_t *data, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(data + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
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

    uint8_t *chain = NULL, *trusted = NULL;
    size_t chain_len = 0, trusted_len = 0;
    medseal_signer_builder *signer_builder = NULL;
    medseal_signer *signer = NULL;
    medseal_buffer *jws = NULL;
    medseal_key *trusted_key = NULL;
    medseal_verifier_builder *verifier_builder = NULL;
    medseal_verifier *verifier = NULL;
    medseal_verified *verified = NULL;
    const uint8_t *data = NULL; /* borrowed from `verified` */
    size_t len = 0;
    uint32_t alg = 0, trusted_by = 0;

    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: %s=... %s MODULE TOKEN_LABEL KEY_LABEL TRUSTED [CHAIN.pem]\n", PIN_VARIABLE, argv[0]);
        return EXIT_FAILURE;
    }
    const char *module = argv[1], *token = argv[2], *key_label = argv[3];
    const char *pin = getenv(PIN_VARIABLE);
    if (pin == NULL) {
        fprintf(stderr, "%s is not set: put the token's user PIN in it\n", PIN_VARIABLE);
        return EXIT_FAILURE;
    }
    if (medseal_abi_version() != MEDSEAL_ABI_VERSION) {
        fprintf(stderr, "medseal ABI %u loaded, but this program was built for ABI %u\n",
                (unsigned)medseal_abi_version(), (unsigned)MEDSEAL_ABI_VERSION);
        return EXIT_FAILURE;
    }

    /* 1. Open the key on the token: loads the module, finds the token by label, logs in and
     *    finds the key. MEDSEAL_ALG_FROM_KEY: ES256 for P-256, RS256 for RSA (MEDSEAL_ALG_PS256
     *    asks for RSA-PSS). Errors: MEDSEAL_PKCS11_MODULE, _TOKEN_NOT_FOUND, _KEY_NOT_FOUND,
     *    _PIN, _DEVICE; the message names what was looked for, never the PIN. */
    rc = medseal_signer_builder_from_pkcs11((const uint8_t *)module, strlen(module), (const uint8_t *)token,
                                            strlen(token), (const uint8_t *)key_label, strlen(key_label),
                                            (const uint8_t *)pin, strlen(pin), MEDSEAL_ALG_FROM_KEY, &signer_builder);
    if (rc != MEDSEAL_OK) {
        print_error("opening the key on the token", rc);
        goto done;
    }

    /* 2. The certificate chain, if given: its first certificate must hold the token key
     *    (MEDSEAL_SIGNER_CERT_MISMATCH) and allow signing (MEDSEAL_CERT_KEY_USAGE). */
    if (argc > 5) {
        chain = read_file(argv[5], &chain_len);
        if (chain == NULL) {
            goto done;
        }
        rc = medseal_signer_builder_set_certificate_chain(signer_builder, chain, chain_len);
        if (rc != MEDSEAL_OK) {
            print_error("adding the certificate chain", rc);
            goto done;
        }
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
    /* The signer keeps the session: the builder can go now. */
    medseal_signer_builder_free(signer_builder);
    signer_builder = NULL;

    /* 3. Sign: the token signs, medseal checks its signature before emitting the JWS. */
    rc = medseal_signer_sign(signer, (const uint8_t *)SAMPLE_PATIENT, strlen(SAMPLE_PATIENT), MEDSEAL_JWS_FLATTENED,
                             &jws);
    if (rc != MEDSEAL_OK) {
        print_error("signing", rc);
        goto done;
    }
    print_bytes("jws", medseal_buffer_data(jws), medseal_buffer_len(jws));

    /* 4. Verify, as the receiver would: with CA certificates (the x5c chain must lead to one
     *    of them, valid at sigT) or with the public key it has on file. */
    trusted = read_file(argv[4], &trusted_len);
    if (trusted == NULL) {
        goto done;
    }
    rc = medseal_verifier_builder_new(&verifier_builder);
    if (rc != MEDSEAL_OK) {
        print_error("starting the verifier", rc);
        goto done;
    }
    if (contains(trusted, trusted_len, "-----BEGIN CERTIFICATE-----")) {
        rc = medseal_verifier_builder_add_trust_anchors(verifier_builder, trusted, trusted_len);
        if (rc != MEDSEAL_OK) {
            print_error("trusting the CA certificates", rc);
            goto done;
        }
    } else {
        rc = medseal_key_import(trusted, trusted_len, MEDSEAL_ALG_FROM_KEY, &trusted_key);
        if (rc != MEDSEAL_OK) {
            print_error("importing the trusted public key", rc);
            goto done;
        }
        rc = medseal_verifier_builder_add_key(verifier_builder, trusted_key);
        if (rc != MEDSEAL_OK) {
            print_error("trusting the key", rc);
            goto done;
        }
    }
    rc = medseal_verifier_builder_build(verifier_builder, &verifier);
    if (rc != MEDSEAL_OK) {
        print_error("building the verifier", rc);
        goto done;
    }
    rc = medseal_verifier_verify(verifier, medseal_buffer_data(jws), medseal_buffer_len(jws), &verified);
    if (rc != MEDSEAL_OK) {
        print_error("verifying", rc); /* e.g. MEDSEAL_CERT_UNKNOWN_ISSUER for another CA */
        goto done;
    }

    /* 5. What was verified. The pointers are borrowed from `verified`: valid until it is freed. */
    rc = medseal_verified_algorithm(verified, &alg);
    if (rc == MEDSEAL_OK) {
        rc = medseal_verified_trusted_by(verified, &trusted_by);
    }
    if (rc != MEDSEAL_OK) {
        print_error("reading the verification result", rc);
        goto done;
    }
    printf("verified: yes\n");
    printf("algorithm: %s\n", alg_name(alg));
    printf("trusted by: %s\n", trusted_by == MEDSEAL_TRUSTED_BY_CERTIFICATE ? "certificate"
                               : trusted_by == MEDSEAL_TRUSTED_BY_TRUST_LIST ? "trust list"
                                                                             : "key");
    if (trusted_by != MEDSEAL_TRUSTED_BY_KEY) {
        rc = medseal_verified_signer(verified, &data, &len);
        if (rc != MEDSEAL_OK) {
            print_error("reading the signer", rc);
            goto done;
        }
        print_bytes("signer", data, len); /* the certificate's subject */
    }
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
    status = EXIT_SUCCESS;

done:
    /* Freeing the signer (and builder) closes the token session and logs out. */
    medseal_verified_free(verified);
    medseal_verifier_free(verifier);
    medseal_verifier_builder_free(verifier_builder);
    medseal_key_free(trusted_key);
    medseal_buffer_free(jws);
    medseal_signer_free(signer);
    medseal_signer_builder_free(signer_builder);
    free(trusted);
    free(chain);
    return status;
}
