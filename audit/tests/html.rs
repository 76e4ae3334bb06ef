//! The HTML report in a real browser (Debian's chromium, headless): the page parses and renders,
//! its summary and findings are what the browser shows, and nothing from the bundle becomes
//! markup. Chromium is installed by scripts/install-deps.sh; without it this test fails.

use std::path::Path;
use std::process::Command;

use medseal_audit::html;
use medseal_audit::report::{FacilityReport, Finding, Range, RecordResult, Report, Status, Withdrawn};

fn chromium(args: &[&str]) -> std::process::Output {
    let output = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"])
        .args(args)
        .output()
        .expect("chromium runs (scripts/install-deps.sh installs it)");
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn report() -> (Report, Vec<RecordResult>) {
    let mut report = Report {
        format: "medseal-audit-report".into(),
        version: 1,
        tool: "medseal test".into(),
        at: "2036-12-05T00:00:00Z".into(),
        result: "FAILED".into(),
        ..Report::default()
    };
    report.summary.entries = 12;
    report.summary.records = 11;
    report.summary.passed = 10;
    report.summary.failed = 1;
    report.summary.withdrawn = 1;
    report.summary.facilities = 1;
    report.summary.findings = 2;
    report.findings.push(Finding {
        code: "SEQUENCE_GAP".into(),
        message: "79001: sequence 7 is missing".into(),
        facility: Some("79001".into()),
        index: None,
        sequence: Some(7),
    });
    report.findings.push(Finding {
        code: "RECORD_FAILED".into(),
        message: "record <img src=x onerror=alert(1)> failed".into(),
        facility: Some("79001".into()),
        index: Some(4),
        sequence: Some(5),
    });
    report.facilities.push(FacilityReport {
        facility: "79001".into(),
        records: 11,
        passed: 10,
        highest: 13,
        gaps: vec![Range { first: 7, last: 7 }],
        withdrawn: vec![Withdrawn { sequence: 9, reason: "entered twice".into() }],
        per_day: [("2026-11-30".to_owned(), 4), ("2026-12-02".to_owned(), 7)].into_iter().collect(),
        ..FacilityReport::default()
    });
    let record = RecordResult {
        index: 4,
        facility: "79001".into(),
        sequence: 5,
        record_id: "79001-2026-000005".into(),
        received: "2026-12-02T10:00:00Z".into(),
        signed: Some("2026-12-02T09:59:00Z".into()),
        kid: None,
        status: Status::Failed,
        sub_indication: Some("HASH_FAILURE".into()),
        reason: Some("the envelope's SHA-256 is not the ledger entry's".into()),
    };
    (report, vec![record])
}

fn png_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn the_report_renders_in_a_real_browser_and_shows_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (report, records) = report();
    let page = dir.path().join("report.html");
    std::fs::write(&page, html::render(&report, &records)).unwrap();
    let url = format!("file://{}", page.display());

    // The DOM as the browser built it: the findings are text in their table, in the right order.
    let dom = String::from_utf8(chromium(&["--dump-dom", &url]).stdout).unwrap();
    let findings = &dom[dom.find("id=\"findings\"").expect("a findings table")..];
    let gap = findings.find("SEQUENCE_GAP").expect("the gap is shown");
    let failed = findings.find("RECORD_FAILED").expect("the failed record is shown");
    assert!(gap < failed);
    assert!(dom.contains("2 findings"), "the summary comes first and counts them");
    assert!(dom.contains("79001-2026-000005") && dom.contains("HASH_FAILURE"), "the record is listed with why");
    assert!(dom.contains("entered twice"), "withdrawn numbers with their reasons");
    assert!(!dom.contains("<img"), "nothing from the bundle became an element");
    assert_eq!(dom.matches("<rect").count(), 2, "the chart has one bar per day with records");

    // It renders: the screenshot of the report carries far more than the one of an empty page.
    let blank = dir.path().join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let (shot, blank_shot) = (dir.path().join("report.png"), dir.path().join("blank.png"));
    for (file, shot) in [(&page, &shot), (&blank, &blank_shot)] {
        chromium(&["--window-size=1024,1400", &format!("--screenshot={}", shot.display()), &format!("file://{}", file.display())]);
    }
    let (report_bytes, blank_bytes) = (png_size(&shot), png_size(&blank_shot));
    assert!(blank_bytes > 0, "chromium wrote a screenshot");
    assert!(report_bytes > 4 * blank_bytes, "the report paints (report {report_bytes} bytes, blank {blank_bytes})");
}
