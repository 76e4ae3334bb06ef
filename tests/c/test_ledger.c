/*
 * medseal C ABI tests: the ledger (docs/SUBMISSION.md, RFC 9162).
 *
 *  - leaf hashes, inclusion and consistency checks on the RFC 6962 reference test tree of
 *    Certificate Transparency (values below computed independently with Python's hashlib);
 *  - medseal_receipt_verify (which binds facility, record id and digest) and
 *    medseal_ledger_verify_tree_head on a hub answer made WITHOUT medseal by
 *    tests/c/ledger_fixtures.sh (openssl and the shell, from the format's text): a receipt for
 *    rec-0002 at ledger index 2 of 5, its tree head and the audit path. The InclusionProof's
 *    protobuf is encoded here, by hand, from its .proto; its JSON mapping comes from the script.
 *
 * Needs MEDSEAL_TEST_FIXTURES (set by tests/c/run.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "medseal.h"

static const char *need_env(const char *name) {
    const char *value = getenv(name);
    if (value == NULL || value[0] == '\0') {
        fprintf(stderr, "FATAL: %s is not set: run the C tests with tests/c/run.sh, which makes the fixtures "
                        "(tests/c/fixtures.sh)\n", name);
        exit(2);
    }
    return value;
}

/* "$MEDSEAL_TEST_FIXTURES/ledger/<name>", in a static buffer (one at a time). */
static const char *fixture(const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/ledger/%s", need_env("MEDSEAL_TEST_FIXTURES"), name);
    return path;
}

/* A whole fixture file; stops the program if it cannot be read. */
static uint8_t *read_fixture(const char *name, size_t *len) {
    const char *path = fixture(name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    size_t cap = 4096, n = 0;
    uint8_t *data = xmalloc(cap);
    for (;;) {
        n += fread(data + n, 1, cap - n, f);
        if (n < cap) {
            break;
        }
        cap *= 2;
        uint8_t *bigger = realloc(data, cap);
        if (bigger == NULL) {
            abort();
        }
        data = bigger;
    }
    fclose(f);
    *len = n;
    return data;
}

/* 64 hex digits into 32 bytes. */
static void unhex(const char *hex, uint8_t out[32]) {
    for (size_t i = 0; i < 32; i++) {
        unsigned int byte = 0;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            abort();
        }
        out[i] = (uint8_t)byte;
    }
}

/* Several hex hashes, concatenated into `out` (room for `n` hashes). */
static void unhex_path(const char *const *hexes, size_t n, uint8_t *out) {
    for (size_t i = 0; i < n; i++) {
        unhex(hexes[i], out + 32 * i);
    }
}

static medseal_key *import_key(const char *name) {
    size_t len = 0;
    uint8_t *pem = read_fixture(name, &len);
    medseal_key *key = NULL;
    REQUIRE_OK(medseal_key_import(pem, len, MEDSEAL_ALG_FROM_KEY, &key));
    free(pem);
    return key;
}

/* ---- the RFC 6962 reference tree ----------------------------------------------------------- */

static const char *const ROOT_7 = "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c";
static const char *const ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
static const char *const ROOT_6 = "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef";
static const char *const ROOT_3 = "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77";

static void test_reference_tree(void) {
    uint8_t leaf0[32], leaf5[32], want[32], root8[32], root6[32], root7[32], root3[32];
    /* Leaf 0 is the empty entry: SHA-256(0x00). NULL with length 0 is an empty entry. */
    CHECK_OK(medseal_ledger_leaf_hash(NULL, 0, leaf0));
    unhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", want);
    CHECK_BYTES(leaf0, 32, want, 32);
    static const uint8_t entry5[] = {0x40, 0x41, 0x42, 0x43};
    CHECK_OK(medseal_ledger_leaf_hash(entry5, sizeof entry5, leaf5));
    CHECK_RC(medseal_ledger_leaf_hash(entry5, sizeof entry5, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_ledger_leaf_hash(NULL, 1, leaf5), MEDSEAL_NULL_ARGUMENT);
    unhex(ROOT_8, root8);
    unhex(ROOT_6, root6);
    unhex(ROOT_7, root7);
    unhex(ROOT_3, root3);

    /* PATH(0, D[8]) and PATH(5, D[8]). */
    static const char *const path0[] = {
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    };
    static const char *const path5[] = {
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    };
    uint8_t p0[96], p5[96];
    unhex_path(path0, 3, p0);
    unhex_path(path5, 3, p5);
    CHECK_OK(medseal_ledger_verify_inclusion(leaf0, 0, 8, p0, sizeof p0, root8));
    CHECK_OK(medseal_ledger_verify_inclusion(leaf5, 5, 8, p5, sizeof p5, root8));
    /* Wrong index, wrong leaf, a flipped bit, a hash missing or too many. */
    CHECK_RC(medseal_ledger_verify_inclusion(leaf0, 1, 8, p0, sizeof p0, root8), MEDSEAL_LEDGER_PROOF_INVALID);
    CHECK_RC(medseal_ledger_verify_inclusion(leaf5, 0, 8, p0, sizeof p0, root8), MEDSEAL_LEDGER_PROOF_INVALID);
    p0[40] ^= 0x04;
    CHECK_RC(medseal_ledger_verify_inclusion(leaf0, 0, 8, p0, sizeof p0, root8), MEDSEAL_LEDGER_PROOF_INVALID);
    CHECK_ERROR_CONTAINS("leads to root");
    p0[40] ^= 0x04;
    CHECK_RC(medseal_ledger_verify_inclusion(leaf0, 0, 8, p0, 64, root8), MEDSEAL_LEDGER_PROOF_INVALID);
    CHECK_ERROR_CONTAINS("needs exactly 3");
    /* Out of range, and malformed arguments. */
    CHECK_RC(medseal_ledger_verify_inclusion(leaf0, 8, 8, p0, sizeof p0, root8), MEDSEAL_LEDGER_RANGE);
    CHECK_RC(medseal_ledger_verify_inclusion(leaf0, 0, 8, p0, 95, root8), MEDSEAL_INVALID_ARGUMENT);
    CHECK_RC(medseal_ledger_verify_inclusion(leaf0, 0, 8, NULL, 96, root8), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_ledger_verify_inclusion(NULL, 0, 8, p0, sizeof p0, root8), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_ledger_verify_inclusion(leaf0, 0, 8, p0, sizeof p0, NULL), MEDSEAL_NULL_ARGUMENT);
    /* A one-leaf tree: the root is the leaf, the path empty (NULL, 0). */
    CHECK_OK(medseal_ledger_verify_inclusion(leaf0, 0, 1, NULL, 0, leaf0));

    /* PROOF(6, D[8]) and PROOF(3, D[7]). */
    static const char *const proof68[] = {
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    };
    static const char *const proof37[] = {
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e",
    };
    uint8_t c68[96], c37[128];
    unhex_path(proof68, 3, c68);
    unhex_path(proof37, 4, c37);
    CHECK_OK(medseal_ledger_verify_consistency(6, 8, root6, root8, c68, sizeof c68));
    CHECK_OK(medseal_ledger_verify_consistency(3, 7, root3, root7, c37, sizeof c37));
    CHECK_RC(medseal_ledger_verify_consistency(6, 8, root7, root8, c68, sizeof c68), MEDSEAL_LEDGER_PROOF_INVALID);
    CHECK_RC(medseal_ledger_verify_consistency(6, 7, root6, root7, c68, sizeof c68), MEDSEAL_LEDGER_PROOF_INVALID);
    c37[127] ^= 0x80;
    CHECK_RC(medseal_ledger_verify_consistency(3, 7, root3, root7, c37, sizeof c37), MEDSEAL_LEDGER_PROOF_INVALID);
    CHECK_ERROR_CONTAINS("not only appended to");
    CHECK_RC(medseal_ledger_verify_consistency(3, 7, root3, root7, c37, 96), MEDSEAL_LEDGER_PROOF_INVALID);
    CHECK_RC(medseal_ledger_verify_consistency(8, 6, root8, root6, c68, sizeof c68), MEDSEAL_LEDGER_RANGE);
    /* Equal sizes: empty proof, equal roots. */
    CHECK_OK(medseal_ledger_verify_consistency(8, 8, root8, root8, NULL, 0));
    CHECK_RC(medseal_ledger_verify_consistency(8, 8, root8, root7, NULL, 0), MEDSEAL_LEDGER_PROOF_INVALID);
    CHECK_RC(medseal_ledger_verify_consistency(6, 8, NULL, root8, c68, sizeof c68), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_ledger_verify_consistency(6, 8, root6, NULL, c68, sizeof c68), MEDSEAL_NULL_ARGUMENT);
}

/* ---- a hub's answer, made by openssl -------------------------------------------------------- */

static size_t put_varint(uint8_t *out, uint64_t v) {
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        out[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}

/* medseal.v1.InclusionProof: leaf_index = 1, tree_size = 2, repeated bytes audit_path = 3,
 * string tree_head = 4. Returns a malloc'd encoding. */
static uint8_t *encode_proof(uint64_t leaf_index, uint64_t tree_size, const uint8_t *path, size_t path_len,
                             const uint8_t *tree_head, size_t head_len, size_t *len) {
    uint8_t *out = xmalloc(32 + path_len / 32 * 2 + path_len + head_len);
    size_t n = 0;
    out[n++] = 0x08;
    n += put_varint(out + n, leaf_index);
    out[n++] = 0x10;
    n += put_varint(out + n, tree_size);
    for (size_t i = 0; i < path_len; i += 32) {
        out[n++] = 0x1a;
        out[n++] = 32;
        memcpy(out + n, path + i, 32);
        n += 32;
    }
    out[n++] = 0x22;
    n += put_varint(out + n, head_len);
    memcpy(out + n, tree_head, head_len);
    n += head_len;
    *len = n;
    return out;
}

static size_t trimmed(const uint8_t *data, size_t len) {
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' ')) {
        len--;
    }
    return len;
}

/* The three names medseal_receipt_verify checks, as C strings: facility, record id, digest. */
#define NAMED(source, record_id, digest)                                                                              \
    (const uint8_t *)(source), strlen(source), (const uint8_t *)(record_id), strlen(record_id), (const uint8_t *)(digest), \
        strlen(digest)

static void test_hub_answer(void) {
    size_t receipt_len, head_len, path_len, root_len, json_len, entry_len, leaf_len, digest_len;
    uint8_t *receipt = read_fixture("receipt.jws", &receipt_len);
    uint8_t *head = read_fixture("tree-head.jws", &head_len);
    uint8_t *path = read_fixture("path.bin", &path_len);
    uint8_t *root = read_fixture("root.bin", &root_len);
    uint8_t *json = read_fixture("proof.json", &json_len);
    uint8_t *entry = read_fixture("entry-2.json", &entry_len);
    uint8_t *leaf = read_fixture("leaf-2.bin", &leaf_len);
    uint8_t *digest = read_fixture("digest-2.bin", &digest_len);
    receipt_len = trimmed(receipt, receipt_len);
    head_len = trimmed(head, head_len);
    medseal_key *receipt_key = import_key("receipt.pub.pem");
    medseal_key *head_key = import_key("tree-head.pub.pem");
    CHECK(path_len == 96 && root_len == 32 && leaf_len == 32 && digest_len == 32);

    /* The primitives agree with openssl's hashes. */
    uint8_t hash[32];
    CHECK_OK(medseal_ledger_leaf_hash(entry, entry_len, hash));
    CHECK_BYTES(hash, 32, leaf, 32);
    CHECK_OK(medseal_ledger_verify_inclusion(leaf, 2, 5, path, path_len, root));

    /* The tree head. */
    uint64_t size = 0;
    int64_t timestamp = 0;
    uint8_t head_root[32] = {0};
    CHECK_OK(medseal_ledger_verify_tree_head(head, head_len, head_key, &size, &timestamp, head_root));
    CHECK(size == 5);
    CHECK(timestamp == 1767229200); /* 2026-01-01T01:00:00Z */
    CHECK_BYTES(head_root, 32, root, 32);
    /* Wrong key, a receipt as tree head, tampered: outputs untouched. */
    size = 77;
    CHECK_RC(medseal_ledger_verify_tree_head(head, head_len, receipt_key, &size, &timestamp, head_root),
             MEDSEAL_LEDGER_TREE_HEAD_INVALID);
    CHECK_RC(medseal_ledger_verify_tree_head(receipt, receipt_len, receipt_key, &size, &timestamp, head_root),
             MEDSEAL_LEDGER_TREE_HEAD_INVALID);
    CHECK_ERROR_CONTAINS("medseal-tree-head+jws");
    head[head_len - 3] ^= 0x01;
    CHECK_RC(medseal_ledger_verify_tree_head(head, head_len, head_key, &size, &timestamp, head_root),
             MEDSEAL_LEDGER_TREE_HEAD_INVALID);
    head[head_len - 3] ^= 0x01;
    CHECK(size == 77);
    CHECK_RC(medseal_ledger_verify_tree_head(head, head_len, head_key, NULL, &timestamp, head_root), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_ledger_verify_tree_head(head, head_len, head_key, &size, &timestamp, NULL), MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_ledger_verify_tree_head(head, head_len, NULL, &size, &timestamp, head_root), MEDSEAL_NULL_ARGUMENT);

    /* The receipt with its proof: protobuf, and the JSON mapping. */
    size_t proof_len = 0;
    uint8_t *proof = encode_proof(2, 5, path, path_len, head, head_len, &proof_len);
    static const char source[] = "hospital-a", record_id[] = "rec-0002";
    char *digest_text = b64url(digest, 32); /* as the receipt writes it */
    medseal_receipt *r = NULL;
    CHECK_OK(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED(source, record_id, digest_text), &r));
    if (CHECK(r != NULL)) {
        uint64_t index = 0, tree_size = 0, sequence = 0;
        int64_t received = 0;
        const uint8_t *data = NULL;
        size_t len = 0;
        CHECK_OK(medseal_receipt_ledger_index(r, &index));
        CHECK(index == 2);
        CHECK_OK(medseal_receipt_tree_size(r, &tree_size));
        CHECK(tree_size == 5);
        CHECK_OK(medseal_receipt_sequence(r, &sequence));
        CHECK(sequence == 3);
        CHECK_OK(medseal_receipt_received(r, &received));
        CHECK(received == 1767225602); /* 2026-01-01T00:00:02Z */
        CHECK_OK(medseal_receipt_record_id(r, &data, &len));
        CHECK_MEM(data, len, "rec-0002");
        CHECK_OK(medseal_receipt_source(r, &data, &len));
        CHECK_MEM(data, len, "hospital-a");
        uint8_t named[32] = {0};
        CHECK_OK(medseal_receipt_digest(r, named));
        CHECK_BYTES(named, 32, digest, 32);
        CHECK_RC(medseal_receipt_ledger_index(r, NULL), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_receipt_record_id(r, NULL, &len), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_receipt_digest(r, NULL), MEDSEAL_NULL_ARGUMENT);
        CHECK_RC(medseal_receipt_tree_size(NULL, &tree_size), MEDSEAL_NULL_ARGUMENT);
    }
    medseal_receipt_free(r);
    medseal_receipt_free(NULL);
    r = NULL;
    CHECK_OK(medseal_receipt_verify(receipt, receipt_len, json, json_len, receipt_key, head_key,
                                    NAMED(source, record_id, digest_text), &r));
    CHECK(r != NULL);
    medseal_receipt_free(r);

    /* Each failure, with its code; *out untouched. */
    medseal_receipt *untouched = (medseal_receipt *)SENTINEL_PTR;
    /* A receipt that is not for the record asked about: another facility's, another record's,
     * another envelope's. Each refused, the message naming what differs. */
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED("hospital-b", record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    CHECK_ERROR_CONTAINS("facility \"hospital-a\", not \"hospital-b\"");
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED(source, "rec-0003", digest_text), &untouched),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    CHECK_ERROR_CONTAINS("not \"rec-0003\"");
    size_t other_len = 0;
    uint8_t *other_digest = read_fixture("digest-3.bin", &other_len);
    char *other_text = b64url(other_digest, other_len);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED(source, record_id, other_text), &untouched),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    CHECK_ERROR_CONTAINS("another envelope digest");
    /* The same names in other spellings are not the receipt's: case, padding, hex, spaces. */
    static const char upper_source[] = "HOSPITAL-A", upper_id[] = "REC-0002";
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED(upper_source, record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED(source, upper_id, digest_text), &untouched),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    char padded[64], spaced[64], hex[65];
    snprintf(padded, sizeof padded, "%s=", digest_text);
    snprintf(spaced, sizeof spaced, " %s", digest_text);
    for (size_t i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    const char *bad_digests[] = {padded, spaced, hex, "not a digest"};
    for (size_t i = 0; i < sizeof bad_digests / sizeof bad_digests[0]; i++) {
        CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                        NAMED(source, record_id, bad_digests[i]), &untouched),
                 MEDSEAL_INVALID_ARGUMENT);
        CHECK_ERROR_CONTAINS("`digest`");
    }
    /* All three are required: empty or NULL is refused before any check. */
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED("", record_id, digest_text), &untouched),
             MEDSEAL_INVALID_ARGUMENT);
    CHECK_ERROR_CONTAINS("`source` is empty");
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED(source, "", digest_text), &untouched),
             MEDSEAL_INVALID_ARGUMENT);
    CHECK_ERROR_CONTAINS("`record_id` is empty");
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED(source, record_id, ""), &untouched),
             MEDSEAL_INVALID_ARGUMENT);
    CHECK_ERROR_CONTAINS("`digest` is empty");
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key, NULL, 0,
                                    (const uint8_t *)record_id, strlen(record_id), (const uint8_t *)digest_text,
                                    strlen(digest_text), &untouched),
             MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    (const uint8_t *)source, strlen(source), NULL, 0, (const uint8_t *)digest_text,
                                    strlen(digest_text), &untouched),
             MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    (const uint8_t *)source, strlen(source), (const uint8_t *)record_id,
                                    strlen(record_id), NULL, 0, &untouched),
             MEDSEAL_NULL_ARGUMENT);
    free(other_digest);
    free(other_text);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, head_key, receipt_key,
                                    NAMED(source, record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, receipt_key,
                                    NAMED(source, record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_TREE_HEAD_INVALID);
    /* The tree head given as the receipt (checked with its own key: typ decides). */
    CHECK_RC(medseal_receipt_verify(head, head_len, proof, proof_len, head_key, receipt_key,
                                    NAMED(source, record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    CHECK_ERROR_CONTAINS("medseal-receipt+jws");
    /* A proof for another leaf index, another size, a broken path. */
    size_t bad_len = 0;
    uint8_t *bad = encode_proof(3, 5, path, path_len, head, head_len, &bad_len);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, bad, bad_len, receipt_key, head_key,
                                    NAMED(source, record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    free(bad);
    bad = encode_proof(2, 6, path, path_len, head, head_len, &bad_len);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, bad, bad_len, receipt_key, head_key,
                                    NAMED(source, record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    free(bad);
    path[33] ^= 0x20;
    bad = encode_proof(2, 5, path, path_len, head, head_len, &bad_len);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, bad, bad_len, receipt_key, head_key,
                                    NAMED(source, record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_PROOF_INVALID);
    free(bad);
    path[33] ^= 0x20;
    bad = encode_proof(2, 5, path, 64, head, head_len, &bad_len);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, bad, bad_len, receipt_key, head_key,
                                    NAMED(source, record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_PROOF_INVALID);
    free(bad);
    /* A tampered receipt; bytes that are no proof; bad arguments. */
    receipt[receipt_len / 2] ^= 0x01;
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED(source, record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_RECEIPT_INVALID);
    receipt[receipt_len / 2] ^= 0x01;
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, junk, sizeof junk, receipt_key, head_key,
                                    NAMED(source, record_id, digest_text), &untouched),
             MEDSEAL_LEDGER_PROOF_INVALID);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key, (const uint8_t *)source,
                                    strlen(source), NULL, 3, (const uint8_t *)digest_text, strlen(digest_text), &untouched),
             MEDSEAL_NULL_ARGUMENT);
    static const uint8_t not_utf8[] = {0xc3, 0x28};
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key, not_utf8, sizeof not_utf8,
                                    (const uint8_t *)record_id, strlen(record_id), (const uint8_t *)digest_text,
                                    strlen(digest_text), &untouched),
             MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key, (const uint8_t *)source,
                                    strlen(source), not_utf8, sizeof not_utf8, (const uint8_t *)digest_text,
                                    strlen(digest_text), &untouched),
             MEDSEAL_INVALID_UTF8_ARGUMENT);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, NULL, head_key,
                                    NAMED(source, record_id, digest_text), &untouched),
             MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_receipt_verify(NULL, 0, proof, proof_len, receipt_key, head_key, NAMED(source, record_id, digest_text),
                                    &untouched),
             MEDSEAL_NULL_ARGUMENT);
    CHECK_RC(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED(source, record_id, digest_text), NULL),
             MEDSEAL_NULL_ARGUMENT);
    CHECK(untouched == (medseal_receipt *)SENTINEL_PTR);

    /* The receipt still verifies once every byte is restored. */
    r = NULL;
    CHECK_OK(medseal_receipt_verify(receipt, receipt_len, proof, proof_len, receipt_key, head_key,
                                    NAMED(source, record_id, digest_text), &r));
    medseal_receipt_free(r);

    /* Consistency of the fixture's tree: 4 -> 5 is [leaf-4]; 2 -> 5 is [n23, leaf-4]. */
    size_t n_len;
    uint8_t *n0123 = read_fixture("n0123.bin", &n_len);
    uint8_t *n01 = read_fixture("n01.bin", &n_len);
    uint8_t *n23 = read_fixture("n23.bin", &n_len);
    uint8_t *leaf4 = read_fixture("leaf-4.bin", &n_len);
    uint8_t two[64];
    memcpy(two, n23, 32);
    memcpy(two + 32, leaf4, 32);
    CHECK_OK(medseal_ledger_verify_consistency(4, 5, n0123, root, leaf4, 32));
    CHECK_OK(medseal_ledger_verify_consistency(2, 5, n01, root, two, sizeof two));
    CHECK_RC(medseal_ledger_verify_consistency(2, 5, n23, root, two, sizeof two), MEDSEAL_LEDGER_PROOF_INVALID);
    free(n0123);
    free(n01);
    free(n23);
    free(leaf4);

    free(proof);
    medseal_key_free(receipt_key);
    medseal_key_free(head_key);
    free(receipt);
    free(head);
    free(path);
    free(root);
    free(json);
    free(entry);
    free(leaf);
    free(digest);
    free(digest_text);
}

int main(void) {
    test_reference_tree();
    test_hub_answer();
    return check_summary();
}
