/*
 * medseal C ABI under threads: one signer and one verifier shared by four threads signing and
 * verifying at once, the last error message being per thread, and handles freed on another
 * thread than the one that made them.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "medseal.h"

#define THREADS 4
#define ITERATIONS 24

struct shared {
    const medseal_signer *signer;
    const medseal_verifier *verifier;
    char kid[MEDSEAL_KID_BYTES + 1];
    pthread_barrier_t start;
};

struct worker {
    struct shared *shared;
    int index;
    medseal_buffer *last_jws; /* handed to the main thread, which frees it */
    uint32_t last_format;
};

static const uint32_t FORMATS[] = {MEDSEAL_JWS_FLATTENED, MEDSEAL_JWS_COMPACT, MEDSEAL_JWS_DETACHED_COMPACT,
                                   MEDSEAL_JWS_DETACHED_FLATTENED};

static void *work(void *arg) {
    struct worker *w = (struct worker *)arg;
    struct shared *sh = w->shared;
    char doc[256], canon[256], bad[64], where[32];

    /* A syntax error whose position is unique to this thread: line index + 2. */
    int n = snprintf(bad, sizeof bad, "{");
    for (int i = 0; i <= w->index; i++) {
        n += snprintf(bad + n, sizeof bad - (size_t)n, "\n");
    }
    snprintf(bad + n, sizeof bad - (size_t)n, "?");
    snprintf(where, sizeof where, "line %d, column 1", w->index + 2);

    pthread_barrier_wait(&sh->start);
    for (int i = 0; i < ITERATIONS; i++) {
        uint32_t format = FORMATS[(size_t)(i + w->index) % 4];
        int detached = format == MEDSEAL_JWS_DETACHED_COMPACT || format == MEDSEAL_JWS_DETACHED_FLATTENED;
        snprintf(doc, sizeof doc, "{ \"valueInteger\": %d, \"resourceType\": \"Observation\", \"id\": \"t%d-%d\" }", i,
                 w->index, i);
        snprintf(canon, sizeof canon, "{\"id\":\"t%d-%d\",\"resourceType\":\"Observation\",\"valueInteger\":%d}",
                 w->index, i, i);

        medseal_buffer *jws = NULL;
        if (!CHECK_OK(medseal_signer_sign(sh->signer, (const uint8_t *)doc, strlen(doc), format, &jws))) {
            continue;
        }
        medseal_verified *vd = NULL;
        medseal_result rc =
            detached ? medseal_verifier_verify_detached(sh->verifier, medseal_buffer_data(jws), medseal_buffer_len(jws),
                                                        (const uint8_t *)doc, strlen(doc), MEDSEAL_PAYLOAD_DOCUMENT, &vd)
                     : medseal_verifier_verify(sh->verifier, medseal_buffer_data(jws), medseal_buffer_len(jws), &vd);
        if (CHECK_OK(rc)) {
            const uint8_t *data = NULL;
            size_t len = 0;
            CHECK_OK(medseal_verified_payload(vd, &data, &len));
            CHECK_MEM(data, len, canon);
            CHECK_OK(medseal_verified_key_id(vd, &data, &len));
            CHECK_MEM(data, len, sh->kid);
            CHECK_OK(medseal_verified_signing_time(vd, &data, &len));
            CHECK_MEM(data, len, "2026-01-02T03:04:05Z");
            medseal_verified_free(vd);
        }

        /* Errors interleave with the other threads' errors but each thread sees its own. */
        medseal_buffer *out = SENTINEL_PTR;
        CHECK_RC(medseal_json_canonicalize((const uint8_t *)bad, strlen(bad), 0, &out), MEDSEAL_JSON_SYNTAX);
        CHECK(out == SENTINEL_PTR);
        CHECK_ERROR_CONTAINS(where);
        /* A tampered JWS fails here without disturbing the others. */
        if (!detached) {
            uint8_t *copy = malloc(medseal_buffer_len(jws));
            if (CHECK(copy != NULL)) {
                memcpy(copy, medseal_buffer_data(jws), medseal_buffer_len(jws));
                size_t at = medseal_buffer_len(jws) - 20;
                copy[at] = copy[at] == 'A' ? 'B' : 'A';
                vd = SENTINEL_PTR;
                CHECK_RC(medseal_verifier_verify(sh->verifier, copy, medseal_buffer_len(jws), &vd),
                         MEDSEAL_JWS_SIGNATURE_INVALID);
                CHECK(vd == SENTINEL_PTR);
                free(copy);
            }
        }
        /* And a success clears it, on this thread only. */
        size_t len = SENTINEL_LEN;
        CHECK_OK(medseal_json_canonicalize((const uint8_t *)doc, strlen(doc), 0, &out));
        CHECK_BUF(out, canon);
        medseal_buffer_free(out);
        CHECK_OK(medseal_last_error_message(NULL, 0, &len));
        CHECK(len == 0);

        if (i == ITERATIONS - 1) {
            w->last_jws = jws; /* freed by the main thread */
            w->last_format = format;
        } else {
            medseal_buffer_free(jws);
        }
    }
    return NULL;
}

static void test_shared_signer_and_verifier(void) {
    struct shared sh;
    medseal_key *key = NULL;
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &key));
    medseal_buffer *kid = NULL;
    REQUIRE_OK(medseal_key_kid(key, &kid));
    memcpy(sh.kid, medseal_buffer_data(kid), MEDSEAL_KID_BYTES);
    sh.kid[MEDSEAL_KID_BYTES] = '\0';
    medseal_buffer_free(kid);

    medseal_signer_builder *sb = NULL;
    medseal_signer *signer = NULL;
    REQUIRE_OK(medseal_signer_builder_new(key, &sb));
    REQUIRE_OK(medseal_signer_builder_set_signing_time(sb, INT64_C(1767323045)));
    REQUIRE_OK(medseal_signer_builder_build(sb, &signer));
    medseal_signer_builder_free(sb);
    medseal_verifier_builder *vb = NULL;
    medseal_verifier *verifier = NULL;
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    REQUIRE_OK(medseal_verifier_builder_add_key(vb, key));
    REQUIRE_OK(medseal_verifier_builder_build(vb, &verifier));
    medseal_verifier_builder_free(vb);
    medseal_key_free(key);

    sh.signer = signer;
    sh.verifier = verifier;
    if (pthread_barrier_init(&sh.start, NULL, THREADS) != 0) {
        CHECK(!"pthread_barrier_init");
        return;
    }
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){&sh, t, NULL, 0};
        if (pthread_create(&threads[t], NULL, work, &workers[t]) != 0) {
            fprintf(stderr, "FATAL: pthread_create failed\n");
            exit(2);
        }
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    pthread_barrier_destroy(&sh.start);

    /* Buffers made on the workers, verified and freed here. */
    for (int t = 0; t < THREADS; t++) {
        if (!CHECK(workers[t].last_jws != NULL)) {
            continue;
        }
        medseal_buffer *jws = workers[t].last_jws;
        medseal_verified *vd = NULL;
        uint32_t format = workers[t].last_format;
        if (format == MEDSEAL_JWS_DETACHED_COMPACT || format == MEDSEAL_JWS_DETACHED_FLATTENED) {
            CHECK_RC(medseal_verifier_verify(verifier, medseal_buffer_data(jws), medseal_buffer_len(jws), &vd),
                     MEDSEAL_JWS_PAYLOAD_MISSING);
        } else if (CHECK_OK(medseal_verifier_verify(verifier, medseal_buffer_data(jws), medseal_buffer_len(jws), &vd))) {
            medseal_verified_free(vd);
        }
        medseal_buffer_free(jws);
    }
    medseal_verifier_free(verifier);
    medseal_signer_free(signer);
}

/* ---- the last error is per thread -------------------------------------------------------- */

struct ping_pong {
    pthread_barrier_t step;
    int saw_empty;
};

static void *other_thread(void *arg) {
    struct ping_pong *pp = (struct ping_pong *)arg;
    size_t len = SENTINEL_LEN;
    /* A new thread starts with no error, whatever the main thread did. */
    medseal_result rc = medseal_last_error_message(NULL, 0, &len);
    pp->saw_empty = rc == MEDSEAL_OK && len == 0;
    medseal_key *out = SENTINEL_PTR;
    CHECK_RC(medseal_key_import((const uint8_t *)"garbage", 7, 0, &out), MEDSEAL_KEY_FORMAT);
    pthread_barrier_wait(&pp->step); /* 1: this thread's error is set */
    pthread_barrier_wait(&pp->step); /* 2: the main thread has checked its own */
    CHECK_ERROR_CONTAINS("PKCS#8");  /* still ours, not the main thread's JSON error */
    return NULL;
}

static void test_last_error_is_thread_local(void) {
    struct ping_pong pp = {.saw_empty = 0};
    if (pthread_barrier_init(&pp.step, NULL, 2) != 0) {
        CHECK(!"pthread_barrier_init");
        return;
    }
    medseal_buffer *out = SENTINEL_PTR;
    CHECK_RC(medseal_json_canonicalize((const uint8_t *)"{\"a\":1,\"a\":2}", 13, 0, &out), MEDSEAL_JSON_DUPLICATE_KEY);
    char before[512];
    check_last_error(before, sizeof before);
    CHECK(before[0] != '\0');

    pthread_t thread;
    if (pthread_create(&thread, NULL, other_thread, &pp) != 0) {
        fprintf(stderr, "FATAL: pthread_create failed\n");
        exit(2);
    }
    pthread_barrier_wait(&pp.step); /* 1 */
    char during[512];
    check_last_error(during, sizeof during);
    CHECK_STR(during, before);
    pthread_barrier_wait(&pp.step); /* 2 */
    pthread_join(thread, NULL);
    pthread_barrier_destroy(&pp.step);

    CHECK(pp.saw_empty);
    char after[512];
    check_last_error(after, sizeof after);
    CHECK_STR(after, before);
}

int main(void) {
    test_last_error_is_thread_local();
    test_shared_signer_and_verifier();
    return check_summary();
}
