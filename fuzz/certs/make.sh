#!/usr/bin/env bash
# Made the test certificates of this directory once, with the openssl command: a P-256
# root → intermediate → leaf PKI with fixed validity windows, a few leaves that fail validation
# for one reason each, and a look-alike ("rogue") root, intermediate and leaf under the same names.
# The private keys live only in a temporary directory and are deleted at the end: only public
# certificates (and one JWS the leaf signed, leaf.jws) are kept. Running it again makes NEW
# keys, so every file here changes together; the fuzz seeds (../src/lib.rs) read them all.
#
#   bash fuzz/certs/make.sh
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

cat > ca.cnf <<'CNF'
[ca]
default_ca = fuzz
[fuzz]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
email_in_dn = no
[anything]
commonName = supplied
organizationName = optional
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[keyenc]
basicConstraints = critical, CA:false
keyUsage = critical, keyEncipherment
authorityKeyIdentifier = keyid
CNF

# key NAME [ALGORITHM]
key() {
    if [ "${2:-p256}" = ed25519 ]; then
        openssl genpkey -algorithm ed25519 -out "$1.key"
    else
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"
    fi
}
# cert NAME SUBJECT ISSUER(NAME or self) EXTENSIONS START END
cert() {
    local name="$1" subject="$2" issuer="$3" ext="$4" start="$5" end="$6"
    : > index.txt
    openssl rand -hex 8 > serial
    openssl req -new -config ca.cnf -key "$name.key" -subj "$subject" -out "$name.csr"
    if [ "$issuer" = self ]; then
        openssl ca -batch -notext -config ca.cnf -selfsign -keyfile "$name.key" -in "$name.csr" \
            -extensions "$ext" -startdate "$start" -enddate "$end" -out "$name.pem" 2> /dev/null
    else
        openssl ca -batch -notext -config ca.cnf -cert "$issuer.pem" -keyfile "$issuer.key" -in "$name.csr" \
            -extensions "$ext" -startdate "$start" -enddate "$end" -out "$name.pem" 2> /dev/null
    fi
    openssl x509 -in "$name.pem" -out "$out/$name.pem"
}

root_dn="/O=medseal fuzz/CN=Fuzz Root CA"
intermediate_dn="/O=medseal fuzz/CN=Fuzz Intermediate CA"
key root; key intermediate; key leaf; key leaf-expired; key leaf-keyenc; key leaf-ed25519 ed25519
key rogue-root; key rogue-intermediate; key rogue-leaf
cert root "$root_dn" self root 20240101000000Z 20440101000000Z
cert intermediate "$intermediate_dn" root intermediate 20240601000000Z 20340601000000Z
cert leaf "/O=medseal fuzz/CN=Fuzz Hospital Signer" intermediate leaf 20250101000000Z 20270101000000Z
cert leaf-expired "/O=medseal fuzz/CN=Fuzz Expired Signer" intermediate leaf 20240701000000Z 20241231235959Z
cert leaf-keyenc "/O=medseal fuzz/CN=Fuzz Encryption Key" intermediate keyenc 20250101000000Z 20270101000000Z
cert leaf-ed25519 "/O=medseal fuzz/CN=Fuzz Ed25519 Signer" intermediate leaf 20250101000000Z 20270101000000Z
# Same names as the real CAs, other keys: a chain through them must never validate.
cert rogue-root "$root_dn" self root 20240101000000Z 20440101000000Z
cert rogue-intermediate "$intermediate_dn" rogue-root intermediate 20240601000000Z 20340601000000Z
cert rogue-leaf "/O=medseal fuzz/CN=Fuzz Hospital Signer" rogue-intermediate leaf 20250101000000Z 20270101000000Z

# leaf.jws: a compact ES256 JWS over "{}" by the leaf key, whose header carries x5c [leaf,
# intermediate]; medseal_fuzz::x509_jws builds exactly this header around its input.
b64() { openssl base64 -A; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
der_b64() { openssl x509 -in "$1.pem" -outform DER | b64; }
header="{\"alg\":\"ES256\",\"crit\":[\"sigT\"],\"sigT\":\"2025-03-01T08:30:00Z\",\"x5c\":[\"$(der_b64 leaf)\",\"$(der_b64 intermediate)\"]}"
input="$(printf '%s' "$header" | b64url).$(printf '{}' | b64url)"
printf '%s' "$input" | openssl dgst -sha256 -sign leaf.key -out sig.der
# ECDSA-Sig-Value (DER) → JWS r ‖ s, each 32 bytes.
raw=""
for int in $(openssl asn1parse -inform DER -in sig.der | sed -n 's/.*INTEGER *:\([0-9A-F]*\)$/\1/p'); do
    raw="$raw$(printf '%064s' "$int" | tr ' ' 0)"
done
[ "${#raw}" -eq 128 ] || { echo "unexpected signature: $raw" >&2; exit 1; }
printf '%s.%s\n' "$input" "$(printf '%s' "$raw" | xxd -r -p | b64url)" > "$out/leaf.jws"
echo "wrote $(cd "$out" && ls *.pem leaf.jws | tr '\n' ' ')"
