// medseal.h from C++: the declarations have C linkage (this links against the C library and
// runs), and the result codes are a real enum with int32_t underneath.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "medseal.h"

static_assert(std::is_same<std::underlying_type<medseal_result>::type, int32_t>::value, "medseal_result is int32_t");
static_assert(std::is_same<std::underlying_type<medseal_alg>::type, uint32_t>::value, "medseal_alg is uint32_t");
static_assert(MEDSEAL_KID_BYTES == 43, "kid length");

int main() {
    int failed = 0;
    if (medseal_abi_version() != MEDSEAL_ABI_VERSION) {
        std::puts("FAIL abi version");
        failed++;
    }
    const char doc[] = "{\"b\":1,\"a\":2}";
    medseal_buffer *out = nullptr;
    medseal_result rc = medseal_json_canonicalize(reinterpret_cast<const uint8_t *>(doc), std::strlen(doc), 0, &out);
    if (rc != MEDSEAL_OK || medseal_buffer_len(out) != 13 ||
        std::memcmp(medseal_buffer_data(out), "{\"a\":2,\"b\":1}", 13) != 0) {
        std::puts("FAIL canonicalize");
        failed++;
    }
    medseal_buffer_free(out);
    if (std::strcmp(medseal_result_name(MEDSEAL_JSON_NOT_NFC), "MEDSEAL_JSON_NOT_NFC") != 0) {
        std::puts("FAIL result name");
        failed++;
    }
    std::printf("%d passed, %d failed\n", 3 - failed, failed);
    return failed == 0 ? 0 : 1;
}
