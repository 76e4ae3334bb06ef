/* medseal: macro-free declarations for PHP FFI and cffi. Generated from medseal.h; do not edit. */
enum medseal_result
 {
  MEDSEAL_OK = 0,
  MEDSEAL_NULL_ARGUMENT = 1,
  MEDSEAL_INVALID_ARGUMENT = 2,
  MEDSEAL_BUFFER_TOO_SMALL = 3,
  MEDSEAL_INVALID_UTF8_ARGUMENT = 4,
  MEDSEAL_PANIC = 5,
  MEDSEAL_UNSUPPORTED = 6,
  MEDSEAL_SYSTEM_ERROR = 7,
  MEDSEAL_JSON_SYNTAX = 100,
  MEDSEAL_JSON_INVALID_UTF8 = 101,
  MEDSEAL_JSON_DUPLICATE_KEY = 102,
  MEDSEAL_JSON_LONE_SURROGATE = 103,
  MEDSEAL_JSON_NUMBER_OUT_OF_RANGE = 104,
  MEDSEAL_JSON_LOSSY_NUMBER = 105,
  MEDSEAL_JSON_NOT_NFC = 106,
  MEDSEAL_JSON_TOO_DEEP = 107,
  MEDSEAL_JSON_TOO_LARGE = 108,
  MEDSEAL_JSON_NOT_FHIR = 109,
  MEDSEAL_KEY_FORMAT = 200,
  MEDSEAL_KEY_UNSUPPORTED = 201,
  MEDSEAL_KEY_ENCRYPTED = 202,
  MEDSEAL_KEY_INVALID = 203,
  MEDSEAL_KEY_SIZE = 204,
  MEDSEAL_KEY_NOT_PRIVATE = 205,
  MEDSEAL_JWS_MALFORMED = 300,
  MEDSEAL_JWS_BASE64 = 301,
  MEDSEAL_JWS_HEADER = 302,
  MEDSEAL_JWS_ALG_FORBIDDEN = 303,
  MEDSEAL_JWS_ALG_UNKNOWN = 304,
  MEDSEAL_JWS_ALG_MISMATCH = 305,
  MEDSEAL_JWS_CRIT_UNKNOWN = 306,
  MEDSEAL_JWS_SIGNATURE_INVALID = 307,
  MEDSEAL_JWS_NO_KEYS = 308,
  MEDSEAL_JWS_PAYLOAD_MISSING = 309,
  MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL = 310,
  MEDSEAL_SEAL_MALFORMED = 400,
  MEDSEAL_SEAL_NOT_PROTOBUF = 401,
  MEDSEAL_SEAL_TRUNCATED = 402,
  MEDSEAL_SEAL_UNKNOWN_SUITE = 403,
  MEDSEAL_SEAL_WRONG_RECIPIENT = 404,
  MEDSEAL_SEAL_DECRYPT_FAILED = 405,
  MEDSEAL_SEAL_TOO_LARGE = 406,
  MEDSEAL_SEAL_ZERO_SHARED_SECRET = 407,
  MEDSEAL_SEAL_META_INVALID = 408,
  MEDSEAL_CERT_INVALID = 500,
  MEDSEAL_CERT_EXPIRED = 501,
  MEDSEAL_CERT_NOT_YET_VALID = 502,
  MEDSEAL_CERT_UNKNOWN_ISSUER = 503,
  MEDSEAL_CERT_KEY_USAGE = 504,
  MEDSEAL_CERT_CHAIN_BROKEN = 505,
  MEDSEAL_SIGNED_OUTSIDE_VALIDITY = 506,
  MEDSEAL_TRUST_LIST_INVALID = 507,
  MEDSEAL_TRUST_LIST_EXPIRED = 508,
  MEDSEAL_TRUST_LIST_STALE = 509,
  MEDSEAL_TRUST_LIST_SIGNATURE = 510,
  MEDSEAL_TRUST_UNKNOWN_SIGNER = 511,
  MEDSEAL_SIGNER_FAILED = 600,
  MEDSEAL_SIGNER_BAD_SIGNATURE = 601,
  MEDSEAL_SIGNER_CERT_MISMATCH = 602,
  MEDSEAL_SIGNING_TIME_SKEW = 603,
  MEDSEAL_PKCS11_MODULE = 604,
  MEDSEAL_PKCS11_TOKEN_NOT_FOUND = 605,
  MEDSEAL_PKCS11_KEY_NOT_FOUND = 606,
  MEDSEAL_PKCS11_PIN = 607,
  MEDSEAL_PKCS11_DEVICE = 608,
  MEDSEAL_OUTBOX_IO = 700,
  MEDSEAL_OUTBOX_BUSY = 701,
  MEDSEAL_OUTBOX_SCHEMA = 702,
  MEDSEAL_OUTBOX_NOT_FOUND = 703,
  MEDSEAL_OUTBOX_STATE = 704,
  MEDSEAL_OUTBOX_DUPLICATE = 705,
  MEDSEAL_OUTBOX_SEQUENCE = 706,
  MEDSEAL_TRANSPORT_CONNECT = 800,
  MEDSEAL_TRANSPORT_TIMEOUT = 801,
  MEDSEAL_TRANSPORT_TLS = 802,
  MEDSEAL_TRANSPORT_HTTP = 803,
  MEDSEAL_TRANSPORT_REJECTED = 804,
  MEDSEAL_TRANSPORT_PROTOCOL = 805,
  MEDSEAL_TRANSPORT_CONFIG = 806,
  MEDSEAL_LEDGER_PROOF_INVALID = 900,
  MEDSEAL_LEDGER_TREE_HEAD_INVALID = 901,
  MEDSEAL_LEDGER_RECEIPT_INVALID = 902,
  MEDSEAL_LEDGER_RANGE = 903,
  MEDSEAL_LEDGER_FORK = 904,
};
typedef int32_t medseal_result;

enum medseal_alg
 {
  MEDSEAL_ALG_FROM_KEY = 0,
  MEDSEAL_ALG_EDDSA = 1,
  MEDSEAL_ALG_ES256 = 2,
  MEDSEAL_ALG_RS256 = 3,
  MEDSEAL_ALG_PS256 = 4,
};
typedef uint32_t medseal_alg;

enum medseal_key_format
 {
  MEDSEAL_KEY_FORMAT_PKCS8_DER = 1,
  MEDSEAL_KEY_FORMAT_PKCS8_PEM = 2,
  MEDSEAL_KEY_FORMAT_PKCS8_V2_DER = 3,
  MEDSEAL_KEY_FORMAT_PKCS8_V2_PEM = 4,
  MEDSEAL_KEY_FORMAT_SPKI_DER = 5,
  MEDSEAL_KEY_FORMAT_SPKI_PEM = 6,
  MEDSEAL_KEY_FORMAT_JWK = 7,
  MEDSEAL_KEY_FORMAT_RAW_PRIVATE = 8,
  MEDSEAL_KEY_FORMAT_RAW_PUBLIC = 9,
};
typedef uint32_t medseal_key_format;

enum medseal_jws_format
 {
  MEDSEAL_JWS_FLATTENED = 1,
  MEDSEAL_JWS_COMPACT = 2,
  MEDSEAL_JWS_DETACHED_COMPACT = 3,
  MEDSEAL_JWS_DETACHED_FLATTENED = 4,
};
typedef uint32_t medseal_jws_format;

enum medseal_canon_flag
 {
  MEDSEAL_CANON_PLAIN = 1,
  MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS = 2,
  MEDSEAL_CANON_NORMALIZE_NFC = 4,
  MEDSEAL_CANON_FHIR_DATA = 8,
  MEDSEAL_CANON_FHIR_STATIC = 16,
  MEDSEAL_CANON_FHIR_DOCUMENT = 32,
};
typedef uint32_t medseal_canon_flag;

enum medseal_payload_kind
 {
  MEDSEAL_PAYLOAD_BYTES = 1,
  MEDSEAL_PAYLOAD_DOCUMENT = 2,
};
typedef uint32_t medseal_payload_kind;

enum medseal_aead
 {
  MEDSEAL_AEAD_AES_256_GCM = 2,
  MEDSEAL_AEAD_CHACHA20_POLY1305 = 3,
};
typedef uint32_t medseal_aead;

enum medseal_envelope_encoding
 {
  MEDSEAL_ENVELOPE_JSON = 1,
  MEDSEAL_ENVELOPE_PROTOBUF = 2,
};
typedef uint32_t medseal_envelope_encoding;

enum medseal_trusted_by
 {
  MEDSEAL_TRUSTED_BY_KEY = 1,
  MEDSEAL_TRUSTED_BY_CERTIFICATE = 2,
  MEDSEAL_TRUSTED_BY_TRUST_LIST = 3,
};
typedef uint32_t medseal_trusted_by;

typedef struct medseal_buffer medseal_buffer;

typedef struct medseal_deliverer medseal_deliverer;

typedef struct medseal_delivery_report medseal_delivery_report;

typedef struct medseal_envelope medseal_envelope;

typedef struct medseal_key medseal_key;

typedef struct medseal_local_receipt medseal_local_receipt;

typedef struct medseal_meta medseal_meta;

typedef struct medseal_outbox medseal_outbox;

typedef struct medseal_outbox_status medseal_outbox_status;

typedef struct medseal_receipt medseal_receipt;

typedef struct medseal_recipient_key medseal_recipient_key;

typedef struct medseal_signer medseal_signer;

typedef struct medseal_signer_builder medseal_signer_builder;

typedef struct medseal_transport medseal_transport;

typedef struct medseal_transport_builder medseal_transport_builder;

typedef struct medseal_trust_list medseal_trust_list;

typedef struct medseal_verified medseal_verified;

typedef struct medseal_verifier medseal_verifier;

typedef struct medseal_verifier_builder medseal_verifier_builder;

typedef int32_t (*medseal_sign_callback)(void *ctx, const uint8_t *message, size_t message_len, uint8_t *signature, size_t signature_cap, size_t *signature_len);

typedef int64_t (*medseal_clock_callback)(void *ctx);

const uint8_t *medseal_buffer_data(const struct medseal_buffer *buf);

size_t medseal_buffer_len(const struct medseal_buffer *buf);

void medseal_buffer_free(struct medseal_buffer *buf);

medseal_result medseal_json_canonicalize(const uint8_t *json, size_t len, uint32_t flags, struct medseal_buffer **out);

const char *medseal_result_describe(int32_t code);

const char *medseal_result_name(int32_t code);

medseal_result medseal_last_error_message(uint8_t *buf, size_t cap, size_t *len);

medseal_result medseal_key_generate(uint32_t alg, struct medseal_key **out);

medseal_result medseal_key_import(const uint8_t *data, size_t len, uint32_t alg, struct medseal_key **out);

medseal_result medseal_key_export(const struct medseal_key *key, uint32_t format, struct medseal_buffer **out);

medseal_result medseal_key_kid(const struct medseal_key *key, struct medseal_buffer **out);

medseal_result medseal_key_algorithm(const struct medseal_key *key, uint32_t *alg);

medseal_result medseal_key_has_private(const struct medseal_key *key, uint32_t *has_private);

void medseal_key_free(struct medseal_key *key);

medseal_result medseal_receipt_verify(const uint8_t *receipt, size_t receipt_len, const uint8_t *inclusion_proof, size_t proof_len, const struct medseal_key *receipt_key, const struct medseal_key *tree_head_key, const uint8_t *source, size_t source_len, const uint8_t *record_id, size_t record_id_len, const uint8_t *digest, size_t digest_len, struct medseal_receipt **out);

medseal_result medseal_receipt_ledger_index(const struct medseal_receipt *receipt, uint64_t *index);

medseal_result medseal_receipt_tree_size(const struct medseal_receipt *receipt, uint64_t *tree_size);

medseal_result medseal_receipt_sequence(const struct medseal_receipt *receipt, uint64_t *sequence);

medseal_result medseal_receipt_received(const struct medseal_receipt *receipt, int64_t *received);

medseal_result medseal_receipt_record_id(const struct medseal_receipt *receipt, const uint8_t **data, size_t *len);

medseal_result medseal_receipt_source(const struct medseal_receipt *receipt, const uint8_t **data, size_t *len);

medseal_result medseal_receipt_digest(const struct medseal_receipt *receipt, uint8_t *digest);

void medseal_receipt_free(struct medseal_receipt *receipt);

medseal_result medseal_ledger_verify_tree_head(const uint8_t *jws, size_t len, const struct medseal_key *tree_head_key, uint64_t *tree_size, int64_t *timestamp, uint8_t *root_hash);

medseal_result medseal_ledger_leaf_hash(const uint8_t *entry, size_t len, uint8_t *out);

medseal_result medseal_ledger_verify_inclusion(const uint8_t *leaf, uint64_t index, uint64_t size, const uint8_t *path, size_t path_len, const uint8_t *root);

medseal_result medseal_ledger_verify_consistency(uint64_t first, uint64_t second, const uint8_t *first_root, const uint8_t *second_root, const uint8_t *path, size_t path_len);

medseal_result medseal_outbox_open(const uint8_t *path, size_t path_len, const uint8_t *source, size_t source_len, const struct medseal_recipient_key *const *recipients, size_t n, struct medseal_outbox **out);

medseal_result medseal_outbox_open_with_signing_keys(const uint8_t *path, size_t path_len, const uint8_t *source, size_t source_len, const struct medseal_recipient_key *const *recipients, size_t n, const struct medseal_key *const *signing_keys, size_t n_keys, struct medseal_outbox **out);

void medseal_outbox_free(struct medseal_outbox *outbox);

medseal_result medseal_outbox_enqueue_signed(const struct medseal_outbox *outbox, const uint8_t *record_id, size_t record_id_len, const uint8_t *signed_record, size_t signed_record_len, struct medseal_local_receipt **out);

medseal_result medseal_outbox_get_receipt(const struct medseal_outbox *outbox, const uint8_t *record_id, size_t record_id_len, struct medseal_buffer **receipt, struct medseal_buffer **inclusion_proof);

medseal_result medseal_outbox_enqueue_sealed(const struct medseal_outbox *outbox, const uint8_t *envelope, size_t len, struct medseal_local_receipt **out);

medseal_result medseal_local_receipt_outbox_id(const struct medseal_local_receipt *receipt, int64_t *outbox_id);

medseal_result medseal_local_receipt_sequence(const struct medseal_local_receipt *receipt, uint64_t *sequence);

medseal_result medseal_local_receipt_enqueued_at(const struct medseal_local_receipt *receipt, int64_t *enqueued_at);

medseal_result medseal_local_receipt_already_queued(const struct medseal_local_receipt *receipt, uint32_t *already_queued);

medseal_result medseal_local_receipt_digest(const struct medseal_local_receipt *receipt, uint8_t *out, size_t cap, size_t *written);

void medseal_local_receipt_free(struct medseal_local_receipt *receipt);

medseal_result medseal_outbox_get_status(const struct medseal_outbox *outbox, struct medseal_outbox_status **out);

medseal_result medseal_outbox_status_queued(const struct medseal_outbox_status *status, uint64_t *count);

medseal_result medseal_outbox_status_in_flight(const struct medseal_outbox_status *status, uint64_t *count);

medseal_result medseal_outbox_status_delivered(const struct medseal_outbox_status *status, uint64_t *count);

medseal_result medseal_outbox_status_dead_letter(const struct medseal_outbox_status *status, uint64_t *count);

medseal_result medseal_outbox_status_discarded(const struct medseal_outbox_status *status, uint64_t *count);

medseal_result medseal_outbox_status_next_sequence(const struct medseal_outbox_status *status, uint64_t *sequence);

medseal_result medseal_outbox_status_oldest_queued_at(const struct medseal_outbox_status *status, uint32_t *present, int64_t *at);

medseal_result medseal_outbox_status_next_attempt_at(const struct medseal_outbox_status *status, uint32_t *present, int64_t *at);

void medseal_outbox_status_free(struct medseal_outbox_status *status);

medseal_result medseal_outbox_dead_letter_count(const struct medseal_outbox *outbox, uint64_t *count);

medseal_result medseal_outbox_dead_letter_ids(const struct medseal_outbox *outbox, int64_t *ids, size_t cap, size_t *written);

medseal_result medseal_outbox_requeue(const struct medseal_outbox *outbox, int64_t outbox_id);

medseal_result medseal_outbox_discard(const struct medseal_outbox *outbox, int64_t outbox_id, const uint8_t *why, size_t len);

medseal_result medseal_outbox_withdraw(const struct medseal_outbox *outbox, int64_t outbox_id, const uint8_t *reason, size_t len);

medseal_result medseal_outbox_withdraw_signed(const struct medseal_outbox *outbox, int64_t outbox_id, const uint8_t *reason, size_t len, const struct medseal_signer *signer);

medseal_result medseal_outbox_backup(const struct medseal_outbox *outbox, const uint8_t *path, size_t len);

medseal_result medseal_recipient_key_generate(struct medseal_recipient_key **out);

medseal_result medseal_recipient_key_import(const uint8_t *data, size_t len, struct medseal_recipient_key **out);

medseal_result medseal_recipient_key_from_raw(const uint8_t *data, size_t len, uint32_t kind, struct medseal_recipient_key **out);

medseal_result medseal_recipient_key_export(const struct medseal_recipient_key *key, uint32_t format, struct medseal_buffer **out);

medseal_result medseal_recipient_key_kid(const struct medseal_recipient_key *key, struct medseal_buffer **out);

medseal_result medseal_recipient_key_has_private(const struct medseal_recipient_key *key, uint32_t *has_private);

void medseal_recipient_key_free(struct medseal_recipient_key *key);

medseal_result medseal_meta_new(const uint8_t *record_id, size_t record_id_len, const uint8_t *source, size_t source_len, uint64_t sequence, struct medseal_meta **out);

medseal_result medseal_meta_set_created(struct medseal_meta *meta, const uint8_t *created, size_t len);

medseal_result medseal_meta_set_content_type(struct medseal_meta *meta, const uint8_t *content_type, size_t len);

void medseal_meta_free(struct medseal_meta *meta);

medseal_result medseal_envelope_seal_into(const uint8_t *plaintext, size_t len, const struct medseal_meta *meta, const struct medseal_recipient_key *const *recipients, size_t recipients_len, uint32_t aead, uint8_t *out, size_t cap, size_t *written);

medseal_result medseal_envelope_seal(const uint8_t *plaintext, size_t len, const struct medseal_meta *meta, const struct medseal_recipient_key *const *recipients, size_t recipients_len, uint32_t aead, uint32_t encoding, struct medseal_buffer **out);

medseal_result medseal_signer_sign_and_seal(const struct medseal_signer *signer, const uint8_t *document, size_t len, const struct medseal_meta *meta, const struct medseal_recipient_key *const *recipients, size_t recipients_len, uint32_t aead, uint32_t encoding, struct medseal_buffer **out);

medseal_result medseal_envelope_decode(const uint8_t *data, size_t len, struct medseal_envelope **out);

medseal_result medseal_envelope_meta(const struct medseal_envelope *envelope, struct medseal_buffer **out);

medseal_result medseal_recipient_key_open_into(const struct medseal_recipient_key *key, const uint8_t *data, size_t len, uint8_t *out, size_t cap, size_t *written);

medseal_result medseal_envelope_open_into(const struct medseal_envelope *envelope, const struct medseal_recipient_key *key, uint8_t *out, size_t cap, size_t *written);

medseal_result medseal_envelope_open(const struct medseal_envelope *envelope, const struct medseal_recipient_key *key, struct medseal_buffer **out);

medseal_result medseal_envelope_open_verified(const struct medseal_envelope *envelope, const struct medseal_recipient_key *key, const struct medseal_verifier *verifier, struct medseal_verified **out);

void medseal_envelope_free(struct medseal_envelope *envelope);

medseal_result medseal_signer_builder_new(const struct medseal_key *key, struct medseal_signer_builder **out);

medseal_result medseal_signer_builder_from_callback(const struct medseal_key *public_key, medseal_sign_callback callback, void *ctx, struct medseal_signer_builder **out);

medseal_result medseal_signer_from_callback(const struct medseal_key *public_key, medseal_sign_callback callback, void *ctx, struct medseal_signer **out);

medseal_result medseal_signer_builder_from_pkcs11(const uint8_t *module, size_t module_len, const uint8_t *token_label, size_t token_label_len, const uint8_t *key_label, size_t key_label_len, const uint8_t *pin, size_t pin_len, uint32_t alg, struct medseal_signer_builder **out);

medseal_result medseal_signer_builder_set_certificate_chain(struct medseal_signer_builder *builder, const uint8_t *chain, size_t len);

medseal_result medseal_signer_builder_set_max_clock_skew(struct medseal_signer_builder *builder, uint32_t seconds);

medseal_result medseal_signer_builder_set_clock(struct medseal_signer_builder *builder, medseal_clock_callback now, void *ctx);

medseal_result medseal_signer_builder_set_kid(struct medseal_signer_builder *builder, const uint8_t *kid, size_t len);

medseal_result medseal_signer_builder_set_commitment(struct medseal_signer_builder *builder, const uint8_t *oid, size_t len);

medseal_result medseal_signer_builder_set_signing_time(struct medseal_signer_builder *builder, int64_t unix_seconds);

medseal_result medseal_signer_builder_set_canon_flags(struct medseal_signer_builder *builder, uint32_t flags);

medseal_result medseal_signer_builder_build(const struct medseal_signer_builder *builder, struct medseal_signer **out);

void medseal_signer_builder_free(struct medseal_signer_builder *builder);

medseal_result medseal_signer_sign(const struct medseal_signer *signer, const uint8_t *document, size_t len, uint32_t format, struct medseal_buffer **out);

medseal_result medseal_signer_public_key(const struct medseal_signer *signer, struct medseal_key **out);

void medseal_signer_free(struct medseal_signer *signer);

medseal_result medseal_transport_builder_new(const uint8_t *url, size_t len, struct medseal_transport_builder **out);

medseal_result medseal_transport_builder_set_client_certificate(struct medseal_transport_builder *builder, const uint8_t *pem, size_t len);

medseal_result medseal_transport_builder_set_client_key(struct medseal_transport_builder *builder, const uint8_t *pem, size_t len);

medseal_result medseal_transport_builder_set_hub_ca(struct medseal_transport_builder *builder, const uint8_t *pem, size_t len);

medseal_result medseal_transport_builder_set_public_roots(struct medseal_transport_builder *builder, uint32_t on);

medseal_result medseal_transport_builder_set_receipt_key(struct medseal_transport_builder *builder, const struct medseal_key *key);

medseal_result medseal_transport_builder_set_tree_head_key(struct medseal_transport_builder *builder, const struct medseal_key *key);

medseal_result medseal_transport_builder_set_facility_dir(struct medseal_transport_builder *builder, const uint8_t *path, size_t len);

medseal_result medseal_transport_builder_set_client_key_pkcs11(struct medseal_transport_builder *builder, const uint8_t *module, size_t module_len, const uint8_t *token_label, size_t token_label_len, const uint8_t *key_label, size_t key_label_len, const uint8_t *pin, size_t pin_len);

medseal_result medseal_transport_builder_set_connect_timeout_ms(struct medseal_transport_builder *builder, uint32_t ms);

medseal_result medseal_transport_builder_set_timeout_ms(struct medseal_transport_builder *builder, uint32_t ms);

medseal_result medseal_transport_builder_set_batch_size(struct medseal_transport_builder *builder, uint32_t records);

medseal_result medseal_transport_builder_set_proxy(struct medseal_transport_builder *builder, const uint8_t *url, size_t len);

medseal_result medseal_transport_builder_set_proxy_from_env(struct medseal_transport_builder *builder, uint32_t on);

medseal_result medseal_transport_builder_build(const struct medseal_transport_builder *builder, struct medseal_transport **out);

void medseal_transport_builder_free(struct medseal_transport_builder *builder);

void medseal_transport_free(struct medseal_transport *transport);

medseal_result medseal_outbox_deliver(const struct medseal_outbox *outbox, const struct medseal_transport *transport, struct medseal_delivery_report **out);

medseal_result medseal_delivery_report_delivered(const struct medseal_delivery_report *report, uint64_t *count);

medseal_result medseal_delivery_report_duplicates(const struct medseal_delivery_report *report, uint64_t *count);

medseal_result medseal_delivery_report_dead_letters(const struct medseal_delivery_report *report, uint64_t *count);

medseal_result medseal_delivery_report_retried(const struct medseal_delivery_report *report, uint64_t *count);

medseal_result medseal_delivery_report_next_attempt_at(const struct medseal_delivery_report *report, uint32_t *present, int64_t *at);

medseal_result medseal_delivery_report_last_error(const struct medseal_delivery_report *report, medseal_result *code, const uint8_t **message, size_t *len);

void medseal_delivery_report_free(struct medseal_delivery_report *report);

medseal_result medseal_deliverer_start(const struct medseal_outbox *outbox, const struct medseal_transport *transport, uint32_t poll_interval_ms, struct medseal_deliverer **out);

void medseal_deliverer_notify(const struct medseal_deliverer *deliverer);

void medseal_deliverer_stop(const struct medseal_deliverer *deliverer);

medseal_result medseal_deliverer_last_report(const struct medseal_deliverer *deliverer, struct medseal_delivery_report **out);

void medseal_deliverer_free(struct medseal_deliverer *deliverer);

medseal_result medseal_trust_list_verify(const uint8_t *jws, size_t len, const struct medseal_key *list_key, int64_t now, uint64_t min_sequence, struct medseal_trust_list **out);

medseal_result medseal_trust_list_sequence(const struct medseal_trust_list *list, uint64_t *sequence);

medseal_result medseal_trust_list_expires(const struct medseal_trust_list *list, int64_t *expires);

medseal_result medseal_trust_list_entry_count(const struct medseal_trust_list *list, size_t *count);

medseal_result medseal_trust_list_sign(const uint8_t *json, size_t len, const struct medseal_key *key, struct medseal_buffer **out);

void medseal_trust_list_free(struct medseal_trust_list *list);

medseal_result medseal_verifier_builder_new(struct medseal_verifier_builder **out);

medseal_result medseal_verifier_builder_add_key(struct medseal_verifier_builder *builder, const struct medseal_key *key);

medseal_result medseal_verifier_builder_add_trust_anchors(struct medseal_verifier_builder *builder, const uint8_t *anchors, size_t len);

medseal_result medseal_verifier_builder_set_trust_list(struct medseal_verifier_builder *builder, const struct medseal_trust_list *list);

medseal_result medseal_verifier_builder_set_canon_flags(struct medseal_verifier_builder *builder, uint32_t flags);

medseal_result medseal_verifier_builder_build(const struct medseal_verifier_builder *builder, struct medseal_verifier **out);

void medseal_verifier_builder_free(struct medseal_verifier_builder *builder);

medseal_result medseal_verifier_verify(const struct medseal_verifier *verifier, const uint8_t *jws, size_t len, struct medseal_verified **out);

medseal_result medseal_verifier_verify_detached(const struct medseal_verifier *verifier, const uint8_t *jws, size_t len, const uint8_t *payload, size_t payload_len, uint32_t kind, struct medseal_verified **out);

medseal_result medseal_verifier_verify_record(const struct medseal_verifier *verifier, const uint8_t *jws, size_t len, struct medseal_verified **out);

void medseal_verifier_free(struct medseal_verifier *verifier);

medseal_result medseal_verified_payload(const struct medseal_verified *verified, const uint8_t **data, size_t *len);

medseal_result medseal_verified_key_id(const struct medseal_verified *verified, const uint8_t **data, size_t *len);

medseal_result medseal_verified_signing_time(const struct medseal_verified *verified, const uint8_t **data, size_t *len);

medseal_result medseal_verified_header(const struct medseal_verified *verified, const uint8_t **data, size_t *len);

medseal_result medseal_verified_algorithm(const struct medseal_verified *verified, uint32_t *alg);

medseal_result medseal_verified_trusted_by(const struct medseal_verified *verified, uint32_t *kind);

medseal_result medseal_verified_signer(const struct medseal_verified *verified, const uint8_t **data, size_t *len);

void medseal_verified_free(struct medseal_verified *verified);

const char *medseal_library_version(void);

uint32_t medseal_abi_version(void);

size_t medseal_key_kid_bytes(void);

size_t medseal_signer_max_signature_bytes(void);

