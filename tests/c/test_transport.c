/*
 * medseal C ABI: transport to the hub. The configuration builder and its errors (plain HTTP,
 * missing client certificate, key or hub keys, bad PEM, bad values, NULL arguments), then real
 * deliveries over mutual TLS to the reference hub that tests/c/run.sh starts on 127.0.0.1
 * (`medseal hub init`, `facility init` + `hub enroll`, `hub serve`), announced by
 * MEDSEAL_TEST_HUB_URL, MEDSEAL_TEST_FACILITY_DIR and MEDSEAL_TEST_FACILITY; each outbox that
 * delivers enrols its own facility on that hub (MEDSEAL_TEST_HUB_DIR, MEDSEAL_CLI), since every
 * outbox numbers its records from 1 and the hub refuses a sequence number it already holds
 * (SEQUENCE_REUSED). One call (medseal_outbox_deliver) and
 * the background deliverer; the hub's receipts read back from the outbox
 * (medseal_outbox_get_receipt) and verified again; the report's duplicate and dead-letter counts
 * with values other than 0 (an outbox copy delivered again, records the hub refuses); a hub that is down (records stay queued, the
 * reason is given, no receipt);
 * a server certificate of another CA (MEDSEAL_TRANSPORT_TLS, "unknown CA"); the TLS client key
 * on the SoftHSM2 token of the fixtures (made by `facility init --tls-pkcs11-*`, opened with
 * medseal_transport_builder_set_client_key_pkcs11).
 */
#define _POSIX_C_SOURCE 200809L

#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "medseal.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static const uint8_t *u8(const char *s) {
    return (const uint8_t *)s;
}

/* Reads a whole file (at most 1 MiB) into a malloc'd buffer; stops the program if it cannot. */
static uint8_t *read_path(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "FATAL: cannot open %s\n", path);
        exit(2);
    }
    uint8_t *data = (uint8_t *)malloc(1 << 20);
    if (data == NULL) {
        abort();
    }
    *len = fread(data, 1, 1 << 20, f);
    fclose(f);
    return data;
}

static uint8_t *read_file(const char *dir, const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return read_path(path, len);
}

static medseal_transport_builder *new_builder(const char *url) {
    medseal_transport_builder *b = NULL;
    REQUIRE_OK(medseal_transport_builder_new(u8(url), strlen(url), &b));
    return b;
}

static uint64_t report_count(const medseal_delivery_report *r, medseal_result (*get)(const medseal_delivery_report *, uint64_t *)) {
    uint64_t n = UINT64_MAX;
    CHECK_OK(get(r, &n));
    return n;
}

/* The report's last error: its code, and whether its message contains `needle`. */
static void check_report_error(const medseal_delivery_report *r, medseal_result want, const char *needle) {
    medseal_result code = MEDSEAL_PANIC;
    const uint8_t *message = NULL;
    size_t len = SENTINEL_LEN;
    CHECK_OK(medseal_delivery_report_last_error(r, &code, &message, &len));
    CHECK_RC(code, want);
    if (needle != NULL) {
        CHECK_CONTAINS(message, len, needle);
    } else {
        CHECK(len == 0);
    }
}

static uint64_t delivered_in_outbox(const medseal_outbox *outbox) {
    medseal_outbox_status *status = NULL;
    uint64_t n = 0;
    REQUIRE_OK(medseal_outbox_get_status(outbox, &status));
    CHECK_OK(medseal_outbox_status_delivered(status, &n));
    medseal_outbox_status_free(status);
    return n;
}

/* ---- configuration ------------------------------------------------------------------------ */

static void test_config_errors(void) {
    medseal_transport_builder *b = (medseal_transport_builder *)SENTINEL_PTR;
    /* Plain HTTP is refused, and nothing turns TLS verification off. */
    CHECK_RC(medseal_transport_builder_new(u8("http://127.0.0.1:8443"), 21, &b), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_ERROR_CONTAINS("plain HTTP");
    CHECK(b == (medseal_transport_builder *)SENTINEL_PTR);
    CHECK_RC(medseal_transport_builder_new(u8("hub.example"), 11, &b), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_RC(medseal_transport_builder_new(NULL, 0, &b), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_transport_builder_new(u8("https://hub.example"), 19, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_transport_builder_new(u8("https://\xff"), 9, &b), MEDSEAL_INVALID_UTF8_ARGUMENT);

    b = new_builder("https://hub.example:8443/base/");
    medseal_transport *t = (medseal_transport *)SENTINEL_PTR;
    CHECK_RC(medseal_transport_builder_build(b, &t), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_ERROR_CONTAINS("no client certificate");
    CHECK(t == (medseal_transport *)SENTINEL_PTR);

    CHECK_RC(medseal_transport_builder_set_client_certificate(b, u8("garbage"), 7), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_ERROR_CONTAINS("no PEM CERTIFICATE");
    CHECK_RC(medseal_transport_builder_set_client_key(b, u8("garbage"), 7), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_ERROR_CONTAINS("no PEM PRIVATE KEY");
    CHECK_RC(medseal_transport_builder_set_hub_ca(b, u8("garbage"), 7), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_RC(medseal_transport_builder_set_client_certificate(b, NULL, 0), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_transport_builder_set_client_key(NULL, u8("x"), 1), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_transport_builder_set_receipt_key(b, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_transport_builder_set_tree_head_key(b, NULL), MEDSEAL_NULL_ARGUMENT);

    CHECK_RC(medseal_transport_builder_set_batch_size(b, 0), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_ERROR_CONTAINS("1 to 1000");
    CHECK_RC(medseal_transport_builder_set_batch_size(b, 1001), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_OK(medseal_transport_builder_set_batch_size(b, 50));
    CHECK_RC(medseal_transport_builder_set_timeout_ms(b, 0), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_OK(medseal_transport_builder_set_timeout_ms(b, 20000));
    CHECK_RC(medseal_transport_builder_set_connect_timeout_ms(b, 0), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_OK(medseal_transport_builder_set_connect_timeout_ms(b, 5000));
    CHECK_RC(medseal_transport_builder_set_proxy(b, u8("socks5://127.0.0.1:1080"), 23), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_ERROR_CONTAINS("only HTTP CONNECT proxies");
    CHECK_OK(medseal_transport_builder_set_proxy(b, u8("http://proxy.local:3128"), 23));
    CHECK_RC(medseal_transport_builder_set_proxy_from_env(b, 2), MEDSEAL_INVALID_ARGUMENT);
    CHECK_OK(medseal_transport_builder_set_proxy_from_env(b, 0));
    CHECK_RC(medseal_transport_builder_set_public_roots(b, 7), MEDSEAL_INVALID_ARGUMENT);
    CHECK_OK(medseal_transport_builder_set_public_roots(b, 0));
    CHECK_RC(medseal_transport_builder_set_facility_dir(b, u8("/nonexistent/facility"), 21), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_ERROR_CONTAINS("client.pem");
    medseal_transport_builder_free(b);

    /* NULL handles are no-ops for the functions that cannot fail. */
    medseal_transport_builder_free(NULL);
    medseal_transport_free(NULL);
    medseal_delivery_report_free(NULL);
    medseal_deliverer_notify(NULL);
    medseal_deliverer_stop(NULL);
    medseal_deliverer_free(NULL);
    medseal_delivery_report *r = (medseal_delivery_report *)SENTINEL_PTR;
    CHECK_RC(medseal_outbox_deliver(NULL, NULL, &r), MEDSEAL_NULL_ARGUMENT);
    CHECK(r == (medseal_delivery_report *)SENTINEL_PTR);
    uint64_t n = 0;
    CHECK_RC(medseal_delivery_report_delivered(NULL, &n), MEDSEAL_NULL_ARGUMENT);
    medseal_deliverer *d = (medseal_deliverer *)SENTINEL_PTR;
    CHECK_RC(medseal_deliverer_start(NULL, NULL, 1000, &d), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_deliverer_last_report(NULL, &r), MEDSEAL_NULL_ARGUMENT);
}

/* ---- delivery to the real hub --------------------------------------------------------------- */

struct pilot {
    const char *url;
    const char *dir;
    const char *facility;
    medseal_signer *signer;
    medseal_recipient_key *hub_recipient;
    char run_id[64];
    int next_record;
    char enrolled_dir[512]; /* dir and facility of the last enrol() */
    char enrolled_facility[128];
};

/* Loads the facility's signer (signing.key) and the hub's recipient key from p->dir. */
static void load_facility(struct pilot *p) {
    medseal_signer_free(p->signer);
    medseal_recipient_key_free(p->hub_recipient);
    size_t len = 0;
    uint8_t *pem = read_file(p->dir, "signing.key", &len);
    medseal_key *key = NULL;
    REQUIRE_OK(medseal_key_import(pem, len, MEDSEAL_ALG_FROM_KEY, &key));
    free(pem);
    medseal_signer_builder *sb = NULL;
    REQUIRE_OK(medseal_signer_builder_new(key, &sb));
    REQUIRE_OK(medseal_signer_builder_build(sb, &p->signer));
    medseal_signer_builder_free(sb);
    medseal_key_free(key);
    pem = read_file(p->dir, "hub-recipient.pub", &len);
    REQUIRE_OK(medseal_recipient_key_import(pem, len, &p->hub_recipient));
    free(pem);
}

/* Runs the medseal CLI with `args` (NULL-terminated, args[0] unused); stops the program if it fails. */
extern char **environ;
static void run_cli(char **args) {
    char *cli = getenv("MEDSEAL_CLI");
    if (cli == NULL) {
        fprintf(stderr, "FATAL: MEDSEAL_CLI is not set: run tests/c/run.sh\n");
        exit(2);
    }
    args[0] = cli;
    pid_t pid;
    int status = 0;
    if (posix_spawn(&pid, cli, NULL, NULL, args, environ) != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FATAL: %s %s %s failed\n", cli, args[1], args[2]);
        exit(2);
    }
}

/* Enrols a new facility `c-<run>-<name>` on the running hub as a hospital and the hub's operator
 * do: the hospital makes its keys (`medseal facility init`), the hub enrols only the public parts
 * (`medseal hub enroll --signing-key signing.pub --csr client.csr`); the hub sees it at its next
 * batch. Every outbox numbers its records from 1 and the hub refuses a facility's sequence number
 * it already holds (SEQUENCE_REUSED), so each outbox delivered here gets its own facility. */
static void enrol(struct pilot *p, const char *name) {
    const char *hub_dir = getenv("MEDSEAL_TEST_HUB_DIR"), *outboxes = getenv("MEDSEAL_TEST_OUTBOX_DIR");
    if (hub_dir == NULL || outboxes == NULL) {
        fprintf(stderr, "FATAL: MEDSEAL_TEST_HUB_DIR and MEDSEAL_TEST_OUTBOX_DIR are not set: run tests/c/run.sh\n");
        exit(2);
    }
    snprintf(p->enrolled_facility, sizeof p->enrolled_facility, "c-%s-%s", p->run_id, name);
    snprintf(p->enrolled_dir, sizeof p->enrolled_dir, "%s/%s", outboxes, p->enrolled_facility);
    char signing_pub[600], csr[600];
    snprintf(signing_pub, sizeof signing_pub, "%s/signing.pub", p->enrolled_dir);
    snprintf(csr, sizeof csr, "%s/client.csr", p->enrolled_dir);
    char *init[] = {NULL, "facility", "init", "--facility", p->enrolled_facility, "--dir", p->enrolled_dir, NULL};
    run_cli(init);
    char *enroll[] = {NULL, "hub", "enroll", "--dir", (char *)hub_dir, "--facility", p->enrolled_facility,
                      "--signing-key", signing_pub, "--csr", csr, "--out", p->enrolled_dir, NULL};
    run_cli(enroll);
    p->dir = p->enrolled_dir;
    p->facility = p->enrolled_facility;
    load_facility(p);
}

static medseal_transport *transport_for(const struct pilot *p, const char *url, const char *ca_pem_path) {
    medseal_transport_builder *b = new_builder(url);
    REQUIRE_OK(medseal_transport_builder_set_facility_dir(b, u8(p->dir), strlen(p->dir)));
    CHECK_OK(medseal_transport_builder_set_connect_timeout_ms(b, 3000));
    CHECK_OK(medseal_transport_builder_set_timeout_ms(b, 10000));
    CHECK_OK(medseal_transport_builder_set_batch_size(b, 4));
    if (ca_pem_path != NULL) {
        size_t len = 0;
        uint8_t *ca = read_path(ca_pem_path, &len);
        CHECK_OK(medseal_transport_builder_set_hub_ca(b, ca, len));
        free(ca);
    }
    medseal_transport *t = NULL;
    REQUIRE_OK(medseal_transport_builder_build(b, &t));
    medseal_transport_builder_free(b); /* the transport keeps what it needs */
    return t;
}

static medseal_outbox *open_outbox(const struct pilot *p, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s-%s.sqlite", getenv("MEDSEAL_TEST_OUTBOX_DIR") ? getenv("MEDSEAL_TEST_OUTBOX_DIR") : "/tmp",
             p->run_id, name);
    const medseal_recipient_key *recipients[1] = {p->hub_recipient};
    medseal_outbox *outbox = NULL;
    REQUIRE_OK(medseal_outbox_open(u8(path), strlen(path), u8(p->facility), strlen(p->facility), recipients, 1, &outbox));
    return outbox;
}

/* The id of the `n`th record of this run. */
static void record_id(const struct pilot *p, int n, char *id, size_t cap) {
    snprintf(id, cap, "%s-obs-%d", p->run_id, n);
}

/* Signs and enqueues `n` records with ids unique to this run (the asan and valgrind runs share
 * the hub); with `digests`, writes each record's envelope digest there. */
static void enqueue_digests(struct pilot *p, const medseal_outbox *outbox, int n, uint8_t (*digests)[32]) {
    for (int i = 0; i < n; i++) {
        char id[128], doc[256];
        record_id(p, p->next_record++, id, sizeof id);
        snprintf(doc, sizeof doc, "{\"resourceType\":\"Observation\",\"id\":\"%s\",\"status\":\"final\"}", id);
        medseal_buffer *jws = NULL;
        REQUIRE_OK(medseal_signer_sign(p->signer, u8(doc), strlen(doc), MEDSEAL_JWS_FLATTENED, &jws));
        medseal_local_receipt *receipt = NULL;
        REQUIRE_OK(medseal_outbox_enqueue_signed(outbox, u8(id), strlen(id), medseal_buffer_data(jws), medseal_buffer_len(jws), &receipt));
        if (digests != NULL) {
            size_t written = 0;
            CHECK_OK(medseal_local_receipt_digest(receipt, digests[i], 32, &written));
            CHECK(written == 32);
        }
        medseal_local_receipt_free(receipt);
        medseal_buffer_free(jws);
    }
}

static void enqueue(struct pilot *p, const medseal_outbox *outbox, int n) {
    enqueue_digests(p, outbox, n, NULL);
}

static medseal_key *facility_key(const struct pilot *p, const char *name) {
    size_t len = 0;
    uint8_t *pem = read_file(p->dir, name, &len);
    medseal_key *key = NULL;
    REQUIRE_OK(medseal_key_import(pem, len, MEDSEAL_ALG_FROM_KEY, &key));
    free(pem);
    return key;
}

/* The hub's receipt of record `n`, read back from the outbox (medseal_outbox_get_receipt), verifies
 * with the hub's keys for this facility, the record id and the envelope digest. */
static void check_kept_receipt(const struct pilot *p, const medseal_outbox *outbox, int n, const uint8_t digest[32],
                               const medseal_key *receipt_key, const medseal_key *tree_head_key) {
    char id[128];
    record_id(p, n, id, sizeof id);
    medseal_buffer *receipt = NULL, *proof = NULL;
    if (!CHECK_OK(medseal_outbox_get_receipt(outbox, u8(id), strlen(id), &receipt, &proof))) {
        return;
    }
    CHECK(medseal_buffer_len(receipt) > 100 && medseal_buffer_data(receipt)[0] == 'e'); /* a compact JWS: base64url of "{" */
    CHECK(medseal_buffer_len(proof) > 0);
    char *digest_text = b64url(digest, 32);
    medseal_receipt *checked = NULL;
    CHECK_OK(medseal_receipt_verify(medseal_buffer_data(receipt), medseal_buffer_len(receipt), medseal_buffer_data(proof),
                                    medseal_buffer_len(proof), receipt_key, tree_head_key, u8(p->facility), strlen(p->facility),
                                    u8(id), strlen(id), u8(digest_text), strlen(digest_text), &checked));
    if (CHECK(checked != NULL)) {
        const uint8_t *data = NULL;
        size_t len = 0;
        CHECK_OK(medseal_receipt_record_id(checked, &data, &len));
        CHECK_MEM(data, len, id);
    }
    medseal_receipt_free(checked);
    /* Another record's receipt is refused for this one. */
    char other[128];
    record_id(p, n + 1, other, sizeof other);
    checked = (medseal_receipt *)SENTINEL_PTR;
    CHECK_RC(medseal_receipt_verify(medseal_buffer_data(receipt), medseal_buffer_len(receipt), medseal_buffer_data(proof),
                                    medseal_buffer_len(proof), receipt_key, tree_head_key, u8(p->facility), strlen(p->facility),
                                    u8(other), strlen(other), u8(digest_text), strlen(digest_text), &checked),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    CHECK(checked == (medseal_receipt *)SENTINEL_PTR);
    free(digest_text);
    medseal_buffer_free(receipt);
    medseal_buffer_free(proof);
}

static void test_deliver_once(struct pilot *p) {
    enrol(p, "once");
    medseal_transport *t = transport_for(p, p->url, NULL);
    medseal_outbox *outbox = open_outbox(p, "once");
    int first = p->next_record;
    uint8_t digests[6][32];
    enqueue_digests(p, outbox, 6, digests);
    /* Not delivered yet: no receipt to read back, and nothing written. */
    char id[128];
    record_id(p, first, id, sizeof id);
    medseal_buffer *receipt = (medseal_buffer *)SENTINEL_PTR, *proof = (medseal_buffer *)SENTINEL_PTR;
    CHECK_RC(medseal_outbox_get_receipt(outbox, u8(id), strlen(id), &receipt, &proof), MEDSEAL_OUTBOX_STATE);
    CHECK_ERROR_CONTAINS("only a delivered record");
    CHECK(receipt == (medseal_buffer *)SENTINEL_PTR && proof == (medseal_buffer *)SENTINEL_PTR);
    medseal_delivery_report *r = NULL;
    REQUIRE_OK(medseal_outbox_deliver(outbox, t, &r));
    CHECK(report_count(r, medseal_delivery_report_delivered) == 6);
    CHECK(report_count(r, medseal_delivery_report_duplicates) == 0);
    CHECK(report_count(r, medseal_delivery_report_dead_letters) == 0);
    CHECK(report_count(r, medseal_delivery_report_retried) == 0);
    check_report_error(r, MEDSEAL_OK, NULL);
    uint32_t present = 9;
    int64_t at = -1;
    CHECK_OK(medseal_delivery_report_next_attempt_at(r, &present, &at));
    CHECK(present == 0 && at == 0);
    CHECK_RC(medseal_delivery_report_next_attempt_at(r, NULL, &at), MEDSEAL_NULL_ARGUMENT);
    medseal_delivery_report_free(r);
    CHECK(delivered_in_outbox(outbox) == 6);

    /* Each record's receipt and inclusion proof, read back from the outbox, verify again. */
    medseal_key *receipt_key = facility_key(p, "receipt.pub"), *tree_head_key = facility_key(p, "tree-head.pub");
    for (int i = 0; i < 6; i++) {
        check_kept_receipt(p, outbox, first + i, digests[i], receipt_key, tree_head_key);
    }
    medseal_key_free(receipt_key);
    medseal_key_free(tree_head_key);

    /* Nothing left: another run delivers nothing. */
    REQUIRE_OK(medseal_outbox_deliver(outbox, t, &r));
    CHECK(report_count(r, medseal_delivery_report_delivered) == 0);
    medseal_delivery_report_free(r);
    medseal_outbox_free(outbox);
    medseal_transport_free(t);
}

/* The duplicate and dead-letter counts, by value: a copy of an outbox (medseal_outbox_backup)
 * taken before delivery sends the same envelopes again, and the hub answers DUPLICATE with its
 * original receipts (counted as delivered and as duplicates); records signed by a key the hub
 * does not know for this facility are refused one by one and become dead letters, the others
 * of the batch are delivered. */
static void test_duplicates_and_dead_letters(struct pilot *p) {
    enrol(p, "dup");
    medseal_transport *t = transport_for(p, p->url, NULL);
    medseal_outbox *outbox = open_outbox(p, "dup");
    enqueue(p, outbox, 3);
    char copy[512];
    snprintf(copy, sizeof copy, "%s/%s-dup-copy.sqlite", getenv("MEDSEAL_TEST_OUTBOX_DIR") ? getenv("MEDSEAL_TEST_OUTBOX_DIR") : "/tmp",
             p->run_id);
    REQUIRE_OK(medseal_outbox_backup(outbox, u8(copy), strlen(copy)));
    medseal_delivery_report *r = NULL;
    REQUIRE_OK(medseal_outbox_deliver(outbox, t, &r));
    CHECK(report_count(r, medseal_delivery_report_delivered) == 3);
    CHECK(report_count(r, medseal_delivery_report_duplicates) == 0);
    medseal_delivery_report_free(r);
    medseal_outbox_free(outbox);

    const medseal_recipient_key *recipients[1] = {p->hub_recipient};
    medseal_outbox *again = NULL;
    REQUIRE_OK(medseal_outbox_open(u8(copy), strlen(copy), u8(p->facility), strlen(p->facility), recipients, 1, &again));
    REQUIRE_OK(medseal_outbox_deliver(again, t, &r));
    CHECK(report_count(r, medseal_delivery_report_delivered) == 3);
    CHECK(report_count(r, medseal_delivery_report_duplicates) == 3);
    CHECK(report_count(r, medseal_delivery_report_dead_letters) == 0);
    CHECK(report_count(r, medseal_delivery_report_retried) == 0);
    check_report_error(r, MEDSEAL_OK, NULL);
    medseal_delivery_report_free(r);
    CHECK(delivered_in_outbox(again) == 3);
    medseal_outbox_free(again);
    unlink(copy);

    /* Two records signed by a stranger's key between two good ones: 2 dead letters, 2 delivered. */
    medseal_key *stranger_key = NULL;
    REQUIRE_OK(medseal_key_generate(MEDSEAL_ALG_EDDSA, &stranger_key));
    medseal_signer_builder *sb = NULL;
    REQUIRE_OK(medseal_signer_builder_new(stranger_key, &sb));
    medseal_signer *stranger = NULL;
    REQUIRE_OK(medseal_signer_builder_build(sb, &stranger));
    medseal_signer_builder_free(sb);
    medseal_key_free(stranger_key);
    medseal_transport_free(t);
    enrol(p, "dead"); /* a new outbox: its own facility, so that only the stranger's records are refused */
    t = transport_for(p, p->url, NULL);
    outbox = open_outbox(p, "dead");
    enqueue(p, outbox, 1);
    medseal_signer *own = p->signer;
    p->signer = stranger;
    enqueue(p, outbox, 2);
    p->signer = own;
    enqueue(p, outbox, 1);
    REQUIRE_OK(medseal_outbox_deliver(outbox, t, &r));
    CHECK(report_count(r, medseal_delivery_report_delivered) == 2);
    CHECK(report_count(r, medseal_delivery_report_duplicates) == 0);
    CHECK(report_count(r, medseal_delivery_report_dead_letters) == 2);
    CHECK(report_count(r, medseal_delivery_report_retried) == 0);
    check_report_error(r, MEDSEAL_OK, NULL); /* a per-record refusal is not a transport error */
    medseal_delivery_report_free(r);
    uint64_t dead = 0;
    CHECK_OK(medseal_outbox_dead_letter_count(outbox, &dead));
    CHECK(dead == 2);
    CHECK(delivered_in_outbox(outbox) == 2);
    medseal_outbox_free(outbox);
    medseal_signer_free(stranger);
    medseal_transport_free(t);
}

static void test_deliverer(struct pilot *p) {
    enrol(p, "background");
    medseal_transport *t = transport_for(p, p->url, NULL);
    medseal_outbox *outbox = open_outbox(p, "background");
    medseal_deliverer *d = NULL;
    /* A long poll interval: notify() is what makes it deliver quickly. */
    REQUIRE_OK(medseal_deliverer_start(outbox, t, 3600 * 1000, &d));
    /* The deliverer holds its own references. */
    medseal_transport_free(t);
    for (int round = 1; round <= 2; round++) {
        enqueue(p, outbox, 3);
        medseal_deliverer_notify(d);
        int waited = 0;
        while (delivered_in_outbox(outbox) < (uint64_t)(3 * round) && waited < 30000) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            waited += 20;
        }
        CHECK(delivered_in_outbox(outbox) == (uint64_t)(3 * round));
    }
    medseal_delivery_report *r = NULL;
    CHECK_OK(medseal_deliverer_last_report(d, &r));
    check_report_error(r, MEDSEAL_OK, NULL);
    medseal_delivery_report_free(r);
    medseal_deliverer_stop(d);
    medseal_deliverer_stop(d); /* a second stop does nothing */
    medseal_deliverer_free(d);
    medseal_outbox_free(outbox);
}

/* Unix seconds from CLOCK_REALTIME, the clock the library reads: glibc's time() reads the
 * coarse clock, which can still show the previous second when the library already sees the
 * next one. */
static int64_t unix_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

static void test_hub_down(struct pilot *p) {
    /* Port 1 on loopback: nothing listens there. */
    medseal_transport *t = transport_for(p, "https://127.0.0.1:1", NULL);
    medseal_outbox *outbox = open_outbox(p, "down");
    enqueue(p, outbox, 2);
    int64_t before = unix_now();
    medseal_delivery_report *r = NULL;
    REQUIRE_OK(medseal_outbox_deliver(outbox, t, &r));
    CHECK(report_count(r, medseal_delivery_report_delivered) == 0);
    CHECK(report_count(r, medseal_delivery_report_retried) == 2);
    check_report_error(r, MEDSEAL_TRANSPORT_CONNECT, "refused the connection");
    uint32_t present = 0;
    int64_t at = 0;
    CHECK_OK(medseal_delivery_report_next_attempt_at(r, &present, &at));
    CHECK(present == 1 && at > before && at <= unix_now() + 1);
    medseal_delivery_report_free(r);
    CHECK(delivered_in_outbox(outbox) == 0);
    /* Retried records are queued again: no receipt yet. */
    char id[128];
    record_id(p, p->next_record - 1, id, sizeof id);
    medseal_buffer *receipt = (medseal_buffer *)SENTINEL_PTR, *proof = (medseal_buffer *)SENTINEL_PTR;
    CHECK_RC(medseal_outbox_get_receipt(outbox, u8(id), strlen(id), &receipt, &proof), MEDSEAL_OUTBOX_STATE);
    CHECK_ERROR_CONTAINS("is queued");
    CHECK(receipt == (medseal_buffer *)SENTINEL_PTR && proof == (medseal_buffer *)SENTINEL_PTR);
    medseal_outbox_free(outbox);
    medseal_transport_free(t);
}

static void test_wrong_ca(struct pilot *p) {
    const char *fixtures = getenv("MEDSEAL_TEST_FIXTURES");
    if (!CHECK(fixtures != NULL)) {
        return;
    }
    char ca[1024];
    snprintf(ca, sizeof ca, "%s/pki/root.pem", fixtures);
    medseal_transport *t = transport_for(p, p->url, ca);
    medseal_outbox *outbox = open_outbox(p, "wrong-ca");
    enqueue(p, outbox, 1);
    int64_t before = unix_now();
    medseal_delivery_report *r = NULL;
    REQUIRE_OK(medseal_outbox_deliver(outbox, t, &r));
    CHECK(report_count(r, medseal_delivery_report_retried) == 1);
    check_report_error(r, MEDSEAL_TRANSPORT_TLS, "unknown CA");
    uint32_t present = 0;
    int64_t at = 0;
    CHECK_OK(medseal_delivery_report_next_attempt_at(r, &present, &at));
    CHECK(present == 1 && at >= before + 300); /* certificate errors wait the cap */
    medseal_delivery_report_free(r);
    medseal_outbox_free(outbox);
    medseal_transport_free(t);
}

/* The TLS client key on the SoftHSM2 token of tests/c/fixtures.sh (MEDSEAL_TEST_PKCS11_*): the
 * hospital makes it there with `medseal facility init --tls-pkcs11-*` (a key of its own per run,
 * `c-<run>-tls`), the request is signed by the token, the hub enrols the public parts; the
 * transport opens the key (medseal_transport_builder_set_client_key_pkcs11: a wrong PIN first,
 * MEDSEAL_PKCS11_PIN) and the handshake is signed on the token. No client.key is ever written. */
static void test_token_key(struct pilot *p) {
    const char *module = getenv("MEDSEAL_TEST_PKCS11_MODULE"), *token = getenv("MEDSEAL_TEST_PKCS11_TOKEN"),
               *pin = getenv("MEDSEAL_TEST_PKCS11_PIN"), *hub_dir = getenv("MEDSEAL_TEST_HUB_DIR"),
               *outboxes = getenv("MEDSEAL_TEST_OUTBOX_DIR");
    if (!CHECK(module != NULL && token != NULL && pin != NULL && hub_dir != NULL && outboxes != NULL)) {
        fprintf(stderr, "MEDSEAL_TEST_PKCS11_* and MEDSEAL_TEST_HUB_DIR are not set: run tests/c/run.sh\n");
        return;
    }
    char label[128], signing_pub[600], csr[600], client_key[600];
    snprintf(label, sizeof label, "c-%s-tls", p->run_id);
    snprintf(p->enrolled_facility, sizeof p->enrolled_facility, "c-%s-token", p->run_id);
    snprintf(p->enrolled_dir, sizeof p->enrolled_dir, "%s/%s", outboxes, p->enrolled_facility);
    snprintf(signing_pub, sizeof signing_pub, "%s/signing.pub", p->enrolled_dir);
    snprintf(csr, sizeof csr, "%s/client.csr", p->enrolled_dir);
    snprintf(client_key, sizeof client_key, "%s/client.key", p->enrolled_dir);
    setenv("MEDSEAL_PKCS11_PIN", pin, 1);
    char *init[] = {NULL, "facility", "init", "--facility", p->enrolled_facility, "--dir", p->enrolled_dir, "--tls-pkcs11-module",
                    (char *)module, "--tls-pkcs11-token", (char *)token, "--tls-key-label", label, NULL};
    run_cli(init);
    unsetenv("MEDSEAL_PKCS11_PIN");
    CHECK(access(client_key, F_OK) != 0); /* the key is on the token only */
    char *enroll[] = {NULL, "hub", "enroll", "--dir", (char *)hub_dir, "--facility", p->enrolled_facility,
                      "--signing-key", signing_pub, "--csr", csr, "--out", p->enrolled_dir, NULL};
    run_cli(enroll);
    p->dir = p->enrolled_dir;
    p->facility = p->enrolled_facility;
    load_facility(p);

    medseal_transport_builder *b = new_builder(p->url);
    const char *wrong = "not-the-pin";
    CHECK_RC(medseal_transport_builder_set_client_key_pkcs11(b, u8(module), strlen(module), u8(token), strlen(token), u8(label),
                                                            strlen(label), u8(wrong), strlen(wrong)),
             MEDSEAL_PKCS11_PIN);
    CHECK_ERROR_CONTAINS("CKR_PIN_INCORRECT");
    CHECK_RC(medseal_transport_builder_set_client_key_pkcs11(NULL, u8(module), strlen(module), u8(token), strlen(token), u8(label),
                                                            strlen(label), u8(pin), strlen(pin)),
             MEDSEAL_NULL_ARGUMENT);
    REQUIRE_OK(medseal_transport_builder_set_client_key_pkcs11(b, u8(module), strlen(module), u8(token), strlen(token), u8(label),
                                                              strlen(label), u8(pin), strlen(pin)));
    REQUIRE_OK(medseal_transport_builder_set_facility_dir(b, u8(p->dir), strlen(p->dir)));
    medseal_transport *t = NULL;
    REQUIRE_OK(medseal_transport_builder_build(b, &t));
    medseal_transport_builder_free(b);
    medseal_outbox *outbox = open_outbox(p, "token");
    int first = p->next_record;
    uint8_t digests[2][32];
    enqueue_digests(p, outbox, 2, digests);
    medseal_delivery_report *r = NULL;
    REQUIRE_OK(medseal_outbox_deliver(outbox, t, &r));
    CHECK(report_count(r, medseal_delivery_report_delivered) == 2);
    check_report_error(r, MEDSEAL_OK, NULL);
    medseal_delivery_report_free(r);
    medseal_key *receipt_key = facility_key(p, "receipt.pub"), *tree_head_key = facility_key(p, "tree-head.pub");
    for (int i = 0; i < 2; i++) {
        check_kept_receipt(p, outbox, first + i, digests[i], receipt_key, tree_head_key);
    }
    medseal_key_free(receipt_key);
    medseal_key_free(tree_head_key);
    medseal_outbox_free(outbox);
    medseal_transport_free(t);
}

int main(void) {
    test_config_errors();

    struct pilot p;
    memset(&p, 0, sizeof p);
    p.url = getenv("MEDSEAL_TEST_HUB_URL");
    p.dir = getenv("MEDSEAL_TEST_FACILITY_DIR");
    p.facility = getenv("MEDSEAL_TEST_FACILITY");
    if (!CHECK(p.url != NULL && p.dir != NULL && p.facility != NULL)) {
        fprintf(stderr, "MEDSEAL_TEST_HUB_URL, MEDSEAL_TEST_FACILITY_DIR and MEDSEAL_TEST_FACILITY are not set: run tests/c/run.sh\n");
        return check_summary();
    }
    snprintf(p.run_id, sizeof p.run_id, "c%ld-%ld", (long)getpid(), (long)time(NULL));
    enrol(&p, "by-file");
    size_t len = 0;
    uint8_t *pem = NULL;
    medseal_key *key = NULL;

    /* The same configuration file by file, the hub's keys as key handles. */
    medseal_transport_builder *b = new_builder(p.url);
    const char *setters[3] = {"client.pem", "client.key", "hub-ca.pem"};
    for (int i = 0; i < 3; i++) {
        pem = read_file(p.dir, setters[i], &len);
        if (i == 0) {
            CHECK_OK(medseal_transport_builder_set_client_certificate(b, pem, len));
        } else if (i == 1) {
            CHECK_OK(medseal_transport_builder_set_client_key(b, pem, len));
            memset(pem, 0, len); /* the caller may wipe its copy at once */
        } else {
            CHECK_OK(medseal_transport_builder_set_hub_ca(b, pem, len));
        }
        free(pem);
    }
    medseal_transport *t = (medseal_transport *)SENTINEL_PTR;
    CHECK_RC(medseal_transport_builder_build(b, &t), MEDSEAL_TRANSPORT_CONFIG);
    CHECK_ERROR_CONTAINS("no receipt key");
    const char *key_files[2] = {"receipt.pub", "tree-head.pub"};
    for (int i = 0; i < 2; i++) {
        pem = read_file(p.dir, key_files[i], &len);
        REQUIRE_OK(medseal_key_import(pem, len, MEDSEAL_ALG_FROM_KEY, &key));
        free(pem);
        CHECK_OK(i == 0 ? medseal_transport_builder_set_receipt_key(b, key) : medseal_transport_builder_set_tree_head_key(b, key));
        medseal_key_free(key); /* the builder keeps its own copy */
    }
    REQUIRE_OK(medseal_transport_builder_build(b, &t));
    medseal_transport_builder_free(b);
    medseal_outbox *outbox = open_outbox(&p, "by-file");
    enqueue(&p, outbox, 1);
    medseal_delivery_report *r = NULL;
    REQUIRE_OK(medseal_outbox_deliver(outbox, t, &r));
    CHECK(report_count(r, medseal_delivery_report_delivered) == 1);
    medseal_delivery_report_free(r);
    medseal_outbox_free(outbox);
    medseal_transport_free(t);

    test_deliver_once(&p);
    test_duplicates_and_dead_letters(&p);
    test_deliverer(&p);
    test_token_key(&p);
    /* These two never reach the hub's batch: the facility run.sh enrolled. */
    p.dir = getenv("MEDSEAL_TEST_FACILITY_DIR");
    p.facility = getenv("MEDSEAL_TEST_FACILITY");
    load_facility(&p);
    test_hub_down(&p);
    test_wrong_ca(&p);

    medseal_signer_free(p.signer);
    medseal_recipient_key_free(p.hub_recipient);
    return check_summary();
}
