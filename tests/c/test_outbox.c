/*
 * medseal C ABI: the durable outbox. Open (and every refusal: NULLs, bad UTF-8, too many
 * recipients, a file that is not an outbox, a missing directory, another facility's file),
 * enqueue of signed records (sequence numbers, idempotency, duplicates, what is not a signed
 * record), reading back a receipt (refused before delivery), pre-sealed envelopes
 * (next number only, addressed to the hub), the local receipt's accessors (digest with the
 * size query), the status snapshot, dead letters (withdraw, count, ids, requeue, discard),
 * the online backup, and threads enqueueing through one handle and through several handles on
 * one file at once (gapless numbers).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "medseal.h"

#define SOURCE "bv-cho-ray"
/* The outbox seals signed records without verifying them (it has no key): flattened JWS with a
 * record's protected header, {"alg":"EdDSA","crit":["sigT"],"sigT":"2026-01-01T00:00:00Z",
 * "typ":"medseal+jws"}, and made-up signatures. */
#define RECORD_HEADER "eyJhbGciOiJFZERTQSIsImNyaXQiOlsic2lnVCJdLCJzaWdUIjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJ0eXAiOiJtZWRzZWFsK2p3cyJ9"
#define SIGNED_1 "{\"payload\":\"eyJpZCI6IjEifQ\",\"protected\":\"" RECORD_HEADER "\",\"signature\":\"c2lnMQ\"}"
#define SIGNED_2 "{\"payload\":\"eyJpZCI6IjIifQ\",\"protected\":\"" RECORD_HEADER "\",\"signature\":\"c2lnMg\"}"
/* Not signed records: {"alg":"EdDSA","typ":"medseal+jws"} (no sigT) and
 * {"alg":"EdDSA","sigT":"2026-01-01T00:00:00Z","typ":"JWT"} (another typ). */
#define NO_SIGT "eyJhbGciOiJFZERTQSIsInR5cCI6Im1lZHNlYWwrandzIn0.eyJpZCI6IjEifQ.c2ln"
#define OTHER_TYP "eyJhbGciOiJFZERTQSIsInNpZ1QiOiIyMDI2LTAxLTAxVDAwOjAwOjAwWiIsInR5cCI6IkpXVCJ9.eyJpZCI6IjEifQ.c2ln"
#define THREADS 4
#define PER_THREAD 8

static char dir[64];

static const uint8_t *u8(const char *s) { return (const uint8_t *)s; }

/* dir/name into `out`. */
static const char *in_dir(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
    return out;
}

static medseal_outbox *open_outbox(const char *name, medseal_recipient_key *const *keys, size_t n) {
    char path[128];
    medseal_outbox *outbox = NULL;
    in_dir(path, sizeof path, name);
    REQUIRE_OK(medseal_outbox_open(u8(path), strlen(path), u8(SOURCE), strlen(SOURCE),
                                   (const medseal_recipient_key *const *)keys, n, &outbox));
    return outbox;
}

static medseal_local_receipt *enqueue(const medseal_outbox *outbox, const char *record_id, const char *signed_record) {
    medseal_local_receipt *receipt = NULL;
    REQUIRE_OK(medseal_outbox_enqueue_signed(outbox, u8(record_id), strlen(record_id), u8(signed_record), strlen(signed_record),
                                      &receipt));
    return receipt;
}

static uint64_t sequence_of(const medseal_local_receipt *receipt) {
    uint64_t sequence = 0;
    REQUIRE_OK(medseal_local_receipt_sequence(receipt, &sequence));
    return sequence;
}

static int64_t id_of(const medseal_local_receipt *receipt) {
    int64_t id = 0;
    REQUIRE_OK(medseal_local_receipt_outbox_id(receipt, &id));
    return id;
}

/* A protobuf envelope sealed elsewhere with `source` and `sequence`, to `key`. */
static medseal_buffer *sealed_elsewhere(const char *record_id, const char *source, uint64_t sequence,
                                        const medseal_recipient_key *key) {
    medseal_meta *meta = NULL;
    medseal_buffer *out = NULL;
    REQUIRE_OK(medseal_meta_new(u8(record_id), strlen(record_id), u8(source), strlen(source), sequence, &meta));
    REQUIRE_OK(medseal_envelope_seal(u8(SIGNED_2), strlen(SIGNED_2), meta, &key, 1, MEDSEAL_AEAD_AES_256_GCM, MEDSEAL_ENVELOPE_PROTOBUF,
                            &out));
    medseal_meta_free(meta);
    return out;
}

static void test_open_refusals(medseal_recipient_key *hub) {
    char path[128], notes[128];
    medseal_outbox *out = (medseal_outbox *)SENTINEL_PTR;
    const medseal_recipient_key *keys[17];
    in_dir(path, sizeof path, "outbox.sqlite");
    for (size_t i = 0; i < 17; i++) {
        keys[i] = hub;
    }
    CHECK_RC(medseal_outbox_open(NULL, 0, u8(SOURCE), strlen(SOURCE), keys, 1, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_open(u8(path), strlen(path), NULL, 0, keys, 1, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_open(u8(path), strlen(path), u8(SOURCE), strlen(SOURCE), keys, 1, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_open(u8(path), strlen(path), u8(SOURCE), strlen(SOURCE), NULL, 1, &out), MEDSEAL_NULL_ARGUMENT);
    const medseal_recipient_key *with_null[2] = {hub, NULL};
    CHECK_RC(medseal_outbox_open(u8(path), strlen(path), u8(SOURCE), strlen(SOURCE), with_null, 2, &out),
             MEDSEAL_NULL_ARGUMENT);
    CHECK_ERROR_CONTAINS("recipients[1]");
    CHECK_RC(medseal_outbox_open(u8(path), strlen(path), u8(SOURCE), strlen(SOURCE), keys, 17, &out), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_outbox_open(u8(path), strlen(path), u8("bv\xff"), 3, keys, 1, &out), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_RC(medseal_outbox_open(u8(path), 0, u8(SOURCE), strlen(SOURCE), keys, 1, &out), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_outbox_open(u8(path), strlen(path), u8(""), 0, keys, 1, &out), MEDSEAL_INVALID_ARGUMENT);
    const char *missing = "/nonexistent-medseal-dir/outbox.sqlite";
    CHECK_RC(medseal_outbox_open(u8(missing), strlen(missing), u8(SOURCE), strlen(SOURCE), keys, 1, &out), MEDSEAL_OUTBOX_IO);
    in_dir(notes, sizeof notes, "notes.txt");
    FILE *f = fopen(notes, "w");
    if (CHECK(f != NULL)) {
        for (int i = 0; i < 40; i++) {
            fputs("these are notes, not a database; ", f);
        }
        fclose(f);
    }
    CHECK_RC(medseal_outbox_open(u8(notes), strlen(notes), u8(SOURCE), strlen(SOURCE), keys, 1, &out), MEDSEAL_OUTBOX_SCHEMA);
    CHECK_ERROR_CONTAINS("not a medseal outbox");
    CHECK(out == (medseal_outbox *)SENTINEL_PTR);
}

static void test_enqueue_and_receipts(medseal_recipient_key *hub, medseal_recipient_key *archive) {
    medseal_recipient_key *keys[2] = {hub, archive};
    medseal_outbox *outbox = open_outbox("outbox.sqlite", keys, 2);
    medseal_local_receipt *first = enqueue(outbox, "rec-1", SIGNED_1);
    medseal_local_receipt *second = enqueue(outbox, "rec-2", SIGNED_2);
    CHECK(sequence_of(first) == 1);
    CHECK(sequence_of(second) == 2);
    CHECK(id_of(first) != id_of(second));
    uint32_t already = SENTINEL_U32;
    CHECK_OK(medseal_local_receipt_already_queued(first, &already));
    CHECK(already == 0);
    int64_t enqueued_at = 0;
    CHECK_OK(medseal_local_receipt_enqueued_at(first, &enqueued_at));
    CHECK(enqueued_at > 1700000000);

    /* The digest: size query, too small, NULL with a capacity, then the 32 bytes. */
    uint8_t digest[40] = {0}, again_digest[32] = {0};
    size_t written = SENTINEL_LEN;
    CHECK_RC(medseal_local_receipt_digest(first, NULL, 0, &written), MEDSEAL_BUFFER_TOO_SMALL);
    CHECK(written == 32);
    written = SENTINEL_LEN;
    CHECK_RC(medseal_local_receipt_digest(first, digest, 31, &written), MEDSEAL_BUFFER_TOO_SMALL);
    CHECK(written == 32);
    CHECK_RC(medseal_local_receipt_digest(first, NULL, 32, &written), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_local_receipt_digest(first, digest, sizeof digest, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_local_receipt_digest(NULL, digest, sizeof digest, &written), MEDSEAL_NULL_ARGUMENT);
    CHECK_OK(medseal_local_receipt_digest(first, digest, sizeof digest, &written));
    CHECK(written == 32);

    /* Same id, same record: the original receipt. Other record: a duplicate. */
    medseal_local_receipt *again = enqueue(outbox, "rec-1", SIGNED_1);
    CHECK_OK(medseal_local_receipt_already_queued(again, &already));
    CHECK(already == 1);
    CHECK(id_of(again) == id_of(first) && sequence_of(again) == 1);
    CHECK_OK(medseal_local_receipt_digest(again, again_digest, sizeof again_digest, &written));
    CHECK_BYTES(again_digest, written, digest, 32);
    medseal_local_receipt *out = (medseal_local_receipt *)SENTINEL_PTR;
    CHECK_RC(medseal_outbox_enqueue_signed(outbox, u8("rec-1"), 5, u8(SIGNED_2), strlen(SIGNED_2), &out), MEDSEAL_OUTBOX_DUPLICATE);
    CHECK(out == (medseal_local_receipt *)SENTINEL_PTR);

    /* Refusals. */
    CHECK_RC(medseal_outbox_enqueue_signed(NULL, u8("rec-3"), 5, u8(SIGNED_1), strlen(SIGNED_1), &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_enqueue_signed(outbox, NULL, 0, u8(SIGNED_1), strlen(SIGNED_1), &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_enqueue_signed(outbox, u8("rec-3"), 5, NULL, 0, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_enqueue_signed(outbox, u8("rec-3"), 5, u8(SIGNED_1), strlen(SIGNED_1), NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_enqueue_signed(outbox, u8("rec\xc3"), 4, u8(SIGNED_1), strlen(SIGNED_1), &out),
             MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_RC(medseal_outbox_enqueue_signed(outbox, u8("rec-3"), 0, u8(SIGNED_1), strlen(SIGNED_1), &out), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_outbox_enqueue_signed(outbox, u8("rec-3"), 5, u8(SIGNED_1), 0, &out), MEDSEAL_INVALID_ARGUMENT);
    /* Only signed records are sealed (a JWS with typ medseal+jws and a sigT), and a refusal
     * uses no sequence number (the next enqueue below gets 3). */
    static const struct {
        const char *bytes;
        medseal_result want;
        const char *says;
    } not_records[] = {
        {"not a jws", MEDSEAL_JWS_MALFORMED, "three dot-separated parts"},
        {"{}", MEDSEAL_JWS_MALFORMED, "no \"protected\""},
        {"{\"resourceType\":\"Patient\"}", MEDSEAL_JWS_MALFORMED, "protected"},
        {NO_SIGT, MEDSEAL_JWS_HEADER, "no sigT"},
        {OTHER_TYP, MEDSEAL_JWS_HEADER, "not a medseal record"},
        {RECORD_HEADER "..c2ln", MEDSEAL_JWS_PAYLOAD_MISSING, "detached"},
        {RECORD_HEADER ".eyJh+.c2ln", MEDSEAL_JWS_BASE64, "payload"},
    };
    for (size_t k = 0; k < sizeof not_records / sizeof not_records[0]; k++) {
        out = (medseal_local_receipt *)SENTINEL_PTR;
        CHECK_RC(medseal_outbox_enqueue_signed(outbox, u8("rec-3"), 5, u8(not_records[k].bytes), strlen(not_records[k].bytes), &out),
                 not_records[k].want);
        CHECK_ERROR_CONTAINS(not_records[k].says);
        CHECK(out == (medseal_local_receipt *)SENTINEL_PTR);
    }

    /* The hub's receipt is read back only for a delivered record (see test_transport.c). */
    medseal_buffer *receipt = (medseal_buffer *)SENTINEL_PTR, *proof = (medseal_buffer *)SENTINEL_PTR;
    CHECK_RC(medseal_outbox_get_receipt(outbox, u8("rec-1"), 5, &receipt, &proof), MEDSEAL_OUTBOX_STATE);
    CHECK_ERROR_CONTAINS("is queued: only a delivered record has the hub's receipt");
    CHECK_RC(medseal_outbox_get_receipt(outbox, u8("rec-3"), 5, &receipt, &proof), MEDSEAL_OUTBOX_NOT_FOUND);
    CHECK_ERROR_CONTAINS("no record \"rec-3\"");
    CHECK_RC(medseal_outbox_get_receipt(outbox, u8("rec-1"), 0, &receipt, &proof), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_outbox_get_receipt(outbox, u8("rec\n1"), 5, &receipt, &proof), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_outbox_get_receipt(outbox, u8("rec\xc3"), 4, &receipt, &proof), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_RC(medseal_outbox_get_receipt(NULL, u8("rec-1"), 5, &receipt, &proof), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_get_receipt(outbox, NULL, 0, &receipt, &proof), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_get_receipt(outbox, u8("rec-1"), 5, NULL, &proof), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_get_receipt(outbox, u8("rec-1"), 5, &receipt, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK(receipt == (medseal_buffer *)SENTINEL_PTR && proof == (medseal_buffer *)SENTINEL_PTR);

    /* Accessors refuse NULLs. */
    uint64_t u = 0;
    int64_t i = 0;
    CHECK_RC(medseal_local_receipt_sequence(NULL, &u), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_local_receipt_sequence(first, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_local_receipt_outbox_id(NULL, &i), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_local_receipt_outbox_id(first, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_local_receipt_enqueued_at(NULL, &i), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_local_receipt_enqueued_at(first, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_local_receipt_already_queued(NULL, &already), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_local_receipt_already_queued(first, NULL), MEDSEAL_NULL_ARGUMENT);

    /* Pre-sealed envelopes: the next number of this source, addressed to the hub. */
    medseal_buffer *skip = sealed_elsewhere("sealed-4", SOURCE, 4, hub);
    CHECK_RC(medseal_outbox_enqueue_sealed(outbox, medseal_buffer_data(skip), medseal_buffer_len(skip), &out),
             MEDSEAL_OUTBOX_SEQUENCE);
    medseal_buffer *foreign = sealed_elsewhere("sealed-3", "other-facility", 3, hub);
    CHECK_RC(medseal_outbox_enqueue_sealed(outbox, medseal_buffer_data(foreign), medseal_buffer_len(foreign), &out),
             MEDSEAL_OUTBOX_SEQUENCE);
    medseal_buffer *not_hub = sealed_elsewhere("sealed-3", SOURCE, 3, archive);
    CHECK_RC(medseal_outbox_enqueue_sealed(outbox, medseal_buffer_data(not_hub), medseal_buffer_len(not_hub), &out),
             MEDSEAL_SEAL_WRONG_RECIPIENT);
    CHECK_RC(medseal_outbox_enqueue_sealed(outbox, u8("garbage"), 7, &out), MEDSEAL_SEAL_NOT_PROTOBUF);
    CHECK_RC(medseal_outbox_enqueue_sealed(NULL, u8("x"), 1, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_enqueue_sealed(outbox, NULL, 0, &out), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_enqueue_sealed(outbox, u8("x"), 1, NULL), MEDSEAL_NULL_ARGUMENT);
    medseal_buffer *next = sealed_elsewhere("sealed-3", SOURCE, 3, hub);
    medseal_local_receipt *third = NULL;
    if (CHECK_OK(medseal_outbox_enqueue_sealed(outbox, medseal_buffer_data(next), medseal_buffer_len(next), &third))) {
        CHECK(sequence_of(third) == 3);
    }
    medseal_local_receipt_free(third);
    medseal_buffer_free(skip);
    medseal_buffer_free(foreign);
    medseal_buffer_free(not_hub);
    medseal_buffer_free(next);

    /* The file belongs to this facility. */
    char path[128];
    in_dir(path, sizeof path, "outbox.sqlite");
    medseal_outbox *other = (medseal_outbox *)SENTINEL_PTR;
    CHECK_RC(medseal_outbox_open(u8(path), strlen(path), u8("another"), 7, (const medseal_recipient_key *const *)keys, 1, &other),
             MEDSEAL_INVALID_ARGUMENT);
    CHECK_ERROR_CONTAINS("belongs to source");
    /* Opened without recipients: administration only. */
    medseal_outbox *admin = open_outbox("outbox.sqlite", NULL, 0);
    CHECK_RC(medseal_outbox_enqueue_signed(admin, u8("rec-9"), 5, u8(SIGNED_1), strlen(SIGNED_1), &out), MEDSEAL_INVALID_ARGUMENT);
    medseal_outbox_free(admin);

    medseal_local_receipt_free(first);
    medseal_local_receipt_free(second);
    medseal_local_receipt_free(again);
    medseal_local_receipt_free(NULL);
    medseal_outbox_free(outbox);
    medseal_outbox_free(NULL);
}

/* Status after test_enqueue_and_receipts: three queued records. */
static void test_status(medseal_recipient_key *hub) {
    medseal_outbox *outbox = open_outbox("outbox.sqlite", &hub, 1);
    medseal_outbox_status *status = NULL;
    REQUIRE_OK(medseal_outbox_get_status(outbox, &status));
    uint64_t n = 99;
    CHECK_OK(medseal_outbox_status_queued(status, &n));
    CHECK(n == 3);
    CHECK_OK(medseal_outbox_status_in_flight(status, &n));
    CHECK(n == 0);
    CHECK_OK(medseal_outbox_status_delivered(status, &n));
    CHECK(n == 0);
    CHECK_OK(medseal_outbox_status_dead_letter(status, &n));
    CHECK(n == 0);
    CHECK_OK(medseal_outbox_status_discarded(status, &n));
    CHECK(n == 0);
    CHECK_OK(medseal_outbox_status_next_sequence(status, &n));
    CHECK(n == 4);
    uint32_t present = SENTINEL_U32;
    int64_t at = 0, oldest = 0;
    CHECK_OK(medseal_outbox_status_oldest_queued_at(status, &present, &oldest));
    CHECK(present == 1 && oldest > 1700000000);
    CHECK_OK(medseal_outbox_status_next_attempt_at(status, &present, &at));
    CHECK(present == 1 && at == oldest);

    CHECK_RC(medseal_outbox_get_status(NULL, &status), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_get_status(outbox, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_status_queued(NULL, &n), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_status_in_flight(status, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_status_delivered(NULL, &n), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_status_dead_letter(status, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_status_discarded(NULL, &n), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_status_next_sequence(status, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_status_oldest_queued_at(status, NULL, &at), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_status_oldest_queued_at(NULL, &present, &at), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_status_next_attempt_at(status, &present, NULL), MEDSEAL_NULL_ARGUMENT);
    medseal_outbox_status_free(status);
    medseal_outbox_status_free(NULL);

    /* An empty outbox has no times. */
    medseal_outbox *empty = open_outbox("empty.sqlite", &hub, 1);
    REQUIRE_OK(medseal_outbox_get_status(empty, &status));
    present = SENTINEL_U32;
    at = 42;
    CHECK_OK(medseal_outbox_status_next_attempt_at(status, &present, &at));
    CHECK(present == 0 && at == 0);
    CHECK_OK(medseal_outbox_status_oldest_queued_at(status, &present, &at));
    CHECK(present == 0);
    CHECK_OK(medseal_outbox_status_next_sequence(status, &n));
    CHECK(n == 1);
    medseal_outbox_status_free(status);
    medseal_outbox_free(empty);
    medseal_outbox_free(outbox);
}

static void test_dead_letters(medseal_recipient_key *hub) {
    medseal_outbox *outbox = open_outbox("outbox.sqlite", &hub, 1);
    uint64_t count = 99;
    CHECK_OK(medseal_outbox_dead_letter_count(outbox, &count));
    CHECK(count == 0);
    size_t written = SENTINEL_LEN;
    CHECK_OK(medseal_outbox_dead_letter_ids(outbox, NULL, 0, &written));
    CHECK(written == 0);

    /* Withdraw queued record 2 (enqueued by mistake): a dead letter. */
    CHECK_RC(medseal_outbox_withdraw(outbox, 2, u8(""), 0), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_outbox_withdraw(outbox, 2, NULL, 0), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_withdraw(NULL, 2, u8("x"), 1), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_withdraw(outbox, 999, u8("x"), 1), MEDSEAL_OUTBOX_NOT_FOUND);
    CHECK_OK(medseal_outbox_withdraw(outbox, 2, u8("wrong patient"), 13));
    CHECK_RC(medseal_outbox_withdraw(outbox, 2, u8("again"), 5), MEDSEAL_OUTBOX_STATE);
    CHECK_OK(medseal_outbox_dead_letter_count(outbox, &count));
    CHECK(count == 1);

    int64_t ids[4] = {0};
    written = SENTINEL_LEN;
    CHECK_RC(medseal_outbox_dead_letter_ids(outbox, NULL, 0, &written), MEDSEAL_BUFFER_TOO_SMALL);
    CHECK(written == 1);
    CHECK_RC(medseal_outbox_dead_letter_ids(outbox, NULL, 4, &written), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_dead_letter_ids(outbox, ids, 4, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_dead_letter_ids(NULL, ids, 4, &written), MEDSEAL_NULL_ARGUMENT);
    CHECK_OK(medseal_outbox_dead_letter_ids(outbox, ids, 4, &written));
    CHECK(written == 1 && ids[0] == 2);

    /* Requeue: only a dead letter. */
    CHECK_RC(medseal_outbox_requeue(outbox, 1), MEDSEAL_OUTBOX_STATE);
    CHECK_ERROR_CONTAINS("queued");
    CHECK_RC(medseal_outbox_requeue(outbox, 999), MEDSEAL_OUTBOX_NOT_FOUND);
    CHECK_RC(medseal_outbox_requeue(NULL, 2), MEDSEAL_NULL_ARGUMENT);
    CHECK_OK(medseal_outbox_requeue(outbox, 2));
    CHECK_RC(medseal_outbox_requeue(outbox, 2), MEDSEAL_OUTBOX_STATE);

    /* Discard: only a dead letter, with a reason; recorded, never deleted. */
    CHECK_RC(medseal_outbox_discard(outbox, 2, u8("x"), 1), MEDSEAL_OUTBOX_STATE);
    CHECK_OK(medseal_outbox_withdraw(outbox, 2, u8("still wrong"), 11));
    CHECK_RC(medseal_outbox_discard(outbox, 2, u8(" "), 1), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_outbox_discard(outbox, 2, u8("\xff"), 1), MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_RC(medseal_outbox_discard(outbox, 2, NULL, 0), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_discard(NULL, 2, u8("x"), 1), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_discard(outbox, 999, u8("x"), 1), MEDSEAL_OUTBOX_NOT_FOUND);
    CHECK_OK(medseal_outbox_discard(outbox, 2, u8("kept on paper"), 13));
    CHECK_RC(medseal_outbox_discard(outbox, 2, u8("again"), 5), MEDSEAL_OUTBOX_STATE);
    CHECK_RC(medseal_outbox_dead_letter_count(NULL, &count), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_dead_letter_count(outbox, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_OK(medseal_outbox_dead_letter_count(outbox, &count));
    CHECK(count == 0);

    medseal_outbox_status *status = NULL;
    REQUIRE_OK(medseal_outbox_get_status(outbox, &status));
    CHECK_OK(medseal_outbox_status_discarded(status, &count));
    CHECK(count == 1);
    CHECK_OK(medseal_outbox_status_queued(status, &count));
    CHECK(count == 2);
    medseal_outbox_status_free(status);
    medseal_outbox_free(outbox);
}

static void test_backup(medseal_recipient_key *hub) {
    medseal_outbox *outbox = open_outbox("outbox.sqlite", &hub, 1);
    char path[128];
    in_dir(path, sizeof path, "backup.sqlite");
    CHECK_RC(medseal_outbox_backup(NULL, u8(path), strlen(path)), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_backup(outbox, NULL, 0), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_backup(outbox, u8(path), 0), MEDSEAL_INVALID_ARGUMENT);
    CHECK_OK(medseal_outbox_backup(outbox, u8(path), strlen(path)));
    CHECK_RC(medseal_outbox_backup(outbox, u8(path), strlen(path)), MEDSEAL_OUTBOX_IO);
    CHECK_ERROR_CONTAINS("already exists");

    medseal_outbox *copy = open_outbox("backup.sqlite", &hub, 1);
    medseal_outbox_status *status = NULL;
    uint64_t next = 0, discarded = 0;
    REQUIRE_OK(medseal_outbox_get_status(copy, &status));
    CHECK_OK(medseal_outbox_status_next_sequence(status, &next));
    CHECK_OK(medseal_outbox_status_discarded(status, &discarded));
    CHECK(next == 4 && discarded == 1);
    medseal_outbox_status_free(status);
    medseal_outbox_free(copy);
    medseal_outbox_free(outbox);
}

struct worker {
    const medseal_outbox *shared; /* NULL: open an own handle on the same file */
    medseal_recipient_key *hub;
    int index;
    uint64_t sequences[PER_THREAD];
    int failures;
};

static void *enqueue_many(void *arg) {
    struct worker *w = (struct worker *)arg;
    medseal_outbox *own = NULL;
    const medseal_outbox *outbox = w->shared;
    if (outbox == NULL) {
        char path[128];
        in_dir(path, sizeof path, "threads.sqlite");
        const medseal_recipient_key *keys[1] = {w->hub};
        if (medseal_outbox_open(u8(path), strlen(path), u8(SOURCE), strlen(SOURCE), keys, 1, &own) != MEDSEAL_OK) {
            w->failures++;
            return NULL;
        }
        outbox = own;
    }
    for (int n = 0; n < PER_THREAD; n++) {
        char id[32];
        snprintf(id, sizeof id, "t%d-%s-%d", w->index, w->shared == NULL ? "own" : "shared", n);
        medseal_local_receipt *receipt = NULL;
        if (medseal_outbox_enqueue_signed(outbox, u8(id), strlen(id), u8(SIGNED_1), strlen(SIGNED_1), &receipt) != MEDSEAL_OK ||
            medseal_local_receipt_sequence(receipt, &w->sequences[n]) != MEDSEAL_OK) {
            w->failures++;
        }
        medseal_local_receipt_free(receipt);
    }
    medseal_outbox_free(own);
    return NULL;
}

/* Threads through one shared handle, then threads each with their own handle (connection) on
 * the same file: every number from 1 to 2 * THREADS * PER_THREAD exactly once. */
static void test_threads(medseal_recipient_key *hub) {
    medseal_outbox *shared = open_outbox("threads.sqlite", &hub, 1);
    struct worker workers[2 * THREADS];
    pthread_t threads[2 * THREADS];
    for (int i = 0; i < 2 * THREADS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].shared = i < THREADS ? shared : NULL;
        workers[i].hub = hub;
        workers[i].index = i;
        CHECK(pthread_create(&threads[i], NULL, enqueue_many, &workers[i]) == 0);
    }
    int seen[2 * THREADS * PER_THREAD + 1] = {0};
    int failures = 0;
    for (int i = 0; i < 2 * THREADS; i++) {
        pthread_join(threads[i], NULL);
        failures += workers[i].failures;
        for (int n = 0; n < PER_THREAD; n++) {
            uint64_t s = workers[i].sequences[n];
            if (s >= 1 && s <= 2 * THREADS * PER_THREAD) {
                seen[s]++;
            }
        }
    }
    CHECK(failures == 0);
    int exactly_once = 1;
    for (int s = 1; s <= 2 * THREADS * PER_THREAD; s++) {
        exactly_once &= seen[s] == 1;
    }
    CHECK(exactly_once);
    medseal_outbox_status *status = NULL;
    uint64_t next = 0;
    REQUIRE_OK(medseal_outbox_get_status(shared, &status));
    CHECK_OK(medseal_outbox_status_next_sequence(status, &next));
    CHECK(next == 2 * THREADS * PER_THREAD + 1);
    medseal_outbox_status_free(status);
    medseal_outbox_free(shared);
}

static void remove_files(void) {
    const char *names[] = {"outbox.sqlite", "empty.sqlite", "backup.sqlite", "threads.sqlite", "checked.sqlite", "notes.txt"};
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[160];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (size_t j = 0; j < sizeof suffixes / sizeof suffixes[0]; j++) {
            snprintf(path, sizeof path, "%s/%s%s", dir, names[i], suffixes[j]);
            unlink(path);
        }
    }
    rmdir(dir);
}

/* A record signed for real by `key` (flattened JWS). */
static medseal_buffer *signed_by(const medseal_key *key, const char *document) {
    medseal_signer_builder *builder = NULL;
    medseal_signer *signer = NULL;
    medseal_buffer *out = NULL;
    REQUIRE_OK(medseal_signer_builder_new(key, &builder));
    REQUIRE_OK(medseal_signer_builder_build(builder, &signer));
    REQUIRE_OK(medseal_signer_sign(signer, u8(document), strlen(document), MEDSEAL_JWS_FLATTENED, &out));
    medseal_signer_free(signer);
    medseal_signer_builder_free(builder);
    return out;
}

/* Issue 10, point 10: an outbox opened with the facility's signing keys verifies each record
 * before it takes a number; refusals use none. Also the record-only verifier. */
static void test_signing_keys(medseal_recipient_key *hub) {
    medseal_key *own = NULL, *other = NULL;
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &own));
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &other));
    const medseal_key *keys[] = {own};
    const medseal_recipient_key *recipients[] = {hub};
    char path[128];
    in_dir(path, sizeof path, "checked.sqlite");
    medseal_outbox *outbox = NULL;
    CHECK_RC(medseal_outbox_open_with_signing_keys(u8(path), strlen(path), u8(SOURCE), strlen(SOURCE), recipients, 1, NULL, 1, &outbox),
             MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_open_with_signing_keys(u8(path), strlen(path), u8(SOURCE), strlen(SOURCE), recipients, 1, keys, 0, &outbox),
             MEDSEAL_INVALID_ARGUMENT);
    const medseal_key *null_key[] = {NULL};
    CHECK_RC(medseal_outbox_open_with_signing_keys(u8(path), strlen(path), u8(SOURCE), strlen(SOURCE), recipients, 1, null_key, 1, &outbox),
             MEDSEAL_NULL_ARGUMENT);
    REQUIRE_OK(medseal_outbox_open_with_signing_keys(u8(path), strlen(path), u8(SOURCE), strlen(SOURCE), recipients, 1, keys, 1, &outbox));

    medseal_buffer *foreign = signed_by(other, "{\"id\":\"x\"}");
    medseal_local_receipt *receipt = NULL;
    CHECK_RC(medseal_outbox_enqueue_signed(outbox, u8("r-foreign"), 9, medseal_buffer_data(foreign), medseal_buffer_len(foreign), &receipt),
             MEDSEAL_JWS_SIGNATURE_INVALID);
    CHECK(receipt == NULL);
    /* The made-up signature of SIGNED_1 has the form of a record but no valid signature. */
    CHECK_RC(medseal_outbox_enqueue_signed(outbox, u8("r-made-up"), 9, u8(SIGNED_1), strlen(SIGNED_1), &receipt), MEDSEAL_JWS_SIGNATURE_INVALID);
    CHECK_RC(medseal_outbox_enqueue_signed(outbox, u8("r-plain"), 7, u8("{\"id\":1}"), 8, &receipt), MEDSEAL_JWS_MALFORMED);
    medseal_buffer *own_record = signed_by(own, "{\"id\":\"y\"}");
    REQUIRE_OK(medseal_outbox_enqueue_signed(outbox, u8("r-own"), 5, medseal_buffer_data(own_record), medseal_buffer_len(own_record), &receipt));
    CHECK(sequence_of(receipt) == 1); /* no refusal used a number */
    int64_t own_id = id_of(receipt);
    medseal_local_receipt_free(receipt);

    /* A signed withdrawal (tombstone) queued in the record's place: by the facility's key only,
     * once, with a reason. */
    medseal_signer_builder *sb = NULL;
    medseal_signer *own_signer = NULL, *other_signer = NULL;
    REQUIRE_OK(medseal_signer_builder_new(own, &sb));
    REQUIRE_OK(medseal_signer_builder_build(sb, &own_signer));
    medseal_signer_builder_free(sb);
    REQUIRE_OK(medseal_signer_builder_new(other, &sb));
    REQUIRE_OK(medseal_signer_builder_build(sb, &other_signer));
    medseal_signer_builder_free(sb);
    const char *why = "entered for the wrong patient";
    CHECK_RC(medseal_outbox_withdraw_signed(outbox, own_id, u8(why), strlen(why), NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_outbox_withdraw_signed(outbox, own_id, u8(""), 0, own_signer), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_outbox_withdraw_signed(outbox, own_id, u8(why), strlen(why), other_signer), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_outbox_withdraw_signed(outbox, 999, u8(why), strlen(why), own_signer), MEDSEAL_OUTBOX_NOT_FOUND);
    REQUIRE_OK(medseal_outbox_withdraw_signed(outbox, own_id, u8(why), strlen(why), own_signer));
    CHECK_RC(medseal_outbox_withdraw_signed(outbox, own_id, u8(why), strlen(why), own_signer), MEDSEAL_OUTBOX_STATE);
    medseal_outbox_status *status = NULL;
    uint64_t queued = 0;
    REQUIRE_OK(medseal_outbox_get_status(outbox, &status));
    REQUIRE_OK(medseal_outbox_status_queued(status, &queued));
    CHECK(queued == 1); /* the tombstone waits for delivery in the record's place */
    medseal_outbox_status_free(status);
    medseal_signer_free(own_signer);
    medseal_signer_free(other_signer);

    /* A record verifier takes records, not any JWS: a trust list validly signed by the same key
     * verifies as a JWS, and is refused as a record. */
    const char *list_json = "{\"type\":\"medseal-trust-list\",\"version\":1,\"issuer\":\"T\",\"sequence\":1,"
                            "\"issued\":\"2026-01-01T00:00:00Z\",\"expires\":\"2027-01-01T00:00:00Z\",\"entries\":[]}";
    medseal_buffer *list = NULL;
    REQUIRE_OK(medseal_trust_list_sign(u8(list_json), strlen(list_json), own, &list));
    medseal_verifier_builder *vb = NULL;
    medseal_verifier *verifier = NULL;
    medseal_verified *verified = NULL;
    REQUIRE_OK(medseal_verifier_builder_new(&vb));
    REQUIRE_OK(medseal_verifier_builder_add_key(vb, own));
    REQUIRE_OK(medseal_verifier_builder_build(vb, &verifier));
    REQUIRE_OK(medseal_verifier_verify_record(verifier, medseal_buffer_data(own_record), medseal_buffer_len(own_record), &verified));
    medseal_verified_free(verified);
    verified = NULL;
    REQUIRE_OK(medseal_verifier_verify(verifier, medseal_buffer_data(list), medseal_buffer_len(list), &verified));
    medseal_verified_free(verified);
    verified = NULL;
    CHECK_RC(medseal_verifier_verify_record(verifier, medseal_buffer_data(list), medseal_buffer_len(list), &verified), MEDSEAL_JWS_HEADER);
    medseal_buffer_free(list);
    CHECK_RC(medseal_verifier_verify_record(NULL, u8(NO_SIGT), strlen(NO_SIGT), &verified), MEDSEAL_NULL_ARGUMENT);
    CHECK(verified == NULL);

    medseal_verifier_free(verifier);
    medseal_verifier_builder_free(vb);
    medseal_buffer_free(own_record);
    medseal_buffer_free(foreign);
    medseal_outbox_free(outbox);
    medseal_key_free(own);
    medseal_key_free(other);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/medseal-c-outbox-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    medseal_recipient_key *hub = NULL, *archive = NULL;
    REQUIRE_OK(medseal_recipient_key_generate(&hub));
    REQUIRE_OK(medseal_recipient_key_generate(&archive));
    test_open_refusals(hub);
    test_enqueue_and_receipts(hub, archive);
    test_status(hub);
    test_dead_letters(hub);
    test_backup(hub);
    test_threads(hub);
    test_signing_keys(hub);
    medseal_recipient_key_free(hub);
    medseal_recipient_key_free(archive);
    remove_files();
    return check_summary();
}
