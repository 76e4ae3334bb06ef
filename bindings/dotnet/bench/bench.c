/* The C reference of `make bench-dotnet`: the same work as Bench.cs, straight through the C ABI.
 * Prints "C sign-1k <microseconds per call>" and "C open-1k <microseconds per call>" (best of 7
 * runs of N calls each). */
#define _POSIX_C_SOURCE 200809L
#include <medseal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 2000
#define RUNS 7

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void ok(medseal_result r, const char *what) {
    if (r != MEDSEAL_OK) { fprintf(stderr, "%s failed: %s\n", what, medseal_result_name(r)); exit(1); }
}

int main(void) {
    /* A 1 KB record: {"resourceType":"Basic","id":"b","text":"xxxx..."} */
    char record[1024];
    const char *head = "{\"resourceType\":\"Basic\",\"id\":\"b\",\"text\":\"", *tail = "\"}";
    size_t fill = sizeof record - strlen(head) - strlen(tail);
    memcpy(record, head, strlen(head));
    memset(record + strlen(head), 'x', fill);
    memcpy(record + strlen(head) + fill, tail, strlen(tail));

    medseal_key *key; medseal_signer *signer; medseal_buffer *jws;
    ok(medseal_key_generate(MEDSEAL_ALG_EDDSA, &key), "key");
    medseal_signer_builder *b;
    ok(medseal_signer_builder_new(key, &b), "builder");
    ok(medseal_signer_builder_build(b, &signer), "signer");
    medseal_signer_builder_free(b);

    double best = 1e18;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now_us();
        for (int i = 0; i < N; i++) {
            ok(medseal_signer_sign(signer, (const uint8_t *)record, sizeof record, MEDSEAL_JWS_FLATTENED, &jws), "sign");
            medseal_buffer_free(jws);
        }
        double t = (now_us() - t0) / N;
        if (t < best) best = t;
    }
    printf("C sign-1k %.3f\n", best);

    medseal_recipient_key *hub; medseal_meta *meta; medseal_buffer *env;
    ok(medseal_recipient_key_generate(&hub), "recipient");
    ok(medseal_meta_new((const uint8_t *)"r", 1, (const uint8_t *)"s", 1, 1, &meta), "meta");
    const medseal_recipient_key *to[1] = {hub};
    ok(medseal_envelope_seal((const uint8_t *)record, sizeof record, meta, to, 1, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_PROTOBUF, &env), "seal");
    uint8_t out[2048]; size_t written;
    best = 1e18;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now_us();
        for (int i = 0; i < N; i++)
            ok(medseal_recipient_key_open_into(hub, medseal_buffer_data(env), medseal_buffer_len(env), out, sizeof out, &written), "open");
        double t = (now_us() - t0) / N;
        if (t < best) best = t;
    }
    printf("C open-1k %.3f\n", best);
    medseal_buffer_free(env); medseal_meta_free(meta); medseal_recipient_key_free(hub);
    medseal_signer_free(signer); medseal_key_free(key);
    return 0;
}
