/* The C side of `make bench-java`: the work SignBench.java times through the Java binding, straight
 * through the C ABI. Signs the record in RECORD_FILE with a new key of ALG (EdDSA or ES256) and a
 * signer with the defaults (sigT from the clock at each signature, as in SignBench), JWS compact,
 * N times after N/4 warm-up calls, and prints "C_NS_PER_SIGN <ALG> <ns per call>". SignBench runs
 * it once per round, between its own rounds, and keeps the best.
 *
 * Usage: sign_c RECORD_FILE ALG N */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "medseal.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void ok(int32_t rc, const char *what) {
    if (rc != MEDSEAL_OK) {
        fprintf(stderr, "sign_c: %s failed: %s\n", what, medseal_result_name(rc));
        exit(1);
    }
}

static void sign_n(const medseal_signer *signer, const uint8_t *record, size_t len, long n) {
    for (long i = 0; i < n; i++) {
        medseal_buffer *out = NULL;
        ok(medseal_signer_sign(signer, record, len, MEDSEAL_JWS_COMPACT, &out), "medseal_signer_sign");
        medseal_buffer_free(out);
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: sign_c RECORD_FILE EdDSA|ES256 N\n");
        return 2;
    }
    int alg;
    if (strcmp(argv[2], "EdDSA") == 0) {
        alg = MEDSEAL_ALG_EDDSA;
    } else if (strcmp(argv[2], "ES256") == 0) {
        alg = MEDSEAL_ALG_ES256;
    } else {
        fprintf(stderr, "sign_c: unknown algorithm %s (EdDSA or ES256)\n", argv[2]);
        return 2;
    }
    long n = atol(argv[3]);
    if (n < 1) {
        fprintf(stderr, "sign_c: N must be at least 1\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    static uint8_t record[1 << 16];
    size_t len = fread(record, 1, sizeof record, f);
    int too_big = !feof(f);
    fclose(f);
    if (len == 0 || too_big) {
        fprintf(stderr, "sign_c: %s is empty or larger than %zu bytes\n", argv[1], sizeof record);
        return 1;
    }

    medseal_key *key = NULL;
    medseal_signer_builder *builder = NULL;
    medseal_signer *signer = NULL;
    ok(medseal_key_generate(alg, &key), "medseal_key_generate");
    ok(medseal_signer_builder_new(key, &builder), "medseal_signer_builder_new");
    ok(medseal_signer_builder_build(builder, &signer), "medseal_signer_builder_build");
    medseal_signer_builder_free(builder);

    sign_n(signer, record, len, n / 4 > 50 ? n / 4 : 50); /* warm-up: caches, the allocator */
    double start = now_ns();
    sign_n(signer, record, len, n);
    printf("C_NS_PER_SIGN %s %.0f\n", argv[2], (now_ns() - start) / (double)n);

    medseal_signer_free(signer);
    medseal_key_free(key);
    return 0;
}
