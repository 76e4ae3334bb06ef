#!/usr/bin/env bash
# Test fixtures for the medseal C signer tests (tests/c/test_signers.c and the examples
# examples/c/sign_with_callback.c, examples/c/sign_with_pkcs11.c). Run by tests/c/run.sh:
#
#   bash tests/c/fixtures.sh OUT_DIR
#
# Makes, fresh on every run, under OUT_DIR (build/c/fixtures; nothing here is committed):
#
#   pki/  a test PKI made with the openssl CLI. All windows are fixed (`openssl ca -startdate
#         -enddate`), so tests can sign at chosen times:
#           root.pem           root CA, RSA-2048, 2020-01-01 to 2040-01-01
#           intermediate.pem   intermediate CA, P-256, pathlen 0, issued by the root, same window
#           signer-ec.*        signer, P-256, digitalSignature + nonRepudiation, same window
#           signer-rsa.*       signer, RSA-2048, digitalSignature + nonRepudiation, same window
#           signer-nosig.*     P-256, keyAgreement only (neither digitalSignature nor nonRepudiation)
#           signer-past.*      P-256, signing usages, valid only 2024-01-01 to 2025-01-01
#           other-root.pem     an unrelated root CA (P-256), the "wrong anchor"
#         For each signer NAME: NAME.key (PKCS#8 PEM private key), NAME.pub.pem (its SPKI PEM
#         public key), NAME.pem (its certificate) and NAME-chain.pem (its certificate then the
#         intermediate's, as signers send x5c).
#   softhsm/  a SoftHSM2 token (own softhsm2.conf and token directory) labelled
#         "medseal-test" holding the signer-ec key as "ec-signer" and the signer-rsa key as
#         "rsa-signer", user PIN 246810.
#   env.sh  the exports tests need (sourced by run.sh):
#           MEDSEAL_TEST_FIXTURES        OUT_DIR
#           SOFTHSM2_CONF                the token's softhsm2.conf (read by the SoftHSM2 module)
#           MEDSEAL_TEST_PKCS11_MODULE   path of libsofthsm2.so
#           MEDSEAL_TEST_PKCS11_TOKEN    token label
#           MEDSEAL_TEST_PKCS11_EC_KEY   label of the P-256 key
#           MEDSEAL_TEST_PKCS11_RSA_KEY  label of the RSA key
#           MEDSEAL_TEST_PKCS11_PIN      user PIN
#
# TEST KEYS ONLY: generated per run, they protect nothing. Needs openssl and SoftHSM2
# (softhsm2-util and the module); if they are missing this fails, naming
# scripts/install-deps.sh: the PKCS#11 tests are never skipped silently.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
OUT=$1

missing() {
    echo "error: $1 not found: the C signer tests need it. Install the test dependencies with" >&2
    echo "       bash scripts/install-deps.sh   (Debian: $2)" >&2
    exit 1
}
command -v openssl >/dev/null 2>&1 || missing "openssl" "apt-get install openssl"
command -v softhsm2-util >/dev/null 2>&1 || missing "softhsm2-util" "apt-get install softhsm2"
MODULE=""
for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
    if [ -e "$candidate" ]; then
        MODULE=$candidate
        break
    fi
done
[ -n "$MODULE" ] || missing "the SoftHSM2 PKCS#11 module (libsofthsm2.so)" "apt-get install softhsm2"

rm -rf "$OUT"
mkdir -p "$OUT/pki/newcerts" "$OUT/softhsm/tokens"
OUT=$(cd "$OUT" && pwd)
PKI=$OUT/pki
: >"$PKI/index.txt"
echo 1000 >"$PKI/serial"

# ---- the PKI ------------------------------------------------------------------------------
# `openssl ca` rather than `openssl x509 -req`, because only it sets both ends of the window
# on OpenSSL 3.0. `preserve = yes` keeps subject names in the order given.
cat >"$PKI/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca

[ test_ca ]
database = $PKI/index.txt
new_certs_dir = $PKI/newcerts
serial = $PKI/serial
default_md = sha256
policy = policy_any
preserve = yes
unique_subject = no
copy_extensions = none
email_in_dn = no

[ policy_any ]
countryName = optional
organizationName = optional
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]
CN = unused

[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_intermediate ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_signer ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_no_signing ]
basicConstraints = critical, CA:false
keyUsage = critical, keyAgreement
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

# The window of every certificate but signer-past.
FROM=20200101000000Z
UNTIL=20400101000000Z

new_key() { # NAME ec|rsa
    case $2 in
        ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" ;;
        rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/$1.key" 2>/dev/null ;;
    esac
}

# issue NAME SUBJECT EXTENSIONS ISSUER|self START END: a certificate for NAME.key.
issue() {
    local name=$1 subject=$2 ext=$3 issuer=$4 start=$5 end=$6
    openssl req -new -config "$PKI/ca.cnf" -key "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr"
    local signed_by=(-cert "$PKI/$issuer.pem" -keyfile "$PKI/$issuer.key")
    if [ "$issuer" = self ]; then
        signed_by=(-selfsign -keyfile "$PKI/$name.key")
    fi
    openssl ca -batch -notext -config "$PKI/ca.cnf" -extensions "$ext" -startdate "$start" -enddate "$end" \
        "${signed_by[@]}" -in "$PKI/$name.csr" -out "$PKI/$name.pem" 2>"$PKI/$name.ca.log" || {
        cat "$PKI/$name.ca.log" >&2
        exit 1
    }
    rm -f "$PKI/$name.csr" "$PKI/$name.ca.log"
}

new_key root rsa
issue root "/C=VN/O=medseal TEST ONLY/CN=medseal test root CA" v3_root self "$FROM" "$UNTIL"
new_key intermediate ec
issue intermediate "/C=VN/O=medseal TEST ONLY/CN=medseal test intermediate CA" v3_intermediate root \
    "$FROM" "$UNTIL"
new_key signer-ec ec
issue signer-ec "/C=VN/O=Cho Ray Hospital TEST ONLY/CN=medseal test signer EC" v3_signer intermediate \
    "$FROM" "$UNTIL"
new_key signer-rsa rsa
issue signer-rsa "/C=VN/O=Cho Ray Hospital TEST ONLY/CN=medseal test signer RSA" v3_signer intermediate \
    "$FROM" "$UNTIL"
new_key signer-nosig ec
issue signer-nosig "/C=VN/O=Cho Ray Hospital TEST ONLY/CN=medseal test key agreement only" v3_no_signing \
    intermediate "$FROM" "$UNTIL"
new_key signer-past ec
issue signer-past "/C=VN/O=Cho Ray Hospital TEST ONLY/CN=medseal test signer 2024" v3_signer intermediate \
    20240101000000Z 20250101000000Z
new_key other-root ec
issue other-root "/C=VN/O=medseal TEST ONLY/CN=medseal unrelated root CA" v3_root self "$FROM" "$UNTIL"

for name in signer-ec signer-rsa signer-nosig signer-past; do
    cat "$PKI/$name.pem" "$PKI/intermediate.pem" >"$PKI/$name-chain.pem"
    openssl pkey -in "$PKI/$name.key" -pubout -out "$PKI/$name.pub.pem"
done

# The certificates must say what the tests expect of them.
openssl verify -CAfile "$PKI/root.pem" -untrusted "$PKI/intermediate.pem" \
    "$PKI/signer-ec.pem" "$PKI/signer-rsa.pem" "$PKI/signer-nosig.pem" >/dev/null
for name in signer-ec signer-rsa signer-past; do
    openssl x509 -in "$PKI/$name.pem" -noout -ext keyUsage | grep -q 'Digital Signature, Non Repudiation' || {
        echo "error: $name.pem lacks digitalSignature/nonRepudiation" >&2
        exit 1
    }
done
if openssl x509 -in "$PKI/signer-nosig.pem" -noout -ext keyUsage | grep -qE 'Digital Signature|Non Repudiation'; then
    echo "error: signer-nosig.pem allows signing" >&2
    exit 1
fi
openssl x509 -in "$PKI/signer-past.pem" -noout -startdate -enddate | tr '\n' ' ' |
    grep -q 'notBefore=Jan  1 00:00:00 2024 GMT notAfter=Jan  1 00:00:00 2025 GMT' || {
    echo "error: signer-past.pem does not have the 2024 window" >&2
    exit 1
}
echo "pki: $(ls "$PKI"/*.pem | wc -l) PEM files in $PKI"

# ---- the SoftHSM2 token -------------------------------------------------------------------
TOKEN=medseal-test
PIN=246810
SO_PIN=13579111
EC_LABEL=ec-signer
RSA_LABEL=rsa-signer
export SOFTHSM2_CONF=$OUT/softhsm/softhsm2.conf
cat >"$SOFTHSM2_CONF" <<EOF
directories.tokendir = $OUT/softhsm/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
softhsm2-util --init-token --free --label "$TOKEN" --pin "$PIN" --so-pin "$SO_PIN" >/dev/null
softhsm2-util --import "$PKI/signer-ec.key" --token "$TOKEN" --label "$EC_LABEL" --id 01 --pin "$PIN" >/dev/null
softhsm2-util --import "$PKI/signer-rsa.key" --token "$TOKEN" --label "$RSA_LABEL" --id 02 --pin "$PIN" >/dev/null
softhsm2-util --show-slots | grep -q "Label:.*$TOKEN" || {
    echo "error: the SoftHSM2 token $TOKEN is not listed by softhsm2-util --show-slots" >&2
    exit 1
}
# Each imported key is a private and a public key object: one file each in the token's
# directory, beside token.object (the token itself).
objects=$(find "$OUT/softhsm/tokens" -name '*.object' ! -name token.object | wc -l)
if [ "$objects" -ne 4 ]; then
    echo "error: the token holds $objects objects after importing two key pairs (want 4)" >&2
    exit 1
fi
echo "softhsm: token $TOKEN with keys $EC_LABEL (P-256) and $RSA_LABEL (RSA-2048), $objects objects"

bash "$(dirname "${BASH_SOURCE[0]}")/ledger_fixtures.sh" "$OUT/ledger" # receipts made with openssl, not medseal
cat >"$OUT/env.sh" <<EOF
export MEDSEAL_TEST_FIXTURES='$OUT'
export SOFTHSM2_CONF='$SOFTHSM2_CONF'
export MEDSEAL_TEST_PKCS11_MODULE='$MODULE'
export MEDSEAL_TEST_PKCS11_TOKEN='$TOKEN'
export MEDSEAL_TEST_PKCS11_EC_KEY='$EC_LABEL'
export MEDSEAL_TEST_PKCS11_RSA_KEY='$RSA_LABEL'
export MEDSEAL_TEST_PKCS11_PIN='$PIN'
EOF
