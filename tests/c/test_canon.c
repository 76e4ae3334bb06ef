/*
 * medseal C ABI: medseal_json_canonicalize (RFC 8785 with the medseal policies) and its flags.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "medseal.h"

/* Canonicalizes in[0..len) with `flags` and compares with `want`. */
static void canon_ok_(const char *in, size_t len, uint32_t flags, const char *want, const char *file, int line) {
    medseal_buffer *out = SENTINEL_PTR;
    medseal_result rc = medseal_json_canonicalize((const uint8_t *)in, len, flags, &out);
    if (!check_rc_(rc, MEDSEAL_OK, in, file, line)) {
        return;
    }
    check_true_(out != NULL && out != SENTINEL_PTR, "output written", file, line);
    check_mem_(medseal_buffer_data(out), medseal_buffer_len(out), want, strlen(want), in, file, line);
    medseal_buffer_free(out);
}

/* Canonicalization must fail with `code`, leave the output untouched and say `where`
 * (a fragment of the message, or NULL). */
static void canon_err_(const char *in, size_t len, uint32_t flags, medseal_result code, const char *where,
                       const char *file, int line) {
    medseal_buffer *out = SENTINEL_PTR;
    medseal_result rc = medseal_json_canonicalize((const uint8_t *)in, len, flags, &out);
    check_rc_(rc, code, in, file, line);
    if (rc == MEDSEAL_OK) {
        medseal_buffer_free(out);
        return;
    }
    check_true_(out == SENTINEL_PTR, "output untouched on failure", file, line);
    char message[1024];
    check_last_error(message, sizeof message);
    check_true_(message[0] != '\0', "an error message is set", file, line);
    if (where != NULL) {
        check_contains_(message, strlen(message), where, "error message", file, line);
    }
}

#define CANON_OK(in, flags, want) canon_ok_((in), strlen(in), (flags), (want), __FILE__, __LINE__)
#define CANON_ERR(in, flags, code, where) canon_err_((in), strlen(in), (flags), (code), (where), __FILE__, __LINE__)

/* "Nguyễn Văn An" in NFD (decomposed, as some macOS and Windows IMEs produce it):
 * ễ = e U+0302 U+0303, ă = a U+0306. */
#define NAME_NFD "Nguye\xCC\x82\xCC\x83n Va\xCC\x86n An"
/* The same name in NFC: ễ = U+1EC5, ă = U+0103. */
#define NAME_NFC "Nguy\xE1\xBB\x85n V\xC4\x83n An"

static void test_basics(void) {
    CANON_OK("{ \"b\" : 2, \"a\" : [1, true, false, null, \"x\", {}] }", 0,
             "{\"a\":[1,true,false,null,\"x\",{}],\"b\":2}");
    CANON_OK(" \r\n\t[ ] ", 0, "[]");
    CANON_OK("\"\\u00e9\\n\\u0041\\/\"", 0, "\"\xC3\xA9\\nA/\"");
    CANON_OK("\"\\u001f\"", 0, "\"\\u001f\"");
    CANON_OK("[1.5, -2, 0, 1e-7, 12345678901234]", 0, "[1.5,-2,0,1e-7,12345678901234]");
    /* Keys sort by UTF-16 code units: U+1F600 (D83D DE00) before U+FB02. */
    CANON_OK("{\"\\ufb02\":1,\"\\ud83d\\ude00\":2,\"\\u00f6\":3,\"1\":4}", 0,
             "{\"1\":4,\"\xC3\xB6\":3,\"\xF0\x9F\x98\x80\":2,\"\xEF\xAC\x82\":1}");
    /* Only `len` bytes are read: the input need not be NUL-terminated. */
    canon_ok_("[1]garbage", 3, 0, "[1]", __FILE__, __LINE__);
    /* The largest exact integer is fine. */
    CANON_OK("[9007199254740991,-9007199254740991]", 0, "[9007199254740991,-9007199254740991]");
}

static void test_syntax_errors(void) {
    canon_err_("", 0, 0, MEDSEAL_JSON_SYNTAX, "line 1, column 1", __FILE__, __LINE__);
    CANON_ERR("{\n  \"a\": 1,\n  \"b\" 2\n}", 0, MEDSEAL_JSON_SYNTAX, "line 3, column 7");
    CANON_ERR("{\"a\":1,}", 0, MEDSEAL_JSON_SYNTAX, "line 1, column 8");
    CANON_ERR("[1] x", 0, MEDSEAL_JSON_SYNTAX, "line 1, column 5");
    CANON_ERR("01", 0, MEDSEAL_JSON_SYNTAX, "line 1");
    CANON_ERR("\xEF\xBB\xBF{}", MEDSEAL_CANON_PLAIN, MEDSEAL_JSON_SYNTAX, "BOM");
    CANON_ERR("[\"a\x01\"]", 0, MEDSEAL_JSON_SYNTAX, "line 1");
    CANON_ERR("{'a':1}", 0, MEDSEAL_JSON_SYNTAX, "line 1, column 2");
    CANON_ERR("{\"t\xC3\xAAn\": tru}", 0, MEDSEAL_JSON_SYNTAX, "line 1, column 9"); /* columns count characters */
    const char nul_inside[] = "[\"a\0\"]";
    canon_err_(nul_inside, sizeof nul_inside - 1, 0, MEDSEAL_JSON_SYNTAX, "line 1", __FILE__, __LINE__);
}

static void test_ijson_errors(void) {
    CANON_ERR("{\"a\":1,\"a\":2}", 0, MEDSEAL_JSON_DUPLICATE_KEY, "line 1");
    CANON_ERR("{\n  \"a\": 1,\n  \"a\": 2\n}", MEDSEAL_CANON_PLAIN, MEDSEAL_JSON_DUPLICATE_KEY, "line 3, column 3");
    /* Duplicates after unescaping are duplicates too. */
    CANON_ERR("{\"a\":1,\"\\u0061\":2}", MEDSEAL_CANON_PLAIN, MEDSEAL_JSON_DUPLICATE_KEY, NULL);
    CANON_ERR("[\"\\ud800\"]", MEDSEAL_CANON_PLAIN, MEDSEAL_JSON_LONE_SURROGATE, "line 1");
    CANON_ERR("[\"\\udc00x\"]", 0, MEDSEAL_JSON_LONE_SURROGATE, NULL);
    CANON_ERR("[\"\xFF\"]", 0, MEDSEAL_JSON_INVALID_UTF8, "line 1, column 3");
    CANON_ERR("{\n\"a\":\"\xC3\"}", MEDSEAL_CANON_PLAIN, MEDSEAL_JSON_INVALID_UTF8, "line 2");
    /* An integer literal a double would change is refused in every mode; the strict default
       refuses every value RFC 8785 writes as an integer beyond 2^53-1, which plain writes. */
    CANON_ERR("[9007199254740993]", MEDSEAL_CANON_PLAIN, MEDSEAL_JSON_NUMBER_OUT_OF_RANGE, NULL);
    CANON_ERR("[-9007199254740992]", 0, MEDSEAL_JSON_NUMBER_OUT_OF_RANGE, NULL);
    CANON_ERR("[1e20]", 0, MEDSEAL_JSON_NUMBER_OUT_OF_RANGE, "line 1");
    CANON_OK("[1e20,9007199254740993.0]", MEDSEAL_CANON_PLAIN, "[100000000000000000000,9007199254740992]");
    CANON_OK("[100000000000000000000]", MEDSEAL_CANON_PLAIN, "[100000000000000000000]");
    CANON_ERR("[1e400]", MEDSEAL_CANON_PLAIN, MEDSEAL_JSON_NUMBER_OUT_OF_RANGE, NULL);
}

static void test_lossy_numbers(void) {
    CANON_ERR("{\"a\":1.50}", 0, MEDSEAL_JSON_LOSSY_NUMBER, "line 1");
    CANON_OK("{\"a\":1.50}", MEDSEAL_CANON_PLAIN, "{\"a\":1.5}");
    CANON_OK("{\"a\":1.50}", MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS, "{\"a\":1.5}");
    CANON_ERR("[1e2]", 0, MEDSEAL_JSON_LOSSY_NUMBER, NULL);
    CANON_OK("[1e2]", MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS, "[100]");
    CANON_ERR("[-0]", 0, MEDSEAL_JSON_LOSSY_NUMBER, NULL);
    CANON_OK("[-0]", MEDSEAL_CANON_PLAIN, "[0]");
    CANON_ERR("[0.1000]", 0, MEDSEAL_JSON_LOSSY_NUMBER, NULL);
    CANON_ERR("[1E-7]", 0, MEDSEAL_JSON_LOSSY_NUMBER, NULL); /* canonical is 1e-7 */
    CANON_OK("[0.1000]", MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS | MEDSEAL_CANON_NORMALIZE_NFC, "[0.1]");
    /* ALLOW_LOSSY_NUMBERS alone keeps the NFC check. */
    CANON_ERR("[1.50,\"" NAME_NFD "\"]", MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS, MEDSEAL_JSON_NOT_NFC, NULL);
}

static void test_nfc(void) {
    const char *nfd_doc = "{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"" NAME_NFD "\"}]}";
    const char *nfc_doc = "{\"name\":[{\"text\":\"" NAME_NFC "\"}],\"resourceType\":\"Patient\"}";
    const char *nfd_canon = "{\"name\":[{\"text\":\"" NAME_NFD "\"}],\"resourceType\":\"Patient\"}";

    CANON_ERR(nfd_doc, 0, MEDSEAL_JSON_NOT_NFC, "line 1");
    CANON_OK(nfd_doc, MEDSEAL_CANON_NORMALIZE_NFC, nfc_doc);
    CANON_OK(nfd_doc, MEDSEAL_CANON_NORMALIZE_NFC | MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS, nfc_doc);
    CANON_OK(nfd_doc, MEDSEAL_CANON_PLAIN | MEDSEAL_CANON_NORMALIZE_NFC, nfc_doc);
    /* Plain RFC 8785 does not look at normalization: the NFD bytes pass through. */
    CANON_OK(nfd_doc, MEDSEAL_CANON_PLAIN, nfd_canon);
    /* NFC input is accepted as is by the strict default. */
    CANON_OK(nfc_doc, 0, nfc_doc);
    /* Escaped combining marks count as well. */
    CANON_ERR("[\"Nguye\\u0302\\u0303n\"]", 0, MEDSEAL_JSON_NOT_NFC, NULL);
    CANON_OK("[\"Nguye\\u0302\\u0303n\"]", MEDSEAL_CANON_NORMALIZE_NFC, "[\"Nguy\xE1\xBB\x85n\"]");
    /* Keys too: "tên" in NFD. */
    CANON_ERR("{\"te\xCC\x82n\":1}", 0, MEDSEAL_JSON_NOT_NFC, NULL);
    CANON_OK("{\"te\xCC\x82n\":1}", MEDSEAL_CANON_NORMALIZE_NFC, "{\"t\xC3\xAAn\":1}");
}

static void test_limits(void) {
    char deep[2 * 129 + 1];
    memset(deep, '[', 128);
    memset(deep + 128, ']', 128);
    deep[256] = '\0';
    char want[257];
    memcpy(want, deep, sizeof want);
    CANON_OK(deep, 0, want);
    memset(deep, '[', 129);
    memset(deep + 129, ']', 129);
    deep[258] = '\0';
    CANON_ERR(deep, 0, MEDSEAL_JSON_TOO_DEEP, NULL);

    /* Hostile nesting: an error, not a stack overflow. */
    size_t n = 100000;
    char *hostile = malloc(n + 1);
    if (CHECK(hostile != NULL)) {
        memset(hostile, '[', n);
        hostile[n] = '\0';
        CANON_ERR(hostile, MEDSEAL_CANON_PLAIN, MEDSEAL_JSON_TOO_DEEP, NULL);
        free(hostile);
    }

    /* 64 MiB + 1 byte: refused before parsing. */
    size_t big_len = ((size_t)64 << 20) + 1;
    char *big = malloc(big_len);
    if (CHECK(big != NULL)) {
        memset(big, ' ', big_len);
        big[0] = '0';
        canon_err_(big, big_len, 0, MEDSEAL_JSON_TOO_LARGE, "limit", __FILE__, __LINE__);
        free(big);
    }
}

static const char FHIR_DOC[] =
    "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"1\"},"
    "\"text\":{\"status\":\"generated\",\"div\":\"<div/>\"},"
    "\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o1\",\"text\":{\"status\":\"empty\"},"
    "\"meta\":{\"versionId\":\"2\"}}],\"active\":true}";

static void test_fhir(void) {
    CANON_OK(FHIR_DOC, MEDSEAL_CANON_FHIR_DATA,
             "{\"active\":true,\"contained\":[{\"id\":\"o1\",\"meta\":{\"versionId\":\"2\"},"
             "\"resourceType\":\"Organization\"}],\"id\":\"p1\",\"meta\":{\"versionId\":\"1\"},"
             "\"resourceType\":\"Patient\"}");
    CANON_OK(FHIR_DOC, MEDSEAL_CANON_FHIR_STATIC,
             "{\"active\":true,\"contained\":[{\"id\":\"o1\",\"resourceType\":\"Organization\"}],\"id\":\"p1\","
             "\"resourceType\":\"Patient\"}");
    CANON_OK(FHIR_DOC, MEDSEAL_CANON_FHIR_DOCUMENT,
             "{\"active\":true,\"contained\":[{\"id\":\"o1\",\"meta\":{\"versionId\":\"2\"},"
             "\"resourceType\":\"Organization\",\"text\":{\"status\":\"empty\"}}],\"resourceType\":\"Patient\","
             "\"text\":{\"div\":\"<div/>\",\"status\":\"generated\"}}");
    CANON_OK(FHIR_DOC, MEDSEAL_CANON_FHIR_STATIC | MEDSEAL_CANON_NORMALIZE_NFC | MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS,
             "{\"active\":true,\"contained\":[{\"id\":\"o1\",\"resourceType\":\"Organization\"}],\"id\":\"p1\","
             "\"resourceType\":\"Patient\"}");
    /* Without a FHIR flag nothing is dropped. */
    CANON_OK("{\"resourceType\":\"Patient\",\"text\":{\"status\":\"empty\"}}", 0,
             "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"empty\"}}");

    /* Not a FHIR resource. */
    CANON_ERR("{\"a\":1}", MEDSEAL_CANON_FHIR_DATA, MEDSEAL_JSON_NOT_FHIR, "resourceType");
    CANON_ERR("[1]", MEDSEAL_CANON_FHIR_STATIC, MEDSEAL_JSON_NOT_FHIR, NULL);
    CANON_ERR("{\"resourceType\":1}", MEDSEAL_CANON_FHIR_DOCUMENT, MEDSEAL_JSON_NOT_FHIR, NULL);
    CANON_OK("{\"a\":1}", 0, "{\"a\":1}");

    /* At most one FHIR flag. */
    const uint32_t pairs[] = {
        MEDSEAL_CANON_FHIR_DATA | MEDSEAL_CANON_FHIR_STATIC,
        MEDSEAL_CANON_FHIR_DATA | MEDSEAL_CANON_FHIR_DOCUMENT,
        MEDSEAL_CANON_FHIR_STATIC | MEDSEAL_CANON_FHIR_DOCUMENT,
        MEDSEAL_CANON_FHIR_DATA | MEDSEAL_CANON_FHIR_STATIC | MEDSEAL_CANON_FHIR_DOCUMENT,
        MEDSEAL_CANON_FHIR_DATA | MEDSEAL_CANON_FHIR_STATIC | MEDSEAL_CANON_NORMALIZE_NFC,
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        CANON_ERR(FHIR_DOC, pairs[i], MEDSEAL_INVALID_ARGUMENT, "FHIR");
    }
}

static void test_unknown_flags(void) {
    CANON_ERR("{}", 64, MEDSEAL_INVALID_ARGUMENT, "0x40");
    CANON_ERR("{}", 0x80000000u, MEDSEAL_INVALID_ARGUMENT, "0x80000000");
    CANON_ERR("{}", 0xFFFFFFFFu, MEDSEAL_INVALID_ARGUMENT, NULL);
    CANON_ERR("{}", MEDSEAL_CANON_PLAIN | 128, MEDSEAL_INVALID_ARGUMENT, "0x80");
    /* Every known flag on its own is accepted. */
    const uint32_t known[] = {MEDSEAL_CANON_PLAIN, MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS, MEDSEAL_CANON_NORMALIZE_NFC,
                              MEDSEAL_CANON_FHIR_DATA, MEDSEAL_CANON_FHIR_STATIC, MEDSEAL_CANON_FHIR_DOCUMENT};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        CANON_OK("{\"resourceType\":\"Basic\"}", known[i], "{\"resourceType\":\"Basic\"}");
    }
}

int main(void) {
    test_basics();
    test_syntax_errors();
    test_ijson_errors();
    test_lossy_numbers();
    test_nfc();
    test_limits();
    test_fhir();
    test_unknown_flags();
    return check_summary();
}
