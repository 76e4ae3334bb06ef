/*
 * Key fixtures for the medseal C tests. TEST KEYS ONLY: generated once with OpenSSL 3.0
 * (`openssl genrsa -traditional`, `openssl genpkey`, `openssl pkcs8 -topk8`) for these tests;
 * they protect nothing and must never be used for real records.
 */
#ifndef MEDSEAL_TEST_FIXTURES_H
#define MEDSEAL_TEST_FIXTURES_H

/* RSA 2048-bit private key, PKCS#1 PEM (RSA PRIVATE KEY). */
static const char FIXTURE_RSA2048_PKCS1_PEM[] =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpQIBAAKCAQEAzhHHllONnEtibV99PGioZIt/UNwrT9P9Eypr9EEjLXBMJy+3\n"
    "omXcXP0q6TWgQrWuqCFoN1r7wsXsewJ4lmQY05enpAWER0l5hsLcGIgO4PBBHOw6\n"
    "LlIws8ryDK6LnB3r1sAij7NJf4X5nW4y3zOjW/oehB50lA/T4vXTPkg6ZR1yZRlq\n"
    "Jjjtel0Dcdn62rsrG7GOz+zq6vG7rsyaO1AjAM8/t7scWqbEsiT6RMnkf2M5yRcd\n"
    "beSjLDdIV7HwF3ubO9fR/Z2NWcQiMsslie6qsG7117JZzMG1Ml3pM3l6CB+3SBs/\n"
    "8Rh5JTGwgAi7Omsfsim/TqFjEAjjH6vKUaGNtQIDAQABAoIBACUGckk7CXhh3hU/\n"
    "QTn7pvfrzYwahwiwkung5yUrl/W31eL7kp/R8/pcPZvJ2BnsWW2ZlQdPKGmaVM9U\n"
    "RhTldsV72/HfUOFbHQP+2nto5N17JYPcGOcOOvRu/DcVnH2ILcH34y3VHZlVWeB0\n"
    "tpy+gzVJNzbvXuxkfKJsn1AzO5TDl0yYLpTr3lmcPp3o0QJcQXP5X/Ecz6HC/V3c\n"
    "3zJc7c9Ae0TJY4P/KyOz1N3hSGj8AxKjQ9SPVyjdlrqgx81AAhuD4Yx1YR69gcIw\n"
    "/X19V9+tlI+LuqEI5KqaDuCo8fuFE5UXTBABp78sZiquFNSihnKowvtH3oE5jVdq\n"
    "wPdBRtECgYEA8lwt2at+3lC8+sdxVoBukRhv3HwcQXk3FuauUJ1CLHJSdvbN0eEj\n"
    "rVWBu3H8xSS+XP8X8SrYktR84RViDgUbpbIt8vU9nSfn1pwdmBDgIqF2wIwn+Sbp\n"
    "h/kQFlblogDFVIoYvecsmdA6Am2oWQv/rhF7grsUJa9wTz7lbzI7J5ECgYEA2aq9\n"
    "nKmnn3BE1TgEXZrxvyKVQK3b2lp4Mkna5svU93MPlim9bZPD4sppXuLXrpt+AWb6\n"
    "SZPN0keoECw1CPsv8V+58mr5mTgf3WR5Q0MW7SExzfLkiX4WA1+bHJWcBUhJB3Sh\n"
    "+2/GwX3IOrWe4b/97JlPu6SxIfBSQaq8mNU6GeUCgYEAgX7BPOHGKvFG2FQCee6r\n"
    "pTlCY7OowU8MIV9mWkp8VhVLfKcIeBDsqCvc4pPYNFoaoMPoPgLfryx8ASQUvVr7\n"
    "V8Bpjrx8jGELHf9STLMPn1FYiy8YGKcy9mUctGL/1VzGExKqf6VqjlDU/gErh1DC\n"
    "73YF4WcmL7CauKzpmE1lkBECgYEAki7XNRXDm5Kcx83dMLhUzxb8wfmBg73qp2tu\n"
    "dj5CgwVlXGYf8C2jCvcBmVYjoAKRt4NfaHa5bhXtyx7FZ4i7BBJUIXiytLI6xEcs\n"
    "IX43MX5vom8UCTsCsbVNyP65T9riIP21o9XH2D8PcE51rAtzD6lPIShURgTOWYe/\n"
    "La1WXfkCgYEArrHcp5offO/iyO4Lui09sTyvQuXJ1RPy47obUItn87t3oNCrN/S0\n"
    "CKbAE6t/cxPM+zwEeop386ZjTskdMcX467SWg9qj9AzKgb/7umeYzW5tkDxff65b\n"
    "+AoyqoG4JoIfuJnaiOwt1wIaHhOwKqbx/waTa71aT7GN+XjVwgXr//Y=\n"
    "-----END RSA PRIVATE KEY-----\n"
    ;

/* RSA 1024-bit private key: too small for medseal (MEDSEAL_KEY_SIZE). */
static const char FIXTURE_RSA1024_PKCS1_PEM[] =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXwIBAAKBgQDbk68OjFZ13d99BEIqKHEabflXWgvUBdIWYKkMyI8aaohrSqjz\n"
    "QQnQjhiRaQDJNa7pmttT31j/a/61/0gCSHk4cY2cGM/XLouMeMwYEVa0Miki3QlP\n"
    "lnyM0gtZ+vE40eFYLdI/HR7zzH1+ODZcyBOieCSgs9K4TSgCu6SoLXf/WQIDAQAB\n"
    "AoGBALa9K/2Bkhs58dtLhf0r9yU1zUODb0CfL37sJwS6jU5AxxPz6LO5tv9Yot2x\n"
    "c7QA93b3J/2fbaP1LuAserNbuXVSV4J46Q3T/KpfogO4JSUeaQjY/t07yfuG4gYg\n"
    "/EBI+O0mhVoaE5ecbf+uWF41YOnfb2H2S/E9CPJ371PcZOzZAkEA/764blA3Hecs\n"
    "rZaeFM1U39g+DaOl1avxZSBWIKO1R8GudbbMV07KVXT9j5g1HDjGIEfsTUGqiS1q\n"
    "Ko+SEQhRDwJBANvLuzusvKnBYQ9GK4u3aTLz0pR3GoKIuQKSZQGTylBSFNSV98r6\n"
    "QYPZQYcYfLYxxYCbONQIK8DVUkyHNVDN2RcCQQDj7O4iIot8sxM2gg3RLE6AURC8\n"
    "xyR9EgjJv9ACtuRRV2RMtOXYyfe5wdJZr6VlyZOKIY+QKv350+fSlrHvTCIxAkEA\n"
    "2kepCSmSL9AhkSaxxk5+xiBI6DKkfDBF9FzovLlGOaBamYjaDpWcDNHs9rqF1/bz\n"
    "2rXMqR34PchctC2u8DGOPwJBAPRqbuWg+WPPv8oNmUIET1W5enHkjK2CbgNPt4fJ\n"
    "hDK2/VluXpnEEVKGlisw4BpRt+WzD4CNZ/vJV5I7qgxf+T4=\n"
    "-----END RSA PRIVATE KEY-----\n"
    ;

/* EC P-384 private key, PKCS#8 PEM: a curve medseal does not use (MEDSEAL_KEY_UNSUPPORTED). */
static const char FIXTURE_P384_PKCS8_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDlyOYQDbqFzA/6wba5\n"
    "t2dLZr1D/F4bfCpoLsEL9HxLFuqMi3pFr0lGYKU/p4V+kE6hZANiAATQdOHjDkeb\n"
    "EXnaCZP68ilzjyoUAiEd+suV5VXtbLDKWJiJqoz0tMWJUOsz1jUnJqhZQsEFkjCI\n"
    "Vu3J94uTxH6t7kdUfqLdF9JbH6Jxvu1qrEt2INOR8fQnhEOYS26PH+Q=\n"
    "-----END PRIVATE KEY-----\n"
    ;

/* Ed25519 key, encrypted PKCS#8 (password "secret"): MEDSEAL_KEY_ENCRYPTED. */
static const char FIXTURE_ED25519_ENCRYPTED_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhMx+PzianD3AICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEGZdFlknio1YP/mfpASrGZ4EQL+c\n"
    "igkHd8ejaO65MzCBB6rvJj5RARfOioVpyd1c0RlgysdcQqleI5nBulNTbCpVU7/S\n"
    "wt04BQ1kvFGW1zngOkw=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n"
    ;

#endif /* MEDSEAL_TEST_FIXTURES_H */
