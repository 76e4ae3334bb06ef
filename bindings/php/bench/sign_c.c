/* The C side of `make bench-php`: signs the same 1 KB record as bench.php with the same
 * medseal_signer (Ed25519, fixed signing time), N times, and prints "C_NS_PER_SIGN <ns>".
 * Usage: sign_c RECORD_FILE N */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "medseal.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: sign_c RECORD_FILE N\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    static uint8_t record[1 << 16];
    size_t len = fread(record, 1, sizeof record, f);
    fclose(f);
    long n = atol(argv[2]);
    medseal_key *key = NULL;
    medseal_signer_builder *builder = NULL;
    medseal_signer *signer = NULL;
    if (medseal_key_generate(MEDSEAL_ALG_EDDSA, &key) != MEDSEAL_OK ||
        medseal_signer_builder_new(key, &builder) != MEDSEAL_OK ||
        medseal_signer_builder_set_signing_time(builder, 1767225600) != MEDSEAL_OK ||
        medseal_signer_builder_build(builder, &signer) != MEDSEAL_OK) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    for (int round = 0; round < 2; round++) { /* the first round warms up */
        double start = now_ns();
        for (long i = 0; i < n; i++) {
            medseal_buffer *out = NULL;
            if (medseal_signer_sign(signer, record, len, MEDSEAL_JWS_FLATTENED, &out) != MEDSEAL_OK) {
                fprintf(stderr, "sign failed\n");
                return 1;
            }
            medseal_buffer_free(out);
        }
        if (round == 1) {
            printf("C_NS_PER_SIGN %.0f\n", (now_ns() - start) / (double)n);
        }
    }
    medseal_signer_free(signer);
    medseal_signer_builder_free(builder);
    medseal_key_free(key);
    return 0;
}
