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

/// Nanoseconds per call of `f`, for one sample of `iters` calls.
fn sample_ns<T>(f: &mut impl FnMut() -> T, iters: u64) -> f64 {
    let started = std::time::Instant::now();
    for _ in 0..iters {
        std::hint::black_box(f());
    }
    started.elapsed().as_nanos() as f64 / iters as f64
}

/// How many calls of `f` take about `target_ms` (at least 1), after a warm-up call.
fn calibrate<T>(f: &mut impl FnMut() -> T, target_ms: f64) -> u64 {
    std::hint::black_box(f());
    let mut iters = 1u64;
    loop {
        let ns = sample_ns(f, iters) * iters as f64;
        if ns >= target_ms * 1e6 / 4.0 || iters >= 1 << 30 {
            return ((iters as f64 * target_ms * 1e6 / ns.max(1.0)).ceil() as u64).max(1);
        }
        iters *= 4;
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Times `ours` and `reference` in this process, now: 15 rounds, each a sample of one then a
/// sample of the other (so that a slower or busier moment of a shared machine falls on both),
/// about 20 ms per sample; returns the medians in nanoseconds per call. Never reads anything
/// from disk: criterion's saved estimates can be from another run (a filtered run, another
/// `CRITERION_HOME`), and a ratio against them would compare unlike things.
pub fn measure_pair<A, B>(mut ours: impl FnMut() -> A, mut reference: impl FnMut() -> B) -> (f64, f64) {
    let (iters_a, iters_b) = (calibrate(&mut ours, 20.0), calibrate(&mut reference, 20.0));
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        a.push(sample_ns(&mut ours, iters_a));
        b.push(sample_ns(&mut reference, iters_b));
    }
    (median(a), median(b))
}

/// Measures both sides now ([`measure_pair`]) and prints `RATIO name: medseal X µs, reference Y
/// µs, speed ratio R (goal ≥ G)` where R = reference/medseal (1.0 = as fast as the reference).
pub fn report<A, B>(name: &str, goal: f64, ours: impl FnMut() -> A, reference: impl FnMut() -> B) {
    let (a, b) = measure_pair(ours, reference);
    let ratio = b / a;
    let verdict = if ratio >= goal { "meets" } else { "BELOW" };
    println!(
        "RATIO {name}: medseal {:.1} µs, reference {:.1} µs, speed ratio {ratio:.2}x ({verdict} goal ≥ {goal}x; both measured now, in this process)",
        a / 1e3,
        b / 1e3
    );
}
