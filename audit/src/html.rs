//! The HTML report: one self-contained page a health department can file (no script, no
//! external resource, prints on A4). Summary first, then the findings with their records, a
//! table and a chart per facility, the log checks and the inputs.
//!
//! Every text that came from the bundle (ids, reasons, messages quoting them) goes through
//! [`text`]: escaped for a terminal by medseal's one rule ([`medseal::untrusted`]), then for HTML.

use std::fmt::Write;

use medseal::untrusted::shown_max;

use crate::report::{FacilityReport, RecordResult, Report, Status};

/// At most this many records are listed on the page; the JSON report has them all.
pub const MAX_RECORDS_LISTED: usize = 1_000;

/// Untrusted text for the page: escaped as medseal shows untrusted text, then HTML-escaped.
pub fn text(untrusted: &str) -> String {
    let shown = shown_max(untrusted, 2048);
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font: 14px/1.45 system-ui, sans-serif; color: #1b1f24; margin: 2em auto; max-width: 60em; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccd; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; }
th, td { text-align: left; padding: 0.25em 0.5em; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 0.92em; word-break: break-all; }
.result { display: inline-block; padding: 0.3em 0.8em; border-radius: 0.3em; font-weight: 600; color: #fff; }
.PASSED { background: #1a7f37; } .FAILED { background: #cf222e; } .INDETERMINATE { background: #9a6700; }
.status-PASSED { color: #1a7f37; } .status-FAILED { color: #cf222e; } .status-INDETERMINATE { color: #9a6700; }
.muted { color: #57606a; }
svg { display: block; margin: 0.5em 0; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table { break-inside: auto; } }
";

/// The page for `report`, listing `records` (those not `PASSED`, at most
/// [`MAX_RECORDS_LISTED`] of them).
pub fn render(report: &Report, records: &[RecordResult]) -> String {
    let mut page = String::with_capacity(64 << 10);
    let s = &report.summary;
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>medseal audit report, {at}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Audit report</h1>\n<p class=\"muted\">Judged at {at} by {tool}. Report format {format} version {version}.</p>\n\
         <p><span id=\"result\" class=\"result {result}\">{result_text}</span></p>\n",
        at = text(&report.at),
        tool = text(&report.tool),
        format = text(&report.format),
        version = report.version,
        result = if report.result == "PASSED" { "PASSED" } else { "FAILED" },
        result_text = if report.result == "PASSED" && s.not_checked == 0 {
            "Everything verified, complete and consistent".to_owned()
        } else if report.result == "PASSED" {
            format!(
                "Everything in this export verified, complete and consistent; {} ledger entr{} outside its selection not checked",
                s.not_checked,
                if s.not_checked == 1 { "y" } else { "ies" }
            )
        } else {
            format!("{} finding{}", s.findings, if s.findings == 1 { "" } else { "s" })
        },
    );

    page.push_str("<h2>Summary</h2>\n<table id=\"summary\">\n");
    for (label, value) in [
        ("Ledger entries", s.entries),
        ("Records checked", s.records),
        ("Passed", s.passed),
        ("Failed", s.failed),
        ("Indeterminate", s.indeterminate),
        ("Withdrawn sequence numbers", s.withdrawn),
        ("Entries outside the export, not checked", s.not_checked),
        ("Facilities", s.facilities),
        ("Findings", s.findings),
    ] {
        let _ = writeln!(page, "<tr><th>{label}</th><td class=\"n\">{value}</td></tr>");
    }
    page.push_str("</table>\n");
    let selection = &report.selection;
    if !selection.facilities.is_empty() || selection.from.is_some() || selection.to.is_some() {
        let facilities = match selection.facilities.is_empty() {
            true => "every facility".to_owned(),
            false => selection.facilities.iter().map(|f| text(f)).collect::<Vec<_>>().join(", "),
        };
        let _ = writeln!(
            page,
            "<p id=\"selection\">This export holds {facilities}, records received from {} to {}: the audit vouches for nothing outside it.</p>",
            selection.from.as_deref().map(text).unwrap_or_else(|| "the first".into()),
            selection.to.as_deref().map(text).unwrap_or_else(|| "the last".into()),
        );
    }

    page.push_str("<h2>Findings</h2>\n");
    if report.findings.is_empty() {
        page.push_str("<p id=\"findings\">None.</p>\n");
    } else {
        page.push_str("<table id=\"findings\">\n<tr><th>Code</th><th>Facility</th><th class=\"n\">Index</th><th class=\"n\">Sequence</th><th>What is wrong</th></tr>\n");
        for finding in &report.findings {
            let _ = writeln!(
                page,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                text(&finding.code),
                finding.facility.as_deref().map(text).unwrap_or_default(),
                finding.index.map(|i| i.to_string()).unwrap_or_default(),
                finding.sequence.map(|i| i.to_string()).unwrap_or_default(),
                text(&finding.message),
            );
        }
        page.push_str("</table>\n");
    }
    if !records.is_empty() {
        let _ = writeln!(page, "<h2>Records that did not pass</h2>\n<table id=\"records\">\n<tr><th class=\"n\">Index</th><th>Facility</th><th class=\"n\">Sequence</th><th>Record id</th><th>Status</th><th>Why</th></tr>");
        for record in records.iter().take(MAX_RECORDS_LISTED) {
            let status = match record.status {
                Status::Passed => "PASSED",
                Status::Failed => "FAILED",
                Status::Indeterminate => "INDETERMINATE",
            };
            let _ = writeln!(
                page,
                "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td><code>{}</code></td><td class=\"status-{status}\">{status}<br><code>{}</code></td><td>{}</td></tr>",
                record.index,
                text(&record.facility),
                record.sequence,
                text(&record.record_id),
                record.sub_indication.as_deref().map(text).unwrap_or_default(),
                record.reason.as_deref().map(text).unwrap_or_default(),
            );
        }
        page.push_str("</table>\n");
        let total = s.failed + s.indeterminate;
        if total > records.len().min(MAX_RECORDS_LISTED) as u64 {
            let _ = writeln!(
                page,
                "<p class=\"muted\">{} of {total} listed; the JSON report lists every record.</p>",
                records.len().min(MAX_RECORDS_LISTED)
            );
        }
    }

    page.push_str("<h2>Facilities</h2>\n<table id=\"facilities\">\n<tr><th>Facility</th><th class=\"n\">Records</th><th class=\"n\">Passed</th><th class=\"n\">Highest</th><th>Gaps</th><th>Withdrawn</th><th class=\"n\">Out of order</th><th>First received</th><th>Last received</th></tr>\n");
    for facility in &report.facilities {
        let gaps = facility
            .gaps
            .iter()
            .map(|r| if r.first == r.last { r.first.to_string() } else { format!("{}–{}", r.first, r.last) })
            .collect::<Vec<_>>()
            .join(", ");
        let withdrawn = facility.withdrawn.iter().map(|w| format!("{} ({})", w.sequence, text(&w.reason))).collect::<Vec<_>>().join(", ");
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            text(&facility.facility),
            facility.records,
            facility.passed,
            facility.highest,
            if gaps.is_empty() { "none".to_owned() } else { gaps },
            if withdrawn.is_empty() { "none".to_owned() } else { withdrawn },
            facility.out_of_order,
            facility.first_received.as_deref().map(text).unwrap_or_default(),
            facility.last_received.as_deref().map(text).unwrap_or_default(),
        );
    }
    page.push_str("</table>\n");
    for facility in &report.facilities {
        let _ = writeln!(page, "<h3>{}: records received per day</h3>", text(&facility.facility));
        page.push_str(&chart(facility));
    }

    let log = &report.log;
    page.push_str("<h2>Log</h2>\n<table id=\"log\">\n");
    let _ = writeln!(page, "<tr><th>Entries</th><td class=\"n\">{}</td></tr>", log.size);
    let _ = writeln!(page, "<tr><th>Root hash the entries rebuild</th><td><code>{}</code></td></tr>", text(&log.root_hash));
    let _ = writeln!(page, "<tr><th>Hub tree-head key</th><td><code>{}</code></td></tr>", text(&log.tree_head_key));
    let _ = writeln!(page, "<tr><th>Signed tree heads matching the log</th><td class=\"n\">{}</td></tr>", log.tree_heads_matched);
    let _ = writeln!(
        page,
        "<tr><th>Tree heads from outside the bundle consistent with it</th><td class=\"n\">{}</td></tr>",
        log.external_tree_heads_matched
    );
    let _ = writeln!(page, "<tr><th>Hospitals' receipts found in the log</th><td class=\"n\">{}</td></tr>", log.receipts_matched);
    page.push_str("</table>\n");

    page.push_str("<h2>Inputs</h2>\n<table id=\"inputs\">\n<tr><th>Role</th><th>Path</th><th>SHA-256 or key thumbprint</th></tr>\n");
    for input in &report.inputs {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            text(&input.role),
            text(&input.path),
            text(&input.sha256)
        );
    }
    page.push_str("</table>\n</body>\n</html>\n");
    page
}

/// A bar chart of records per day (inline SVG); days without records inside the range show as
/// empty, so an outage is visible, and gaps are named under it.
fn chart(facility: &FacilityReport) -> String {
    let days: Vec<(i64, u64)> = facility.per_day.iter().filter_map(|(day, count)| Some((day_number(day)?, *count))).collect();
    let (Some(first), Some(last)) = (days.first().map(|d| d.0), days.last().map(|d| d.0)) else {
        return "<p class=\"muted\">No records.</p>\n".to_owned();
    };
    let span = (last - first + 1).clamp(1, 3660) as usize;
    let max = days.iter().map(|d| d.1).max().unwrap_or(1).max(1);
    let (width, height) = (720.0_f64, 120.0_f64);
    let bar = width / span as f64;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" width=\"{width}\" height=\"{h}\" viewBox=\"0 0 {width} {h}\"><title>{} records from {} to {}, at most {max} a day</title>\n",
        facility.records,
        text(facility.per_day.keys().next().map(String::as_str).unwrap_or("")),
        text(facility.per_day.keys().next_back().map(String::as_str).unwrap_or("")),
        h = height + 20.0,
    );
    for (day, count) in &days {
        let offset = (day - first) as usize;
        if offset >= span {
            continue;
        }
        let h = (*count as f64 / max as f64 * height).max(1.0);
        let _ = writeln!(
            svg,
            "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"#0969da\"/>",
            offset as f64 * bar,
            height - h,
            (bar - 1.0).max(0.5)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"0\" y=\"{y}\" font-size=\"11\">{}</text><text x=\"{width}\" y=\"{y}\" font-size=\"11\" text-anchor=\"end\">{}</text></svg>",
        text(facility.per_day.keys().next().map(String::as_str).unwrap_or("")),
        text(facility.per_day.keys().next_back().map(String::as_str).unwrap_or("")),
        y = height + 15.0
    );
    if !facility.gaps.is_empty() {
        let missing: u64 = facility.gaps.iter().map(|r| r.last - r.first + 1).sum();
        let _ = writeln!(
            svg,
            "<p class=\"status-FAILED\">{missing} sequence number{} missing (see the table above).</p>",
            if missing == 1 { "" } else { "s" }
        );
    }
    svg
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian), `None` if malformed.
fn day_number(date: &str) -> Option<i64> {
    let mut parts = date.splitn(3, '-');
    let (y, m, d): (i64, i64, i64) = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, Range};

    #[test]
    fn untrusted_text_cannot_make_markup() {
        assert_eq!(text("<script>alert('x')</script>&"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;");
        assert_eq!(text("a\u{202e}b\n"), "a\\u{202e}b\\n");
    }

    #[test]
    fn days_are_counted_from_the_epoch() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2000-03-01"), Some(11_017));
        assert_eq!(day_number("2026-12-05"), Some(20_792));
        assert_eq!(day_number("2026-13-05"), None);
    }

    #[test]
    fn the_page_names_every_finding_and_escapes_what_the_bundle_says() {
        let mut report = Report { result: "FAILED".into(), ..Report::default() };
        report.summary.findings = 1;
        report.findings.push(Finding {
            code: "SEQUENCE_GAP".into(),
            message: "sequence 5 of <b>x</b> is missing".into(),
            facility: Some("<b>x</b>".into()),
            index: None,
            sequence: Some(5),
        });
        report.facilities.push(FacilityReport {
            facility: "<b>x</b>".into(),
            gaps: vec![Range { first: 5, last: 5 }],
            per_day: [("2026-12-01".to_owned(), 3), ("2026-12-03".to_owned(), 1)].into_iter().collect(),
            ..FacilityReport::default()
        });
        let page = render(&report, &[]);
        assert!(page.contains("SEQUENCE_GAP"));
        assert!(!page.contains("<b>x</b>"), "no markup from the bundle");
        assert!(page.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert_eq!(page.matches("<rect").count(), 2, "one bar per day with records");
        assert!(page.contains("1 sequence number missing"));
    }
}
