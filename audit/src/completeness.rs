//! Per-facility completeness (docs/AUDIT.md): which sequence numbers of each facility the log
//! holds, which are missing (gaps, each a finding), which are there twice, which the facility
//! withdrew with a signed tombstone (not gaps), and when its records arrived.
//!
//! Records legitimately arrive out of order (retries, back-off), so order is counted, not
//! judged; a gap is a finding because the audit is about what the hub holds now, and a record
//! still on its way is something the auditor should ask about.
//!
//! Memory: 16 bytes per entry (its sequence number and a 64-bit keyed hash of its record id,
//! sorted at the end); an exact second pass over the entries runs only when a number or a hash
//! occurs twice, and keeps only those.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;

use medseal::ledger::LedgerEntry;
use medseal::untrusted::shown;

use crate::bundle::{self, Bundle, EntryLine};
use crate::report::{finding, FacilityReport, Finding, Range, Withdrawn};

/// At most this many ledger indexes are named in one finding's message.
const MAX_INDEXES_SHOWN: usize = 10;

/// How far an entry's time received may be before an earlier entry's. The hub appends entries
/// in the order their batches are stored, so concurrent batches can interleave by the time one
/// takes (seconds); more is a time the hub changed after the fact (docs/AUDIT.md).
pub const RECEIVED_ORDER_SLACK_SECONDS: i64 = 300;

/// At most this many backdated entries get a finding of their own (the rest are counted).
const MAX_BACKDATED_FINDINGS: usize = 100;

/// Collects the per-facility figures from the entries as they stream by ([`Completeness::add`]),
/// then ([`Completeness::finish`]) judges them.
#[derive(Debug, Default)]
pub struct Completeness {
    facilities: BTreeMap<String, Tally>,
    hasher: RandomState,
    /// The latest time received of the entries so far, and its index.
    latest: Option<(i64, u64)>,
    /// Entries received more than the slack before an earlier entry: (index, facility,
    /// sequence, received, the earlier entry's time and index), the first few only.
    backdated: Vec<(u64, String, u64, i64, i64, u64)>,
    backdated_count: u64,
}

/// One facility's figures while the entries stream.
#[derive(Debug, Default)]
struct Tally {
    records: u64,
    withdrawn: Vec<Withdrawn>,
    /// Every sequence number, records and withdrawals, in ledger order (sorted at the end).
    sequences: Vec<u64>,
    /// The keyed hash of every record id, likewise.
    ids: Vec<u64>,
    highest: u64,
    out_of_order: u64,
    first_received: Option<i64>,
    last_received: Option<i64>,
    /// Records per UTC day (days since 1970-01-01).
    per_day: BTreeMap<i64, u64>,
}

impl Completeness {
    /// Nothing counted yet.
    pub fn new() -> Completeness {
        Completeness::default()
    }

    /// Counts one full entry (redacted lines belong to facilities not exported, and lines that
    /// are not entries are the log checks' finding: neither is given here).
    pub fn add(&mut self, index: u64, entry: &LedgerEntry) {
        match self.latest {
            Some((latest, at)) if entry.received.saturating_add(RECEIVED_ORDER_SLACK_SECONDS) < latest => {
                self.backdated_count += 1;
                if self.backdated.len() < MAX_BACKDATED_FINDINGS {
                    self.backdated.push((index, entry.source.clone(), entry.sequence, entry.received, latest, at));
                }
            }
            Some((latest, _)) if entry.received <= latest => {}
            _ => self.latest = Some((entry.received, index)),
        }
        let tally = match self.facilities.get_mut(entry.source.as_str()) {
            Some(tally) => tally,
            None => self.facilities.entry(entry.source.clone()).or_default(),
        };
        if entry.sequence < tally.highest {
            tally.out_of_order += 1;
        }
        tally.highest = tally.highest.max(entry.sequence);
        tally.sequences.push(entry.sequence);
        tally.ids.push(self.hasher.hash_one(entry.record_id.as_str()));
        match &entry.withdrawn {
            Some(reason) => tally.withdrawn.push(Withdrawn { sequence: entry.sequence, reason: reason.clone() }),
            None => {
                tally.records += 1;
                tally.first_received = Some(tally.first_received.map_or(entry.received, |t| t.min(entry.received)));
                tally.last_received = Some(tally.last_received.map_or(entry.received, |t| t.max(entry.received)));
                *tally.per_day.entry(entry.received.div_euclid(86_400)).or_default() += 1;
            }
        }
    }

    /// The reports, sorted by facility, with a finding per gap (a range of numbers neither
    /// recorded nor withdrawn), per repeated number and per repeated record id. Repeats are
    /// confirmed, with their ledger indexes, by a second pass over `bundle`'s entries (only
    /// when a number or a record id's hash occurs twice).
    pub fn finish(self, bundle: &Bundle, findings: &mut Vec<Finding>) -> bundle::Result<Vec<FacilityReport>> {
        let time = |t: i64| medseal::utc::format(t).unwrap_or_else(|_| t.to_string());
        for (index, facility, sequence, received, latest, at) in &self.backdated {
            findings.push(Finding {
                code: finding::ENTRY_BACKDATED.to_owned(),
                message: format!(
                    "the entry at index {index} (sequence {sequence} of \"{}\") says it was received at {}, {} s before the entry at index {at} ({}): the log is appended as records arrive, so this time was set afterwards",
                    shown(facility),
                    time(*received),
                    latest - received,
                    time(*latest)
                ),
                facility: Some(facility.clone()),
                index: Some(*index),
                sequence: Some(*sequence),
            });
        }
        if self.backdated_count > self.backdated.len() as u64 {
            findings.push(Finding {
                code: finding::ENTRY_BACKDATED.to_owned(),
                message: format!("{} more entries are backdated likewise", self.backdated_count - self.backdated.len() as u64),
                ..Finding::default()
            });
        }
        let mut reports = Vec::with_capacity(self.facilities.len());
        // Facility -> repeated numbers / hashes occurring more than once.
        let mut repeated_numbers: HashMap<String, HashSet<u64>> = HashMap::new();
        let mut repeated_hashes: HashMap<String, HashSet<u64>> = HashMap::new();
        for (facility, mut tally) in self.facilities {
            tally.sequences.sort_unstable();
            let (gaps, repeats) = gaps_and_repeats(&tally.sequences);
            tally.sequences = Vec::new();
            tally.ids.sort_unstable();
            let hashes: HashSet<u64> = tally.ids.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
            tally.ids = Vec::new();
            for gap in &gaps {
                let count = gap.last - gap.first + 1;
                let numbers =
                    if count == 1 { format!("number {}", gap.first) } else { format!("numbers {} to {} ({count})", gap.first, gap.last) };
                findings.push(Finding {
                    code: finding::SEQUENCE_GAP.to_owned(),
                    message: format!(
                        "facility \"{}\": sequence {numbers} missing: neither a record nor a withdrawal is in the log",
                        shown(&facility)
                    ),
                    facility: Some(facility.clone()),
                    index: None,
                    sequence: Some(gap.first),
                });
            }
            if !repeats.is_empty() {
                repeated_numbers.insert(facility.clone(), repeats.iter().copied().collect());
            }
            if !hashes.is_empty() {
                repeated_hashes.insert(facility.clone(), hashes);
            }
            let day = |t: i64| medseal::utc::format(t.saturating_mul(86_400)).map(|s| s[..10].to_owned()).unwrap_or_default();
            let time = |t: i64| medseal::utc::format(t).ok();
            reports.push(FacilityReport {
                records: tally.records,
                passed: 0,
                highest: tally.highest,
                gaps,
                repeats,
                withdrawn: tally.withdrawn,
                out_of_order: tally.out_of_order,
                first_received: tally.first_received.and_then(time),
                last_received: tally.last_received.and_then(time),
                per_day: tally.per_day.into_iter().map(|(d, n)| (day(d), n)).collect(),
                facility,
            });
        }
        if !repeated_numbers.is_empty() || !repeated_hashes.is_empty() {
            repeats(bundle, &self.hasher, &repeated_numbers, &repeated_hashes, findings)?;
        }
        Ok(reports)
    }
}

/// Streams the entries of `bundle` once and returns each facility's completeness (the
/// standalone form of [`Completeness`]).
pub fn check(bundle: &Bundle, findings: &mut Vec<Finding>) -> bundle::Result<Vec<FacilityReport>> {
    let mut completeness = Completeness::new();
    for item in bundle.entries()? {
        if let (index, Ok(EntryLine::Entry(entry))) = item? {
            completeness.add(index, &entry);
        }
    }
    completeness.finish(bundle, findings)
}

/// The missing ranges below the highest number and the numbers present more than once, from
/// sorted numbers.
fn gaps_and_repeats(sorted: &[u64]) -> (Vec<Range>, Vec<u64>) {
    let (mut gaps, mut repeats) = (Vec::new(), Vec::new());
    let mut previous = 0u64;
    for (i, &n) in sorted.iter().enumerate() {
        if i > 0 && n == previous {
            if repeats.last() != Some(&n) {
                repeats.push(n);
            }
            continue;
        }
        if n > previous + 1 {
            gaps.push(Range { first: previous + 1, last: n - 1 });
        }
        previous = n;
    }
    (gaps, repeats)
}

/// The second pass: the ledger indexes of each repeated number, and the exact record ids behind
/// repeated hashes (a hash occurring twice may be two ids; only an id occurring twice is a
/// finding).
fn repeats(
    bundle: &Bundle,
    hasher: &RandomState,
    numbers: &HashMap<String, HashSet<u64>>,
    hashes: &HashMap<String, HashSet<u64>>,
    findings: &mut Vec<Finding>,
) -> bundle::Result<()> {
    let mut at_number: BTreeMap<(String, u64), Vec<u64>> = BTreeMap::new();
    let mut at_id: BTreeMap<(String, String), Vec<(u64, u64)>> = BTreeMap::new();
    for item in bundle.entries()? {
        let (index, Ok(EntryLine::Entry(entry))) = item? else { continue };
        if numbers.get(entry.source.as_str()).is_some_and(|set| set.contains(&entry.sequence)) {
            at_number.entry((entry.source.clone(), entry.sequence)).or_default().push(index);
        }
        if hashes.get(entry.source.as_str()).is_some_and(|set| set.contains(&hasher.hash_one(entry.record_id.as_str()))) {
            at_id.entry((entry.source.clone(), entry.record_id.clone())).or_default().push((index, entry.sequence));
        }
    }
    for ((facility, sequence), indexes) in at_number.into_iter().filter(|(_, at)| at.len() > 1) {
        findings.push(Finding {
            code: finding::SEQUENCE_REPEATED.to_owned(),
            message: format!(
                "facility \"{}\": sequence number {sequence} is in the log {} times (ledger indexes {})",
                shown(&facility),
                indexes.len(),
                list(&indexes)
            ),
            facility: Some(facility),
            index: indexes.get(1).copied(),
            sequence: Some(sequence),
        });
    }
    for ((facility, id), at) in at_id.into_iter().filter(|(_, at)| at.len() > 1) {
        let indexes: Vec<u64> = at.iter().map(|(index, _)| *index).collect();
        findings.push(Finding {
            code: finding::RECORD_ID_REPEATED.to_owned(),
            message: format!(
                "facility \"{}\": record id \"{}\" is in the log {} times (ledger indexes {})",
                shown(&facility),
                shown(&id),
                at.len(),
                list(&indexes)
            ),
            facility: Some(facility),
            index: Some(at[1].0),
            sequence: Some(at[1].1),
        });
    }
    Ok(())
}

fn list(indexes: &[u64]) -> String {
    let mut text = indexes.iter().take(MAX_INDEXES_SHOWN).map(u64::to_string).collect::<Vec<_>>().join(", ");
    if indexes.len() > MAX_INDEXES_SHOWN {
        text.push_str(", …");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::bundle::{BundleWriter, LedgerCounts, Manifest, Selection, ENTRIES};

    const DAY: i64 = 86_400;
    const T0: i64 = 1_796_083_200; // 2026-12-01T00:00:00Z

    fn entry(source: &str, sequence: u64, id: &str, received: i64) -> EntryLine {
        EntryLine::Entry(LedgerEntry {
            record_id: id.to_owned(),
            source: source.to_owned(),
            sequence,
            digest: [sequence as u8; 32],
            received,
            withdrawn: None,
        })
    }

    fn withdrawal(source: &str, sequence: u64, reason: &str) -> EntryLine {
        let EntryLine::Entry(mut entry) = entry(source, sequence, &format!("w{sequence}"), T0 + DAY + 6) else { unreachable!() };
        entry.withdrawn = Some(reason.to_owned());
        EntryLine::Entry(entry)
    }

    /// A bundle holding only these entries (all completeness reads).
    fn bundle(dir: &tempfile::TempDir, lines: &[EntryLine]) -> Bundle {
        let out = dir.path().join("bundle");
        let mut writer = BundleWriter::create(&out).unwrap();
        let mut file = writer.file(ENTRIES).unwrap();
        for line in lines {
            file.write_all(&line.to_line()).unwrap();
            file.write_all(b"\n").unwrap();
        }
        writer.close(file).unwrap();
        let manifest = Manifest {
            format: bundle::FORMAT.into(),
            version: bundle::VERSION,
            exported: "2026-12-05T00:00:00Z".into(),
            tool: "test".into(),
            selection: Selection::default(),
            ledger: LedgerCounts { size: lines.len() as u64, ..LedgerCounts::default() },
            files: BTreeMap::new(),
        };
        writer.finish(manifest).unwrap();
        Bundle::open(&out).unwrap()
    }

    fn codes(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn gaps_and_repeats_from_sorted_numbers() {
        assert_eq!(gaps_and_repeats(&[]), (vec![], vec![]));
        assert_eq!(gaps_and_repeats(&[1, 2, 3]), (vec![], vec![]));
        assert_eq!(
            gaps_and_repeats(&[2, 2, 2, 5, 6, 6, 9]),
            (vec![Range { first: 1, last: 1 }, Range { first: 3, last: 4 }, Range { first: 7, last: 8 }], vec![2, 6])
        );
    }

    #[test]
    fn a_complete_log_has_no_finding_and_its_figures() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            entry("b", 1, "b1", T0),
            entry("a", 2, "a2", T0 + 10),
            EntryLine::Redacted([3; 32]),
            entry("a", 1, "a1", T0 + DAY + 5),
            withdrawal("a", 3, "sent on paper"),
            entry("a", 4, "a4", T0 + DAY + 7),
        ];
        let bundle = bundle(&dir, &lines);
        let mut findings = Vec::new();
        let reports = check(&bundle, &mut findings).unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(reports.iter().map(|r| r.facility.as_str()).collect::<Vec<_>>(), ["a", "b"], "sorted by facility");
        let a = &reports[0];
        assert_eq!((a.records, a.highest, a.out_of_order), (3, 4, 1));
        assert!(a.gaps.is_empty() && a.repeats.is_empty(), "a withdrawn number is not a gap");
        assert_eq!(a.withdrawn, [Withdrawn { sequence: 3, reason: "sent on paper".into() }]);
        assert_eq!(a.first_received.as_deref(), Some("2026-12-01T00:00:10Z"));
        assert_eq!(a.last_received.as_deref(), Some("2026-12-02T00:00:07Z"));
        assert_eq!(a.per_day, BTreeMap::from([("2026-12-01".to_owned(), 1), ("2026-12-02".to_owned(), 2)]));
        assert_eq!((reports[1].records, reports[1].highest), (1, 1));
    }

    /// Entries are appended as records arrive: a time received more than the slack before an
    /// earlier entry's was set afterwards (a hub backdating a record to before a revocation).
    #[test]
    fn an_entry_received_before_an_earlier_one_is_backdated() {
        let dir = tempfile::tempdir().unwrap();
        let mut lines = vec![
            entry("a", 1, "a1", T0),
            entry("a", 2, "a2", T0 + 1000),
            entry("b", 1, "b1", T0 + 1000 - RECEIVED_ORDER_SLACK_SECONDS), // concurrent batches: allowed
            entry("a", 3, "a3", T0 + 1001),
            entry("b", 2, "b2", T0 - 90 * DAY), // backdated by 90 days
        ];
        let few = bundle(&dir, &lines);
        let mut findings = Vec::new();
        check(&few, &mut findings).unwrap();
        assert_eq!(codes(&findings), ["ENTRY_BACKDATED"]);
        assert_eq!((findings[0].index, findings[0].sequence, findings[0].facility.as_deref()), (Some(4), Some(2), Some("b")));
        assert!(findings[0].message.contains("entry at index 3"), "{}", findings[0].message);

        // Many: the first hundred named, the rest counted.
        lines.extend((3..=150).map(|n| entry("b", n, &format!("b{n}"), T0 - DAY)));
        let dir = tempfile::tempdir().unwrap();
        let many = bundle(&dir, &lines);
        let mut findings = Vec::new();
        check(&many, &mut findings).unwrap();
        let backdated: Vec<&Finding> = findings.iter().filter(|f| f.code == finding::ENTRY_BACKDATED).collect();
        assert_eq!(backdated.len(), 101);
        assert_eq!(backdated[100].message, "49 more entries are backdated likewise");
    }

    #[test]
    fn gaps_and_repeats_are_findings_with_their_place() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            entry("a", 1, "a1", T0),
            entry("a", 2, "a2", T0),
            entry("a", 6, "a6", T0),
            entry("a", 2, "a2-again", T0), // index 3: number 2 twice
            entry("b", 1, "same", T0),
            entry("b", 3, "same", T0), // index 5: an id twice, and 2 missing
            entry("c", 1, "same", T0), // another facility's namespace: not a repeat
        ];
        let bundle = bundle(&dir, &lines);
        let mut findings = Vec::new();
        let reports = check(&bundle, &mut findings).unwrap();
        assert_eq!(reports[0].gaps, [Range { first: 3, last: 5 }]);
        assert_eq!(reports[0].repeats, [2]);
        assert_eq!(reports[1].gaps, [Range { first: 2, last: 2 }]);
        assert_eq!(codes(&findings), ["SEQUENCE_GAP", "SEQUENCE_GAP", "SEQUENCE_REPEATED", "RECORD_ID_REPEATED"]);
        let gap = &findings[0];
        assert_eq!((gap.facility.as_deref(), gap.sequence), (Some("a"), Some(3)));
        assert!(gap.message.contains("numbers 3 to 5 (3)"), "{}", gap.message);
        assert_eq!((findings[2].index, findings[2].sequence), (Some(3), Some(2)));
        assert!(findings[2].message.contains("ledger indexes 1, 3"), "{}", findings[2].message);
        assert_eq!((findings[3].facility.as_deref(), findings[3].index), (Some("b"), Some(5)));
    }
}
