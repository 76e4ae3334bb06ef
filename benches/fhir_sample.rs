#![allow(dead_code)] // each benchmark uses a part of this shared file

//! FHIR-like documents of a chosen size for the benchmarks: a Bundle of Observations and a
//! Patient with a Vietnamese (NFC) name. Numbers are written canonically so that the strict
//! medseal policy accepts the document and both sides do the same work.

pub fn bundle(target_bytes: usize) -> Vec<u8> {
    let mut entries = Vec::new();
    let mut size = 0;
    let mut i = 0u64;
    while size < target_bytes {
        let entry = format!(
            r#"{{"fullUrl":"urn:uuid:{i:08x}-7c1e-4b8e-9a53-0f1d2c3b4a59","resource":{{"resourceType":"Observation","id":"obs-{i}","status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"8867-4","display":"Nhịp tim"}}]}},"subject":{{"reference":"Patient/nguyen-van-an","display":"Nguyễn Văn An"}},"effectiveDateTime":"2026-11-26T08:{:02}:00+07:00","valueQuantity":{{"value":{}.5,"unit":"beats/minute","system":"http://unitsofmeasure.org","code":"/min"}},"note":[{{"text":"Bệnh nhân ổn định, theo dõi tiếp \"24h\"."}}]}}}}"#,
            i % 60,
            60 + i % 40
        );
        size += entry.len() + 1;
        entries.push(entry);
        i += 1;
    }
    format!(
        r#"{{"resourceType":"Bundle","type":"collection","id":"bench","meta":{{"lastUpdated":"2026-11-26T08:00:00+07:00"}},"entry":[{}]}}"#,
        entries.join(",")
    )
    .into_bytes()
}

pub fn patient() -> Vec<u8> {
    r#"{"resourceType":"Patient","id":"nguyen-van-an","identifier":[{"system":"urn:oid:2.16.840.1.113883.2.36.1","value":"079203001234"}],"name":[{"use":"official","family":"Nguyễn","given":["Văn","An"],"text":"Nguyễn Văn An"}],"gender":"male","birthDate":"1990-04-30","address":[{"line":["123 Đường Lê Lợi"],"city":"Thành phố Hồ Chí Minh","district":"Quận 1","country":"VN"}],"telecom":[{"system":"phone","value":"+84 28 3822 1234"}],"extension":[{"url":"http://example.org/fhir/StructureDefinition/ethnicity","valueString":"Kinh"}],"managingOrganization":{"reference":"Organization/bv-cho-ray","display":"Bệnh viện Chợ Rẫy"},"communication":[{"language":{"coding":[{"system":"urn:ietf:bcp:47","code":"vi"}]},"preferred":true}],"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Nguyễn Văn An, nam, 30/04/1990</div>"}}"#.as_bytes().to_vec()
}

/// Reads criterion's point estimate (mean, ns) for `group/function` from this run.
pub fn mean_ns(group: &str, function: &str) -> f64 {
    let path = format!("{}/criterion/{group}/{function}/new/estimates.json", target_dir());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let value: serde_json::Value = serde_json::from_str(&text).expect("criterion estimates are JSON");
    value["mean"]["point_estimate"].as_f64().expect("mean point estimate")
}

fn target_dir() -> String {
    std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").to_owned())
}

/// Prints `name: medseal X, reference Y, ratio R (goal ≥ G)` where ratio = reference/medseal
/// (1.0 = as fast as the reference).
pub fn report(name: &str, group: &str, ours: &str, reference: &str, goal: f64) {
    let (a, b) = (mean_ns(group, ours), mean_ns(group, reference));
    let ratio = b / a;
    let verdict = if ratio >= goal { "meets" } else { "BELOW" };
    println!("RATIO {name}: medseal {:.1} µs, reference {:.1} µs, speed ratio {ratio:.2}x ({verdict} goal ≥ {goal}x)", a / 1e3, b / 1e3);
}
