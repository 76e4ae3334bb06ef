#!/usr/bin/env bash
# Installs, only when missing, the Debian packages `make test` needs: C toolchain and valgrind
# (C ABI tests), openssl and Python with venv (interop tests), SoftHSM2 (PKCS#11 tests), Chromium
# (the audit report's HTML, headless).
# Rust itself comes with the machine (rustup). Safe to run again: installs nothing if all is there.
set -euo pipefail

need_apt=()
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
command -v c++ >/dev/null || need_apt+=(g++)
command -v make >/dev/null || need_apt+=(make)
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v patchelf >/dev/null || need_apt+=(patchelf) # auditwheel repair of the Python wheel
command -v openssl >/dev/null || need_apt+=(openssl)
[ -e /usr/include/openssl/evp.h ] || need_apt+=(libssl-dev) # libcrypto for the C callback tests
command -v python3 >/dev/null || need_apt+=(python3)
python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
# The .NET binding (bindings/dotnet): Mono's C# compiler and runtime with the .NET Framework 4.6.2
# reference assemblies, NUnit 2.6 and its console runner (the .NET Core runtime comes from PyPI).
command -v mcs >/dev/null && [ -d /usr/lib/mono/4.6.2-api ] || need_apt+=(mono-devel)
command -v nunit-console >/dev/null || need_apt+=(nunit-console)
[ -e /usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll ] || need_apt+=(libnunit-cil-dev)
# The PHP binding (bindings/php): Debian's PHP 8.2 CLI (FFI, OPcache, sodium, openssl built in) and
# FPM, the FastCGI client cgi-fcgi, PDO SQLite (examples), PHPUnit 9.6 and Composer (used offline).
command -v php8.2 >/dev/null || need_apt+=(php8.2-cli)
command -v php-fpm8.2 >/dev/null || [ -x /usr/sbin/php-fpm8.2 ] || need_apt+=(php8.2-fpm)
[ -e /etc/php/8.2/mods-available/pdo_sqlite.ini ] || need_apt+=(php8.2-sqlite3)
command -v cgi-fcgi >/dev/null || need_apt+=(libfcgi-bin)
command -v phpunit >/dev/null || need_apt+=(phpunit)
command -v composer >/dev/null || need_apt+=(composer)
# The audit report's HTML is rendered by a real headless browser in a test (audit/tests/html.rs).
command -v chromium >/dev/null || need_apt+=(chromium)
# The PKCS#11 tests load the module and initialize tokens with softhsm2-util.
softhsm_module=""
for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
  /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
  if [ -e "$candidate" ]; then softhsm_module=$candidate; break; fi
done
if [ -z "$softhsm_module" ] || ! command -v softhsm2-util >/dev/null; then
  need_apt+=(softhsm2)
fi

if [ ${#need_apt[@]} -eq 0 ]; then
  exit 0
fi

# apt needs root: use sudo when we are not root and it exists, else try as we are.
# (sudo drops the environment, hence `env DEBIAN_FRONTEND=...`.)
as_root=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
  as_root=(sudo)
fi
echo "installing: ${need_apt[*]}"
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -q
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}"
