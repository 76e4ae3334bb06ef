/*
 * A tiny assertion helper for the medseal C ABI tests (no external framework).
 *
 * Each test program is one translation unit that includes this header; the counters are
 * atomic so checks may run on several threads. A program ends with `return check_summary();`,
 * which prints "N passed, M failed" and gives the exit status.
 *
 * Note for readers: fallible medseal calls (those returning medseal_result) reset this thread's
 * last error; calls that cannot fail (names, versions, accessors, _free) keep it. The failure
 * reporters below still read the message first, which works either way.
 */
#ifndef MEDSEAL_TEST_CHECK_H
#define MEDSEAL_TEST_CHECK_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medseal.h"

static atomic_long check_passed_;
static atomic_long check_failed_;

/* Values stored into output slots before a call that must fail; they must survive it. */
#define SENTINEL_PTR ((void *)(uintptr_t)0x5EA15EA1u)
#define SENTINEL_U32 ((uint32_t)0xA5A5A5A5u)
#define SENTINEL_LEN ((size_t)0x5EA1u)

/* This thread's last error message, copied into `buf` (truncated to fit, always terminated). */
static inline const char *check_last_error(char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    medseal_result rc = medseal_last_error_message((uint8_t *)buf, cap, &len);
    if (rc == MEDSEAL_BUFFER_TOO_SMALL) {
        char *big = (char *)malloc(len + 1);
        if (big != NULL) {
            if (medseal_last_error_message((uint8_t *)big, len + 1, &len) == MEDSEAL_OK) {
                memcpy(buf, big, cap - 1);
                buf[cap - 1] = '\0';
            }
            free(big);
        }
    } else if (rc != MEDSEAL_OK) {
        snprintf(buf, cap, "<medseal_last_error_message failed: %d>", (int)rc);
    }
    return buf;
}

static inline int check_true_(int ok, const char *expr, const char *file, int line) {
    if (ok) {
        atomic_fetch_add(&check_passed_, 1);
        return 1;
    }
    atomic_fetch_add(&check_failed_, 1);
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, expr);
    return 0;
}

static inline int check_rc_(medseal_result got, medseal_result want, const char *expr, const char *file, int line) {
    if (got == want) {
        atomic_fetch_add(&check_passed_, 1);
        return 1;
    }
    char message[512];
    check_last_error(message, sizeof message); /* first: the name lookups below reset it */
    atomic_fetch_add(&check_failed_, 1);
    fprintf(stderr, "FAIL %s:%d: %s\n  got %s (%d), want %s (%d)\n  last error: \"%s\"\n", file, line, expr,
            medseal_result_name(got), (int)got, medseal_result_name(want), (int)want, message);
    return 0;
}

static inline int check_mem_(const void *got, size_t got_len, const void *want, size_t want_len, const char *expr,
                      const char *file, int line) {
    if (got_len == want_len && (want_len == 0 || (got != NULL && memcmp(got, want, want_len) == 0))) {
        atomic_fetch_add(&check_passed_, 1);
        return 1;
    }
    atomic_fetch_add(&check_failed_, 1);
    fprintf(stderr, "FAIL %s:%d: %s\n  got  (%zu bytes) \"%.*s\"\n  want (%zu bytes) \"%.*s\"\n", file, line, expr,
            got_len, got == NULL ? 6 : (int)got_len, got == NULL ? "<NULL>" : (const char *)got, want_len,
            (int)want_len, (const char *)want);
    return 0;
}

/* Whether bytes [haystack, haystack + len) contain the C string `needle` (counts nothing). */
static inline int mem_contains(const void *haystack, size_t len, const char *needle) {
    size_t n = strlen(needle);
    const char *h = (const char *)haystack;
    if (h == NULL || n > len) {
        return 0;
    }
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(h + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static inline int check_contains_(const char *haystack, size_t haystack_len, const char *needle, const char *expr,
                           const char *file, int line) {
    if (mem_contains(haystack, haystack_len, needle)) {
        atomic_fetch_add(&check_passed_, 1);
        return 1;
    }
    atomic_fetch_add(&check_failed_, 1);
    fprintf(stderr, "FAIL %s:%d: %s\n  \"%.*s\" does not contain \"%s\"\n", file, line, expr,
            haystack == NULL ? 6 : (int)haystack_len, haystack == NULL ? "<NULL>" : haystack, needle);
    return 0;
}

static inline int check_error_contains_(const char *needle, const char *file, int line) {
    char message[1024];
    check_last_error(message, sizeof message);
    return check_contains_(message, strlen(message), needle, "last error message", file, line);
}

/* A condition. Returns 1 if it held, so tests can guard follow-up checks. */
#define CHECK(cond) check_true_((cond) ? 1 : 0, #cond, __FILE__, __LINE__)
/* A result code. */
#define CHECK_RC(expr, want) check_rc_((expr), (want), #expr, __FILE__, __LINE__)
#define CHECK_OK(expr) CHECK_RC(expr, MEDSEAL_OK)
/* Bytes [ptr, ptr + len) equal the C string `want` (without its NUL). */
#define CHECK_MEM(ptr, len, want) \
    check_mem_((ptr), (len), (want), strlen(want), #ptr " == " #want, __FILE__, __LINE__)
/* Bytes equal a byte array of known length (may hold NULs). */
#define CHECK_BYTES(ptr, len, want, want_len) \
    check_mem_((ptr), (len), (want), (want_len), #ptr " == " #want, __FILE__, __LINE__)
/* NUL-terminated strings are equal. */
#define CHECK_STR(got, want) \
    check_mem_((got), (got) == NULL ? 0 : strlen(got), (want), strlen(want), #got " == " #want, __FILE__, __LINE__)
/* Bytes [ptr, ptr + len) contain the C string `needle`. */
#define CHECK_CONTAINS(ptr, len, needle) \
    check_contains_((const char *)(ptr), (len), (needle), #ptr " contains " #needle, __FILE__, __LINE__)
/* This thread's last error message contains `needle`. */
#define CHECK_ERROR_CONTAINS(needle) check_error_contains_((needle), __FILE__, __LINE__)

/* For setup steps the rest of a test depends on: stop the program if they fail. */
#define REQUIRE_OK(expr)                                                                          \
    do {                                                                                          \
        if (!CHECK_OK(expr)) {                                                                    \
            fprintf(stderr, "FATAL %s:%d: setup step failed, stopping\n", __FILE__, __LINE__);    \
            exit(2);                                                                              \
        }                                                                                         \
    } while (0)

/* A medseal_buffer holds exactly the C string `want`. */
#define CHECK_BUF(b, want)                                                                            \
    check_mem_(medseal_buffer_data(b), medseal_buffer_len(b), (want), strlen(want), #b " == " #want, __FILE__, \
               __LINE__)

static inline int check_summary(void) {
    long passed = atomic_load(&check_passed_);
    long failed = atomic_load(&check_failed_);
    printf("%ld passed, %ld failed\n", passed, failed);
    fflush(stdout);
    return failed == 0 && passed > 0 ? 0 : 1;
}

/* ---- shared helpers for the test programs ------------------------------------------------ */

/* malloc that never returns NULL (a test cannot go on without memory). */
static inline void *xmalloc(size_t n) {
    void *p = malloc(n == 0 ? 1 : n);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

/* base64url without padding (RFC 4648 section 5), NUL-terminated; free() it. */
static inline char *b64url(const void *data, size_t len) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const uint8_t *p = (const uint8_t *)data;
    char *out = (char *)xmalloc(len / 3 * 4 + 5);
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

/* A NUL-terminated copy of a buffer; free() it. */
static inline char *buf_str(const medseal_buffer *buf) {
    size_t len = medseal_buffer_len(buf);
    char *s = (char *)xmalloc(len + 1);
    if (len > 0) {
        memcpy(s, medseal_buffer_data(buf), len);
    }
    s[len] = '\0';
    return s;
}

#endif /* MEDSEAL_TEST_CHECK_H */
