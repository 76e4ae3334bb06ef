//! RFC 8785 canonicalization against the published vectors in `../shared/vectors`
//! (cyberphone/json-canonicalization), plus the medseal strict-mode policies (lossy numbers,
//! Unicode NFC), the FHIR signature variants and the I-JSON error codes.
//!
//! The vectors are read in place from the `shared/` checkout beside this repository. A missing
//! vector file is a test failure, never a silent skip.

use std::fs;
use std::path::{Path, PathBuf};

use medseal::canon::format_number;
use medseal::{canonicalize, CanonOptions, FhirVariant, NfcPolicy, ResultCode};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors");

fn vectors_dir(sub: &str) -> PathBuf {
    let dir = Path::new(VECTORS).join(sub);
    assert!(dir.is_dir(), "vector folder {} is missing: clone the shared/ repository beside this one", dir.display());
    dir
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("cannot read vector file {}: {e}", path.display()))
}

fn hex_decode(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    digits.chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).expect("hex digit")).collect()
}

fn strict() -> CanonOptions {
    CanonOptions::default()
}

fn plain() -> CanonOptions {
    CanonOptions::plain()
}

fn canon_str(input: &str, options: &CanonOptions) -> String {
    let out = canonicalize(input.as_bytes(), options).unwrap_or_else(|e| panic!("canonicalize({input:?}) failed: {e}"));
    String::from_utf8(out).expect("canonical output is UTF-8")
}

fn code(input: &[u8], options: &CanonOptions) -> ResultCode {
    match canonicalize(input, options) {
        Ok(out) => panic!(
            "expected an error for {:?}, got {:?}",
            String::from_utf8_lossy(&input[..input.len().min(80)]),
            String::from_utf8_lossy(&out)
        ),
        Err(e) => e.code(),
    }
}

// ---------------------------------------------------------------------------------------------
// cyberphone/json-canonicalization testdata
// ---------------------------------------------------------------------------------------------

const JCS_FILES: [&str; 6] = ["arrays", "french", "structures", "unicode", "values", "weird"];

#[test]
fn jcs_testdata_input_matches_output_byte_for_byte() {
    let base = vectors_dir("json-canonicalization/testdata");
    let mut names: Vec<String> =
        fs::read_dir(base.join("input")).expect("read testdata/input").map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let expected_names: Vec<String> = JCS_FILES.iter().map(|n| format!("{n}.json")).collect();
    assert_eq!(names, expected_names, "testdata/input does not hold the 6 files the README lists");

    let mut checked = 0;
    for name in &names {
        let stem = name.trim_end_matches(".json");
        let input = read(&base.join("input").join(name));
        let output = read(&base.join("output").join(name));
        let outhex = hex_decode(&String::from_utf8(read(&base.join("outhex").join(format!("{stem}.txt")))).unwrap());
        assert_eq!(outhex, output, "{stem}: outhex and output disagree (vector files damaged?)");

        let got = canonicalize(&input, &plain()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            got,
            output,
            "{name}: canonical output differs\n got: {}\nwant: {}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&output)
        );
        // Canonical output is a fixed point.
        assert_eq!(canonicalize(&output, &plain()).unwrap(), output, "{name}: not a fixed point");
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn jcs_testdata_under_the_strict_default_policy() {
    // The strict default accepts every vector except those that medseal's policies refuse on
    // purpose: `values` and `structures` spell numbers non-canonically (4.50, 1E30, 56.0),
    // so they need lossy numbers; `unicode` keeps
    // "A\u030a" (NFD) and `weird` has U+FB33, whose NFC form is U+05D3 U+05BC.
    let base = vectors_dir("json-canonicalization/testdata");
    for stem in JCS_FILES {
        let input = read(&base.join("input").join(format!("{stem}.json")));
        let output = read(&base.join("output").join(format!("{stem}.json")));
        match stem {
            "values" | "structures" => {
                assert_eq!(code(&input, &strict()), ResultCode::MEDSEAL_JSON_LOSSY_NUMBER, "{stem}");
                let lossy_nfc = CanonOptions { allow_lossy_numbers: true, ..strict() };
                assert_eq!(canonicalize(&input, &lossy_nfc).unwrap(), output, "{stem}");
            }
            "unicode" | "weird" => {
                assert_eq!(code(&input, &strict()), ResultCode::MEDSEAL_JSON_NOT_NFC, "{stem}");
                let lossless_ignore = CanonOptions { nfc: NfcPolicy::Ignore, ..strict() };
                assert_eq!(canonicalize(&input, &lossless_ignore).unwrap(), output, "{stem}");
            }
            _ => assert_eq!(canonicalize(&input, &strict()).unwrap(), output, "{stem}"),
        }
    }
}

/// Parses one `<hex>,<expected>` line of es6testfile10k.txt.
fn es6_lines() -> Vec<(u64, String)> {
    let path = vectors_dir("json-canonicalization").join("es6testfile10k.txt");
    let text = String::from_utf8(read(&path)).expect("ASCII");
    text.lines()
        .map(|line| {
            let (hex, expected) = line.split_once(',').unwrap_or_else(|| panic!("bad line {line:?}"));
            let bits = u64::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("bad hex in {line:?}"));
            (bits, expected.to_owned())
        })
        .collect()
}

#[test]
fn es6_number_serialization_10k() {
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for (bits, expected) in es6_lines() {
        let value = f64::from_bits(bits);
        assert!(value.is_finite(), "{bits:x}: the file holds only finite values");
        let got = format_number(value);
        if got != expected {
            failures.push(format!("{bits:x}: got {got}, want {expected}"));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{} of {checked} failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, 10_000);
}

/// Whether RFC 8785 writes `v` as a bare integer beyond ±(2^53−1) (magnitude above 2^53−1 and
/// below 1e21): the values the strict default refuses in any spelling.
fn written_as_unsafe_integer(v: f64) -> bool {
    v.abs() > 9_007_199_254_740_991.0 && v.abs() < 1e21
}

/// Every line of es6testfile10k read through the parser: the file's input column is the
/// IEEE-754 bits in hex, so each double is spelled as a JSON number document in two double
/// forms (Rust's shortest exponent form, `1e20`, and a 17-digit form, `1.0000000000000000e20`)
/// and canonicalized in plain mode, which must give exactly the expected text. The expected
/// text itself (an RFC 8785 output, e.g. `100000000000000000000`) reads back unchanged in
/// plain mode too. The strict default refuses the 84 values RFC 8785 writes as bare integers
/// beyond ±(2^53−1), with that reason, and reads every other line unchanged.
#[test]
fn es6_lines_through_the_parser_10k() {
    let mut checked = 0usize;
    let mut unsafe_integers = 0usize;
    let mut failures = Vec::new();
    for (bits, expected) in es6_lines() {
        let value = f64::from_bits(bits);
        for spelling in [format!("{value:e}"), format!("{value:.16e}"), expected.clone()] {
            match canonicalize(spelling.as_bytes(), &plain()) {
                Ok(out) if out == expected.as_bytes() => {}
                Ok(out) => failures.push(format!("{bits:x}: {spelling} gave {}, want {expected}", String::from_utf8_lossy(&out))),
                Err(e) => failures.push(format!("{bits:x}: {spelling} refused in plain mode: {e}")),
            }
        }
        if written_as_unsafe_integer(value) {
            assert!(!expected.contains(['.', 'e']), "{expected}: RFC 8785 writes it as a bare integer");
            for spelling in [format!("{value:e}"), expected.clone()] {
                let e = canonicalize(spelling.as_bytes(), &strict()).unwrap_err();
                assert_eq!(e.code(), ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE, "{spelling}");
                assert!(e.message().contains("2^53"), "the strict refusal says why: {}", e.message());
            }
            unsafe_integers += 1;
        } else {
            assert_eq!(canon_str(&expected, &strict()), expected, "strict mode calls a canonical number lossy");
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{} of {checked} lines failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, 10_000);
    assert_eq!(unsafe_integers, 84, "values RFC 8785 writes as bare integers beyond 2^53-1 in the file");
}

// ---------------------------------------------------------------------------------------------
// Strict numbers
// ---------------------------------------------------------------------------------------------

#[test]
fn lossy_numbers_are_refused_by_default_and_accepted_on_request() {
    let lossy = CanonOptions { allow_lossy_numbers: true, ..strict() };
    for (input, canonical) in [
        ("1.50", "1.5"),
        ("1e2", "100"),
        ("-0", "0"),
        ("10.0", "10"),
        ("-0.0", "0"),
        ("1E2", "100"),
        ("0.10", "0.1"),
        ("1e-7", "1e-7"),
        ("2e-3", "0.002"),
        ("1E30", "1e+30"),
        ("333333333.33333329", "333333333.3333333"),
    ] {
        if input == canonical {
            assert_eq!(canon_str(input, &strict()), canonical);
            continue;
        }
        assert_eq!(code(input.as_bytes(), &strict()), ResultCode::MEDSEAL_JSON_LOSSY_NUMBER, "{input}");
        assert_eq!(canon_str(input, &lossy), canonical, "{input}");
        assert_eq!(canon_str(input, &plain()), canonical, "{input}");
        // Inside a FHIR resource too.
        let doc = format!(r#"{{"resourceType":"Observation","valueQuantity":{{"value":{input}}}}}"#);
        assert_eq!(code(doc.as_bytes(), &strict()), ResultCode::MEDSEAL_JSON_LOSSY_NUMBER, "{doc}");
        assert_eq!(canon_str(&doc, &lossy), format!(r#"{{"resourceType":"Observation","valueQuantity":{{"value":{canonical}}}}}"#));
    }
    // Canonical spellings pass the strict default.
    for ok in ["0", "-1", "1.5", "100", "1e+30", "1e-7", "0.002", "9007199254740991", "-9007199254740991"] {
        assert_eq!(canon_str(ok, &strict()), ok);
    }
}

#[test]
fn lossy_number_error_names_the_position() {
    let err = canonicalize(b"{\n  \"a\": 1.50\n}", &strict()).unwrap_err();
    assert_eq!(err.code(), ResultCode::MEDSEAL_JSON_LOSSY_NUMBER);
    assert!(err.message().contains("line 2, column 8"), "{}", err.message());
}

// ---------------------------------------------------------------------------------------------
// Unicode NFC
// ---------------------------------------------------------------------------------------------

/// "Nguyễn" decomposed: e + U+0302 COMBINING CIRCUMFLEX + U+0303 COMBINING TILDE.
const NGUYEN_NFD: &str = "Nguye\u{0302}\u{0303}n";
/// "Nguyễn" precomposed: U+1EC5 LATIN SMALL LETTER E WITH CIRCUMFLEX AND TILDE.
const NGUYEN_NFC: &str = "Nguy\u{1EC5}n";

#[test]
fn nfd_vietnamese_name() {
    assert_ne!(NGUYEN_NFD.as_bytes(), NGUYEN_NFC.as_bytes());
    assert_eq!(NGUYEN_NFC.as_bytes(), b"Nguy\xe1\xbb\x85n");
    let normalize = CanonOptions { nfc: NfcPolicy::Normalize, ..strict() };

    // As raw UTF-8 and as JSON escapes.
    for nfd_doc in [format!("\"{NGUYEN_NFD}\""), "\"Nguye\\u0302\\u0303n\"".to_owned()] {
        let err = canonicalize(nfd_doc.as_bytes(), &strict()).unwrap_err();
        assert_eq!(err.code(), ResultCode::MEDSEAL_JSON_NOT_NFC, "{nfd_doc}");
        assert!(err.message().contains("line 1, column 1"), "{}", err.message());
        assert_eq!(canon_str(&nfd_doc, &normalize), format!("\"{NGUYEN_NFC}\""));
        assert_eq!(canon_str(&nfd_doc, &plain()), format!("\"{NGUYEN_NFD}\""), "plain must not normalize");
    }
    // The NFC spelling passes everywhere unchanged.
    let nfc_doc = format!("\"{NGUYEN_NFC}\"");
    for options in [strict(), normalize, plain()] {
        assert_eq!(canon_str(&nfc_doc, &options), nfc_doc);
    }
    // Keys are checked too.
    let key_doc = format!("{{\"{NGUYEN_NFD}\":1}}");
    assert_eq!(code(key_doc.as_bytes(), &strict()), ResultCode::MEDSEAL_JSON_NOT_NFC);
    assert_eq!(canon_str(&key_doc, &normalize), format!("{{\"{NGUYEN_NFC}\":1}}"));
    // Two keys that are equal after normalization are duplicates.
    let dup = format!("{{\"{NGUYEN_NFD}\":1,\"{NGUYEN_NFC}\":2}}");
    assert_eq!(code(dup.as_bytes(), &normalize), ResultCode::MEDSEAL_JSON_DUPLICATE_KEY);
    assert_eq!(canonicalize(dup.as_bytes(), &plain()).map(|_| ()), Ok(()));
}

fn patient(family: &str) -> String {
    format!(
        r#"{{
  "resourceType": "Patient",
  "id": "vn-001",
  "meta": {{ "versionId": "3", "lastUpdated": "2024-05-01T10:00:00Z" }},
  "text": {{ "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">{family} Văn An</div>" }},
  "name": [ {{ "use": "official", "family": "{family}", "given": [ "Văn", "An" ] }} ],
  "gender": "male",
  "birthDate": "1980-02-29"
}}"#
    )
}

#[test]
fn fhir_patient_with_nfd_family_name() {
    let nfd = patient(NGUYEN_NFD);
    let nfc = patient(NGUYEN_NFC);
    let normalize = CanonOptions { nfc: NfcPolicy::Normalize, ..strict() };

    let err = canonicalize(nfd.as_bytes(), &strict()).unwrap_err();
    assert_eq!(err.code(), ResultCode::MEDSEAL_JSON_NOT_NFC);
    assert!(!err.message().contains("Nguy"), "error messages carry no patient data: {}", err.message());

    let expected = canon_str(&nfc, &strict());
    assert!(expected.contains(NGUYEN_NFC));
    assert_eq!(canon_str(&nfd, &normalize), expected);
    let plain_out = canon_str(&nfd, &plain());
    assert!(plain_out.contains(NGUYEN_NFD) && !plain_out.contains(NGUYEN_NFC));
    assert_ne!(plain_out, expected);
    // With a FHIR variant as well.
    let data = CanonOptions { fhir: Some(FhirVariant::Data), ..normalize };
    let data_strict = CanonOptions { fhir: Some(FhirVariant::Data), ..strict() };
    assert_eq!(canon_str(&nfd, &data), canon_str(&nfc, &data_strict));
    assert_eq!(code(nfd.as_bytes(), &data_strict), ResultCode::MEDSEAL_JSON_NOT_NFC);
}

// ---------------------------------------------------------------------------------------------
// FHIR variants
// ---------------------------------------------------------------------------------------------

const OBSERVATION: &str = r##"{
  "resourceType": "Observation",
  "id": "bp-1",
  "meta": {"versionId": "1"},
  "text": {"status": "generated", "div": "<div>120/80</div>"},
  "status": "final",
  "code": {"text": "Blood pressure", "coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
  "contained": [
    {"resourceType": "Practitioner", "id": "dr", "meta": {"versionId": "7"}, "text": {"status": "generated"}, "name": [{"text": "Dr Trần"}]}
  ],
  "performer": [{"reference": "#dr"}]
}"##;

fn fhir(variant: FhirVariant) -> CanonOptions {
    CanonOptions { fhir: Some(variant), ..strict() }
}

#[test]
fn fhir_data_drops_narrative_everywhere() {
    let got = canon_str(OBSERVATION, &fhir(FhirVariant::Data));
    assert_eq!(
        got,
        concat!(
            r#"{"code":{"coding":[{"code":"85354-9","system":"http://loinc.org"}],"text":"Blood pressure"},"#,
            r#""contained":[{"id":"dr","meta":{"versionId":"7"},"name":[{"text":"Dr Trần"}],"resourceType":"Practitioner"}],"#,
            r##""id":"bp-1","meta":{"versionId":"1"},"performer":[{"reference":"#dr"}],"resourceType":"Observation","status":"final"}"##
        )
    );
    assert_eq!(FhirVariant::Data.uri(), "http://hl7.org/fhir/canonicalization/json#data");
}

#[test]
fn fhir_static_drops_text_and_meta_everywhere() {
    let got = canon_str(OBSERVATION, &fhir(FhirVariant::Static));
    assert_eq!(
        got,
        concat!(
            r#"{"code":{"coding":[{"code":"85354-9","system":"http://loinc.org"}],"text":"Blood pressure"},"#,
            r#""contained":[{"id":"dr","name":[{"text":"Dr Trần"}],"resourceType":"Practitioner"}],"#,
            r##""id":"bp-1","performer":[{"reference":"#dr"}],"resourceType":"Observation","status":"final"}"##
        )
    );
}

#[test]
fn fhir_document_drops_root_id_and_meta_only() {
    let got = canon_str(OBSERVATION, &fhir(FhirVariant::Document));
    assert_eq!(
        got,
        concat!(
            r#"{"code":{"coding":[{"code":"85354-9","system":"http://loinc.org"}],"text":"Blood pressure"},"#,
            r#""contained":[{"id":"dr","meta":{"versionId":"7"},"name":[{"text":"Dr Trần"}],"resourceType":"Practitioner","text":{"status":"generated"}}],"#,
            r##""performer":[{"reference":"#dr"}],"resourceType":"Observation","status":"final","##,
            r#""text":{"div":"<div>120/80</div>","status":"generated"}}"#
        )
    );
}

#[test]
fn fhir_variants_reach_bundle_entries() {
    let bundle = r#"{"resourceType":"Bundle","id":"b1","meta":{"lastUpdated":"2024-01-01T00:00:00Z"},"type":"document",
      "entry":[
        {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Composition","id":"c1","meta":{"versionId":"2"},"text":{"div":"<div/>"},"title":"Discharge"}},
        {"fullUrl":"urn:uuid:2","resource":{"resourceType":"Patient","id":"p1","text":{"div":"<div/>"},"meta":{"versionId":"9"}}}
      ]}"#;
    assert_eq!(
        canon_str(bundle, &fhir(FhirVariant::Data)),
        concat!(
            r#"{"entry":[{"fullUrl":"urn:uuid:1","resource":{"id":"c1","meta":{"versionId":"2"},"resourceType":"Composition","title":"Discharge"}},"#,
            r#"{"fullUrl":"urn:uuid:2","resource":{"id":"p1","meta":{"versionId":"9"},"resourceType":"Patient"}}],"#,
            r#""id":"b1","meta":{"lastUpdated":"2024-01-01T00:00:00Z"},"resourceType":"Bundle","type":"document"}"#
        )
    );
    assert_eq!(
        canon_str(bundle, &fhir(FhirVariant::Static)),
        concat!(
            r#"{"entry":[{"fullUrl":"urn:uuid:1","resource":{"id":"c1","resourceType":"Composition","title":"Discharge"}},"#,
            r#"{"fullUrl":"urn:uuid:2","resource":{"id":"p1","resourceType":"Patient"}}],"#,
            r#""id":"b1","resourceType":"Bundle","type":"document"}"#
        )
    );
    assert_eq!(
        canon_str(bundle, &fhir(FhirVariant::Document)),
        concat!(
            r#"{"entry":[{"fullUrl":"urn:uuid:1","resource":{"id":"c1","meta":{"versionId":"2"},"resourceType":"Composition","text":{"div":"<div/>"},"title":"Discharge"}},"#,
            r#"{"fullUrl":"urn:uuid:2","resource":{"id":"p1","meta":{"versionId":"9"},"resourceType":"Patient","text":{"div":"<div/>"}}}],"#,
            r#""resourceType":"Bundle","type":"document"}"#
        )
    );
}

#[test]
fn fhir_variant_needs_a_resource_root() {
    for doc in [r#"{"a":1}"#, "[]", r#"[{"resourceType":"Patient"}]"#, r#"{"resourceType":5}"#, r#""Patient""#, "null"] {
        for variant in [FhirVariant::Data, FhirVariant::Static, FhirVariant::Document] {
            assert_eq!(code(doc.as_bytes(), &fhir(variant)), ResultCode::MEDSEAL_JSON_NOT_FHIR, "{doc} {variant:?}");
        }
        // Without a variant it is ordinary JSON.
        assert!(canonicalize(doc.as_bytes(), &strict()).is_ok());
    }
    for (name, variant) in [("data", FhirVariant::Data), ("static", FhirVariant::Static), ("document", FhirVariant::Document)] {
        assert_eq!(FhirVariant::from_name(name), Some(variant));
        assert!(variant.uri().ends_with(&format!("#{name}")));
    }
    assert_eq!(FhirVariant::from_name("Data"), None);
}

// ---------------------------------------------------------------------------------------------
// I-JSON errors and limits
// ---------------------------------------------------------------------------------------------

#[test]
fn duplicate_keys() {
    for doc in [r#"{"a":1,"a":2}"#, r#"{"a":1,"b":2,"a":1}"#, r#"[{"x":{"k":null,"k":null}}]"#, r#"{"\u0061":1,"a":2}"#, r#"{"":1,"":1}"#] {
        for options in [strict(), plain()] {
            assert_eq!(code(doc.as_bytes(), &options), ResultCode::MEDSEAL_JSON_DUPLICATE_KEY, "{doc}");
        }
    }
}

#[test]
fn lone_surrogates() {
    for doc in
        [r#""\ud800""#, r#""\udfff""#, r#""\ud83dx""#, r#""\ude02\ud83d""#, r#"{"\udc00":1}"#, r#""\ud800\u0041""#, r#""\ud800\ud800""#]
    {
        for options in [strict(), plain()] {
            assert_eq!(code(doc.as_bytes(), &options), ResultCode::MEDSEAL_JSON_LONE_SURROGATE, "{doc}");
        }
    }
    // A proper pair is fine and comes out as UTF-8.
    assert_eq!(canon_str(r#""\ud83d\ude02""#, &plain()), "\"\u{1F602}\"");
}

#[test]
fn out_of_range_numbers() {
    // Not a finite double, or an integer literal beyond ±(2^53−1) that a double would change:
    // refused in every mode (I-JSON; DESIGN 3.1).
    for doc in [
        "9007199254740993",
        "-9007199254740993",
        "[12345678901234567890]",
        "1e309",
        "-1e400",
        "{\"v\":99999999999999999999}",
        "1000000000000000000000",
        "100000000000000000000000000000",
    ] {
        for options in [strict(), plain()] {
            assert_eq!(code(doc.as_bytes(), &options), ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE, "{doc}");
        }
    }
    assert_eq!(canon_str("9007199254740991", &strict()), "9007199254740991");
    assert_eq!(canon_str("-9007199254740991", &strict()), "-9007199254740991");
    // The strict default refuses every value RFC 8785 writes as a bare integer beyond
    // ±(2^53−1), however it is spelled: its output must read back under the strict policy.
    for doc in
        ["9007199254740992", "9007199254740992.0", "9007199254740992e0", "1e20", "-1e20", "1.5e16", "[9.99e20]", "100000000000000000000"]
    {
        let e = canonicalize(doc.as_bytes(), &strict()).unwrap_err();
        assert_eq!(e.code(), ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE, "{doc}");
        assert!(e.message().contains("±(2^53−1)"), "{}", e.message());
    }
    // Plain mode is RFC 8785: doubles are written as ECMAScript writes them, and that output
    // (an integer literal beyond 2^53−1, exactly the canonical text) reads back unchanged.
    for (doc, canonical) in [
        ("9007199254740992.0", "9007199254740992"),
        ("9007199254740992e0", "9007199254740992"),
        ("9007199254740993.0", "9007199254740992"),
        ("9.007199254740993e15", "9007199254740992"),
        ("1e20", "100000000000000000000"),
        ("-1e20", "-100000000000000000000"),
        ("1.5e16", "15000000000000000"),
        ("[9.99e20]", "[999000000000000000000]"),
        ("{\"v\":1.2345678901234567e19}", "{\"v\":12345678901234567000}"),
        ("9007199254740992", "9007199254740992"),
        ("100000000000000000000", "100000000000000000000"),
        ("295147905179352830000", "295147905179352830000"),
    ] {
        assert_eq!(canon_str(doc, &plain()), canonical, "{doc}");
        assert_eq!(canon_str(canonical, &plain()), canonical, "{canonical} must read back in plain mode");
    }
    // Unsafe integers without lossy numbers: only their canonical text passes.
    let unsafe_lossless = CanonOptions { allow_unsafe_integers: true, ..strict() };
    assert_eq!(canon_str("100000000000000000000", &unsafe_lossless), "100000000000000000000");
    assert_eq!(code(b"1e20", &unsafe_lossless), ResultCode::MEDSEAL_JSON_LOSSY_NUMBER);
    // From 1e21 up ECMAScript uses an exponent, and such values stay accepted.
    for (doc, canonical) in [("1e21", "1e+21"), ("1E30", "1e+30"), ("-1e21", "-1e+21"), ("9007199254740991.0", "9007199254740991")] {
        assert_eq!(canon_str(doc, &plain()), canonical);
        assert_eq!(canon_str(canonical, &plain()), canonical);
        assert_eq!(canon_str(canonical, &strict()), canonical);
    }
}

#[test]
fn invalid_utf8() {
    for doc in [&b"\"\xff\""[..], b"[\"\xc3\"]", b"{\"a\":\"\xed\xa0\x80\"}", b"\"\xc0\xaf\"", b"\xfe"] {
        for options in [strict(), plain()] {
            assert_eq!(code(doc, &options), ResultCode::MEDSEAL_JSON_INVALID_UTF8, "{doc:?}");
        }
    }
}

#[test]
fn too_deep_is_an_error_not_a_stack_overflow() {
    for open in ["[", "{\"a\":"] {
        let deep = open.repeat(1_000_000);
        for options in [strict(), plain()] {
            assert_eq!(code(deep.as_bytes(), &options), ResultCode::MEDSEAL_JSON_TOO_DEEP, "{open}");
        }
    }
    // Balanced but too deep, and right at the limit.
    let limit = strict().max_depth;
    let at_limit = format!("{}{}", "[".repeat(limit), "]".repeat(limit));
    assert!(canonicalize(at_limit.as_bytes(), &strict()).is_ok());
    let over = format!("{}{}", "[".repeat(limit + 1), "]".repeat(limit + 1));
    assert_eq!(code(over.as_bytes(), &strict()), ResultCode::MEDSEAL_JSON_TOO_DEEP);
    // A raised limit is honoured.
    let options = CanonOptions { max_depth: 1_000, ..strict() };
    let deep_ok = format!("{}{}", "[".repeat(1_000), "]".repeat(1_000));
    assert_eq!(canonicalize(deep_ok.as_bytes(), &options).unwrap(), deep_ok.as_bytes());
}

#[test]
fn too_large() {
    let options = CanonOptions { max_bytes: 16, ..strict() };
    assert_eq!(code(br#"{"a":"0123456789"}"#, &options), ResultCode::MEDSEAL_JSON_TOO_LARGE);
    assert!(canonicalize(br#"{"a":"01234567"}"#, &options).is_ok(), "exactly at the limit");
    // The default limit (64 MiB) is checked before any parsing.
    let big = vec![b' '; strict().max_bytes + 1];
    assert_eq!(code(&big, &strict()), ResultCode::MEDSEAL_JSON_TOO_LARGE);
}

#[test]
fn syntax_errors() {
    for doc in
        ["", "[1,]", "{\"a\"}", "01", "+1", ".5", "1.", "NaN", "[\"a\u{1}\"]", "\u{feff}{}", "{} {}", "'a'", "[1 2]", r#""\x""#, "tru"]
    {
        assert_eq!(code(doc.as_bytes(), &plain()), ResultCode::MEDSEAL_JSON_SYNTAX, "{doc:?}");
    }
}
