/*
 * interop.c -- the medseal interop driver for C: one command line, every language.
 *
 *   interop version
 *   interop canon [--plain | --nfc] IN OUT
 *   interop key-generate EdDSA|ES256|X25519 PRIVATE_OUT PUBLIC_OUT
 *   interop sign KEY IN OUT [--compact | --detached] [--sigt RFC3339]
 *   interop verify PUBLIC IN [--payload FILE]
 *   interop seal --to PUBLIC [--to PUBLIC ...] --source ID --sequence N [--record-id ID] IN OUT
 *   interop open KEY IN OUT [--verify PUBLIC]
 *
 * The same commands exist for every binding (examples/<lang>/interop; ../shared/INTEROP.md is
 * the specification), so that what one language signs or seals, any other verifies or opens.
 * Errors: a medseal error exits 1 with "MEDSEAL_<NAME>: message" on stderr; a usage error
 * exits 2; a file that cannot be read or written exits 1 with the system's reason.
 *
 * Build: `make bindings` (into build/interop/interop-c), or by hand from the repository root:
 *
 *   cargo build --release --lib
 *   cc -std=c11 -Iinclude examples/c/interop.c -Ltarget/release -lmedseal \
 *      -Wl,-rpath,"$PWD/target/release" -o interop
 *
 * Conventions of the medseal C API (see sign_verify.c): MEDSEAL_OK or an error code; the
 * detail from medseal_last_error_message(), read straight away; outputs written only on
 * success; every handle starts NULL and is freed once at the end (_free(NULL) is a no-op).
 */
#define _POSIX_C_SOURCE 200809L /* open(2) with a file mode, for private keys */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "medseal.h"

#define EXIT_MEDSEAL 1 /* a medseal error, or a file that cannot be read or written */
#define EXIT_USAGE 2

static const char USAGE[] =
    "usage: interop version\n"
    "       interop canon [--plain | --nfc] IN OUT\n"
    "       interop key-generate EdDSA|ES256|X25519 PRIVATE_OUT PUBLIC_OUT\n"
    "       interop sign KEY IN OUT [--compact | --detached] [--sigt RFC3339]\n"
    "       interop verify PUBLIC IN [--payload FILE]\n"
    "       interop seal --to PUBLIC [--to PUBLIC ...] --source ID --sequence N [--record-id ID] IN OUT\n"
    "       interop open KEY IN OUT [--verify PUBLIC]\n";

/* ---- errors ---------------------------------------------------------------------------------- */

/* A usage error: what is wrong, the usage, exit 2. */
static int usage(const char *what) {
    fprintf(stderr, "interop: %s\n%s", what, USAGE);
    return EXIT_USAGE;
}

/* A medseal error: "MEDSEAL_<NAME>: <message>" on stderr, exit 1. The message is read first,
 * before any other medseal call. */
static int medseal_failure(medseal_result rc) {
    size_t len = 0;
    char *message = NULL;
    if (medseal_last_error_message(NULL, 0, &len) == MEDSEAL_BUFFER_TOO_SMALL && (message = malloc(len + 1)) != NULL &&
        medseal_last_error_message((uint8_t *)message, len + 1, &len) != MEDSEAL_OK) {
        free(message);
        message = NULL;
    }
    fprintf(stderr, "%s: %s\n", medseal_result_name(rc), message != NULL ? message : "(no message)");
    free(message);
    return EXIT_MEDSEAL;
}

/* Runs a medseal call; on error reports it and jumps to the command's cleanup. */
#define TRY(call)                                \
    do {                                         \
        medseal_result rc_ = (call);             \
        if (rc_ != MEDSEAL_OK) {                 \
            status = medseal_failure(rc_);       \
            goto done;                           \
        }                                        \
    } while (0)

/* ---- files ----------------------------------------------------------------------------------- */

/* Reads a whole file. Returns NULL (with the system's reason on stderr) if it cannot. */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "interop: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *data = malloc(cap);
    while (data != NULL) {
        n += fread(data + n, 1, cap - n, f);
        if (n < cap) {
            break;
        }
        uint8_t *bigger = realloc(data, cap *= 2);
        if (bigger == NULL) {
            free(data);
        }
        data = bigger;
    }
    if (data == NULL || ferror(f)) {
        fprintf(stderr, "interop: %s: cannot read the file\n", path);
        free(data);
        data = NULL;
    }
    fclose(f);
    *len = n;
    return data;
}

/* Writes `len` bytes to `path` (created with `mode`, e.g. 0600 for a private key). 0 on success. */
static int write_file(const char *path, const uint8_t *data, size_t len, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
    if (f == NULL) {
        fprintf(stderr, "interop: %s: %s\n", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    int ok = fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "interop: %s: cannot write the file\n", path);
        return -1;
    }
    return 0;
}

static int write_buffer(const char *path, const medseal_buffer *buf, mode_t mode) {
    return write_file(path, medseal_buffer_data(buf), medseal_buffer_len(buf), mode);
}

/* ---- small parsers --------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The number written by the `n` decimal digits at `p` (already checked to be digits). */
static int digits(const char *p, int n) {
    int v = 0;
    while (n-- > 0) {
        v = v * 10 + (*p++ - '0');
    }
    return v;
}

/* RFC 3339 date-time with whole seconds ("2025-03-01T08:30:00Z" or "...+07:00") to Unix
 * seconds. Returns 0 on success. */
static int parse_rfc3339(const char *text, int64_t *unix_seconds) {
    static const char pattern[] = "dddd-dd-ddTdd:dd:dd";
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t len = strlen(text);
    if (len != 20 && len != 25) { /* ...Z or ...+hh:mm */
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = text[i], want = i < 19 ? pattern[i] : len == 20 ? 'Z' : "+dd:dd"[i - 19];
        if (want == 'd' ? c < '0' || c > '9' : want == '+' ? c != '+' && c != '-' : c != want) {
            return -1;
        }
    }
    int y = digits(text, 4), mo = digits(text + 5, 2), d = digits(text + 8, 2);
    int h = digits(text + 11, 2), mi = digits(text + 14, 2), s = digits(text + 17, 2);
    int oh = len == 25 ? digits(text + 20, 2) : 0, om = len == 25 ? digits(text + 23, 2) : 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 ||
        s > 59 || oh > 23 || om > 59) {
        return -1;
    }
    int64_t offset = (text[19] == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
    *unix_seconds = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s - offset;
    return 0;
}

/* A decimal sequence number (digits only). Returns 0 on success. */
static int parse_u64(const char *text, uint64_t *value) {
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9') {
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') {
        return -1;
    }
    *value = v;
    return 0;
}

static const char *alg_name(uint32_t alg) {
    switch (alg) {
    case MEDSEAL_ALG_EDDSA: return "EdDSA";
    case MEDSEAL_ALG_ES256: return "ES256";
    case MEDSEAL_ALG_RS256: return "RS256";
    case MEDSEAL_ALG_PS256: return "PS256";
    default: return "?";
    }
}

/* A random record id (UUID version 4), as `medseal seal` makes when none is given. */
static int random_record_id(char out[37]) {
    uint8_t b[16];
    FILE *f = fopen("/dev/urandom", "rb");
    int ok = f != NULL && fread(b, 1, sizeof b, f) == sizeof b;
    if (f != NULL) {
        fclose(f);
    }
    if (!ok) {
        fprintf(stderr, "interop: cannot read /dev/urandom for a record id; give --record-id\n");
        return -1;
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

/* Prints the line every driver prints for a verified record. */
static medseal_result print_valid(const medseal_verified *verified) {
    const uint8_t *kid = NULL, *sigt = NULL;
    size_t kid_len = 0, sigt_len = 0;
    uint32_t alg = 0;
    medseal_result rc;
    if ((rc = medseal_verified_key_id(verified, &kid, &kid_len)) != MEDSEAL_OK ||
        (rc = medseal_verified_algorithm(verified, &alg)) != MEDSEAL_OK ||
        (rc = medseal_verified_signing_time(verified, &sigt, &sigt_len)) != MEDSEAL_OK) {
        return rc;
    }
    printf("valid kid=%.*s alg=%s sigT=%.*s\n", (int)kid_len, (const char *)kid, alg_name(alg), (int)sigt_len,
           (const char *)sigt);
    return MEDSEAL_OK;
}

/* A verifier trusting one public key, given as the bytes of an SPKI PEM/DER or JWK file. */
static medseal_result verifier_for(const uint8_t *pem, size_t pem_len, medseal_verifier **out) {
    medseal_key *key = NULL;
    medseal_verifier_builder *builder = NULL;
    medseal_result rc = medseal_key_import(pem, pem_len, MEDSEAL_ALG_FROM_KEY, &key);
    if (rc == MEDSEAL_OK) {
        rc = medseal_verifier_builder_new(&builder);
    }
    if (rc == MEDSEAL_OK) {
        rc = medseal_verifier_builder_add_key(builder, key);
    }
    if (rc == MEDSEAL_OK) {
        rc = medseal_verifier_builder_build(builder, out);
    }
    /* On failure the last error is the failing call's: _free calls do not reset it. */
    medseal_verifier_builder_free(builder);
    medseal_key_free(key);
    return rc;
}

/* ---- commands -------------------------------------------------------------------------------- */

static int cmd_version(int argc, char **argv) {
    (void)argv;
    if (argc != 0) {
        return usage("version takes no arguments");
    }
#if defined(__clang__)
    static const char runtime[] = "clang " __clang_version__;
#elif defined(__GNUC__)
    static const char runtime[] = "gcc " __VERSION__;
#else
    static const char runtime[] = "C";
#endif
    printf("medseal %s abi %u c %s\n", medseal_library_version(), (unsigned)medseal_abi_version(), runtime);
    return EXIT_SUCCESS;
}

static int cmd_canon(int argc, char **argv) {
    uint32_t flags = 0; /* the strict medseal default: NFC required, no lossy numbers */
    const char *pos[2];
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--plain") == 0 && flags == 0) {
            flags = MEDSEAL_CANON_PLAIN; /* exactly RFC 8785 */
        } else if (strcmp(argv[i], "--nfc") == 0 && flags == 0) {
            flags = MEDSEAL_CANON_NORMALIZE_NFC;
        } else if (argv[i][0] == '-' || npos == 2) {
            return usage("canon: unexpected argument (give at most one of --plain and --nfc, then IN OUT)");
        } else {
            pos[npos++] = argv[i];
        }
    }
    if (npos != 2) {
        return usage("canon needs IN and OUT");
    }
    int status = EXIT_MEDSEAL;
    size_t len = 0;
    uint8_t *json = read_file(pos[0], &len);
    medseal_buffer *canonical = NULL;
    if (json == NULL) {
        goto done;
    }
    TRY(medseal_json_canonicalize(json, len, flags, &canonical));
    status = write_buffer(pos[1], canonical, 0644) == 0 ? EXIT_SUCCESS : EXIT_MEDSEAL;
done:
    medseal_buffer_free(canonical);
    free(json);
    return status;
}

static int cmd_key_generate(int argc, char **argv) {
    if (argc != 3) {
        return usage("key-generate needs ALG PRIVATE_OUT PUBLIC_OUT");
    }
    int status = EXIT_MEDSEAL;
    medseal_key *key = NULL;
    medseal_recipient_key *recipient = NULL;
    medseal_buffer *private_pem = NULL, *public_pem = NULL;
    if (strcmp(argv[0], "X25519") == 0) { /* a recipient key, to receive sealed envelopes */
        TRY(medseal_recipient_key_generate(&recipient));
        TRY(medseal_recipient_key_export(recipient, MEDSEAL_KEY_FORMAT_PKCS8_PEM, &private_pem));
        TRY(medseal_recipient_key_export(recipient, MEDSEAL_KEY_FORMAT_SPKI_PEM, &public_pem));
    } else if (strcmp(argv[0], "EdDSA") == 0 || strcmp(argv[0], "ES256") == 0) { /* a signing key */
        TRY(medseal_key_generate(strcmp(argv[0], "EdDSA") == 0 ? MEDSEAL_ALG_EDDSA : MEDSEAL_ALG_ES256, &key));
        TRY(medseal_key_export(key, MEDSEAL_KEY_FORMAT_PKCS8_PEM, &private_pem));
        TRY(medseal_key_export(key, MEDSEAL_KEY_FORMAT_SPKI_PEM, &public_pem));
    } else {
        return usage("key-generate: ALG is EdDSA, ES256 or X25519");
    }
    if (write_buffer(argv[1], private_pem, 0600) == 0 && write_buffer(argv[2], public_pem, 0644) == 0) {
        status = EXIT_SUCCESS;
    }
done:
    medseal_buffer_free(public_pem);
    medseal_buffer_free(private_pem); /* zeroized when freed */
    medseal_recipient_key_free(recipient);
    medseal_key_free(key);
    return status;
}

static int cmd_sign(int argc, char **argv) {
    uint32_t format = MEDSEAL_JWS_FLATTENED;
    const char *sigt = NULL, *pos[3];
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--compact") == 0 && format == MEDSEAL_JWS_FLATTENED) {
            format = MEDSEAL_JWS_COMPACT;
        } else if (strcmp(argv[i], "--detached") == 0 && format == MEDSEAL_JWS_FLATTENED) {
            format = MEDSEAL_JWS_DETACHED_COMPACT; /* header..signature, as FHIR Signature.data */
        } else if (strcmp(argv[i], "--sigt") == 0 && i + 1 < argc && sigt == NULL) {
            sigt = argv[++i];
        } else if (argv[i][0] == '-' || npos == 3) {
            return usage("sign: unexpected argument");
        } else {
            pos[npos++] = argv[i];
        }
    }
    int64_t signing_time = 0;
    if (npos != 3) {
        return usage("sign needs KEY IN OUT");
    }
    if (sigt != NULL && parse_rfc3339(sigt, &signing_time) != 0) {
        return usage("sign: --sigt takes an RFC 3339 date-time such as 2025-03-01T08:30:00Z");
    }
    int status = EXIT_MEDSEAL;
    size_t pem_len = 0, record_len = 0;
    uint8_t *pem = NULL, *record = NULL;
    medseal_key *key = NULL;
    medseal_signer_builder *builder = NULL;
    medseal_signer *signer = NULL;
    medseal_buffer *jws = NULL;
    if ((pem = read_file(pos[0], &pem_len)) == NULL || (record = read_file(pos[1], &record_len)) == NULL) {
        goto done;
    }
    /* PKCS#8 PEM: Ed25519 (EdDSA), P-256 (ES256) or RSA (RS256). */
    TRY(medseal_key_import(pem, pem_len, MEDSEAL_ALG_FROM_KEY, &key));
    TRY(medseal_signer_builder_new(key, &builder));
    if (sigt != NULL) {
        TRY(medseal_signer_builder_set_signing_time(builder, signing_time)); /* default: now */
    }
    TRY(medseal_signer_builder_build(builder, &signer));
    /* Canonicalizes the record (strict policy) and signs the canonical bytes. */
    TRY(medseal_signer_sign(signer, record, record_len, format, &jws));
    status = write_buffer(pos[2], jws, 0644) == 0 ? EXIT_SUCCESS : EXIT_MEDSEAL;
done:
    medseal_buffer_free(jws);
    medseal_signer_free(signer);
    medseal_signer_builder_free(builder);
    medseal_key_free(key);
    free(record);
    free(pem);
    return status;
}

static int cmd_verify(int argc, char **argv) {
    const char *payload_path = NULL, *pos[2];
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--payload") == 0 && i + 1 < argc && payload_path == NULL) {
            payload_path = argv[++i];
        } else if (argv[i][0] == '-' || npos == 2) {
            return usage("verify: unexpected argument");
        } else {
            pos[npos++] = argv[i];
        }
    }
    if (npos != 2) {
        return usage("verify needs PUBLIC IN");
    }
    int status = EXIT_MEDSEAL;
    size_t pem_len = 0, jws_len = 0, payload_len = 0;
    uint8_t *pem = NULL, *jws = NULL, *payload = NULL;
    medseal_verifier *verifier = NULL;
    medseal_verified *verified = NULL;
    if ((pem = read_file(pos[0], &pem_len)) == NULL || (jws = read_file(pos[1], &jws_len)) == NULL ||
        (payload_path != NULL && (payload = read_file(payload_path, &payload_len)) == NULL)) {
        goto done;
    }
    TRY(verifier_for(pem, pem_len, &verifier));
    if (payload_path == NULL) {
        /* A medseal record: typ medseal+jws, a sigT and a canonical payload, not just any JWS. */
        TRY(medseal_verifier_verify_record(verifier, jws, jws_len, &verified));
    } else {
        /* A detached JWS: the payload file is the JSON record, canonicalized as when signing. */
        TRY(medseal_verifier_verify_detached(verifier, jws, jws_len, payload, payload_len, MEDSEAL_PAYLOAD_DOCUMENT,
                                             &verified));
    }
    TRY(print_valid(verified));
    status = EXIT_SUCCESS;
done:
    medseal_verified_free(verified);
    medseal_verifier_free(verifier);
    free(payload);
    free(jws);
    free(pem);
    return status;
}

static int cmd_seal(int argc, char **argv) {
    const char *source = NULL, *sequence_text = NULL, *record_id = NULL, *pos[2];
    const char **to = calloc((size_t)argc + 1, sizeof *to); /* at most argc / 2 recipients */
    int npos = 0, nto = 0;
    if (to == NULL) {
        fprintf(stderr, "interop: out of memory\n");
        return EXIT_MEDSEAL;
    }
    for (int i = 0; i < argc; i++) {
        int has_value = i + 1 < argc;
        if (strcmp(argv[i], "--to") == 0 && has_value) {
            to[nto++] = argv[++i];
        } else if (strcmp(argv[i], "--source") == 0 && has_value && source == NULL) {
            source = argv[++i];
        } else if (strcmp(argv[i], "--sequence") == 0 && has_value && sequence_text == NULL) {
            sequence_text = argv[++i];
        } else if (strcmp(argv[i], "--record-id") == 0 && has_value && record_id == NULL) {
            record_id = argv[++i];
        } else if (argv[i][0] == '-' || npos == 2) {
            free(to);
            return usage("seal: unexpected argument");
        } else {
            pos[npos++] = argv[i];
        }
    }
    uint64_t sequence = 0;
    char random_id[37];
    if (nto == 0 || source == NULL || sequence_text == NULL || npos != 2) {
        free(to);
        return usage("seal needs --to PUBLIC (one or more), --source ID, --sequence N, IN and OUT");
    }
    if (parse_u64(sequence_text, &sequence) != 0) {
        free(to);
        return usage("seal: --sequence takes a decimal number");
    }
    int status = EXIT_MEDSEAL;
    size_t plaintext_len = 0;
    uint8_t *plaintext = NULL;
    medseal_recipient_key **recipients = calloc((size_t)nto, sizeof *recipients);
    medseal_meta *meta = NULL;
    medseal_buffer *envelope = NULL;
    if (recipients == NULL) {
        fprintf(stderr, "interop: out of memory\n");
        goto done;
    }
    if (record_id == NULL && random_record_id(random_id) != 0) {
        goto done;
    }
    if (record_id == NULL) {
        record_id = random_id;
    }
    for (int i = 0; i < nto; i++) {
        size_t pem_len = 0;
        uint8_t *pem = read_file(to[i], &pem_len);
        if (pem == NULL) {
            goto done;
        }
        medseal_result rc = medseal_recipient_key_import(pem, pem_len, &recipients[i]); /* SPKI PEM, DER or JWK */
        free(pem);
        TRY(rc);
    }
    if ((plaintext = read_file(pos[0], &plaintext_len)) == NULL) {
        goto done;
    }
    /* Routing metadata, in clear but bound to the ciphertext; created = now. */
    TRY(medseal_meta_new((const uint8_t *)record_id, strlen(record_id), (const uint8_t *)source, strlen(source), sequence,
                         &meta));
    TRY(medseal_envelope_seal(plaintext, plaintext_len, meta, (const medseal_recipient_key *const *)recipients,
                              (size_t)nto, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_JSON, &envelope));
    status = write_buffer(pos[1], envelope, 0644) == 0 ? EXIT_SUCCESS : EXIT_MEDSEAL;
done:
    medseal_buffer_free(envelope);
    medseal_meta_free(meta);
    for (int i = 0; recipients != NULL && i < nto; i++) {
        medseal_recipient_key_free(recipients[i]);
    }
    free(recipients);
    free(plaintext);
    free(to);
    return status;
}

static int cmd_open(int argc, char **argv) {
    const char *verify_path = NULL, *pos[3];
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--verify") == 0 && i + 1 < argc && verify_path == NULL) {
            verify_path = argv[++i];
        } else if (argv[i][0] == '-' || npos == 3) {
            return usage("open: unexpected argument");
        } else {
            pos[npos++] = argv[i];
        }
    }
    if (npos != 3) {
        return usage("open needs KEY IN OUT");
    }
    int status = EXIT_MEDSEAL;
    size_t pem_len = 0, data_len = 0, public_len = 0;
    uint8_t *pem = NULL, *data = NULL, *public_pem = NULL;
    medseal_recipient_key *key = NULL;
    medseal_envelope *envelope = NULL;
    medseal_verifier *verifier = NULL;
    medseal_verified *verified = NULL;
    medseal_buffer *plaintext = NULL;
    if ((pem = read_file(pos[0], &pem_len)) == NULL || (data = read_file(pos[1], &data_len)) == NULL ||
        (verify_path != NULL && (public_pem = read_file(verify_path, &public_len)) == NULL)) {
        goto done;
    }
    TRY(medseal_recipient_key_import(pem, pem_len, &key)); /* the X25519 private key, PKCS#8 PEM */
    TRY(medseal_envelope_decode(data, data_len, &envelope)); /* JSON mapping or protobuf */
    if (verify_path != NULL) {
        /* Open and verify the signed record inside, exactly as the hub does. */
        TRY(verifier_for(public_pem, public_len, &verifier));
        TRY(medseal_envelope_open_verified(envelope, key, verifier, &verified));
    }
    /* OUT is the plaintext itself (the signed record), so open it (again, if verified). */
    TRY(medseal_envelope_open(envelope, key, &plaintext));
    if (write_buffer(pos[2], plaintext, 0600) != 0) {
        goto done;
    }
    if (verified != NULL) {
        TRY(print_valid(verified));
    }
    status = EXIT_SUCCESS;
done:
    medseal_buffer_free(plaintext); /* zeroized when freed */
    medseal_verified_free(verified);
    medseal_verifier_free(verifier);
    medseal_envelope_free(envelope);
    medseal_recipient_key_free(key);
    free(public_pem);
    free(data);
    free(pem);
    return status;
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {
        {"version", cmd_version}, {"canon", cmd_canon}, {"key-generate", cmd_key_generate}, {"sign", cmd_sign},
        {"verify", cmd_verify},   {"seal", cmd_seal},   {"open", cmd_open},
    };
    if (argc < 2) {
        return usage("no command");
    }
    /* Bindings check that the library they load speaks the ABI they were written for. */
    if (medseal_abi_version() != MEDSEAL_ABI_VERSION) {
        fprintf(stderr, "interop: the medseal library loaded has ABI %u; this program was built for ABI %u\n",
                (unsigned)medseal_abi_version(), (unsigned)MEDSEAL_ABI_VERSION);
        return EXIT_MEDSEAL;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 2, argv + 2);
        }
    }
    return usage("unknown command");
}
