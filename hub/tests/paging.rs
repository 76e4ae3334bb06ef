//! `GET /v1/ledger/entries` answers a page at a time and links to the next one (RFC 8288
//! `Link: <…>; rel="next"`): a reader that follows the links reads a range completely, once,
//! and a facility's pages hold only its own entries. Real hub, mutual TLS.

mod common;

use std::collections::HashSet;

use common::{status, Pilot};
use medseal::ledger::{leaf_hash, LedgerEntry, MerkleTree};
use medseal::wire::RecordStatus;
use medseal_hub::http::MAX_ENTRIES;

/// One answer: its status, its lines and the path of the next page, if any.
struct Page {
    status: u16,
    lines: Vec<Vec<u8>>,
    next: Option<String>,
}

fn get(pilot: &Pilot, agent: &ureq::Agent, path: &str) -> Page {
    let mut response = agent.get(pilot.url(path)).call().unwrap();
    let links: Vec<String> = response.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(links.len() <= 1, "one Link header at most: {links:?}");
    let next = links.first().map(|link| {
        let target =
            link.strip_prefix('<').and_then(|l| l.strip_suffix(">; rel=\"next\"")).unwrap_or_else(|| panic!("not a next link: {link}"));
        target.to_owned()
    });
    let body = response.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap();
    let lines = body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
    Page { status: response.status().as_u16(), lines, next }
}

/// Follows the next links from `first`; the pages' lines in order, and how many pages.
fn read_all(pilot: &Pilot, agent: &ureq::Agent, first: &str) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut lines = Vec::new();
    let mut paths = vec![first.to_owned()];
    loop {
        let page = get(pilot, agent, paths.last().unwrap());
        assert_eq!(page.status, 200);
        assert!(page.lines.len() as u64 <= MAX_ENTRIES, "a page of {} entries", page.lines.len());
        assert!(!page.lines.is_empty() || page.next.is_none(), "an empty page with a next link");
        lines.extend(page.lines);
        match page.next {
            Some(next) => paths.push(next),
            None => return (lines, paths),
        }
    }
}

/// Submits `count` records of `facility` starting at sequence `from`, in batches of 250.
fn submit(pilot: &Pilot, facility: &common::Facility, from: u64, count: u64) {
    let url = pilot.url("/v1/records");
    let mut sequence = from;
    while sequence < from + count {
        let last = (sequence + 250).min(from + count);
        let records: Vec<_> = (sequence..last).map(|n| facility.record(&format!("{}-{n}", facility.id), n)).collect();
        for result in facility.submit(&url, &records) {
            assert_eq!(status(&result), RecordStatus::Accepted, "{result:?}");
        }
        sequence = last;
    }
}

#[test]
fn an_auditor_and_each_facility_read_2500_entries_completely_through_next_links() {
    let pilot = Pilot::new();
    // 1,500 of A's and 1,000 of B's, interleaved in the ledger.
    for round in 0..4u64 {
        submit(&pilot, &pilot.a, 1 + round * 375, 375);
        submit(&pilot, &pilot.b, 1 + round * 250, 250);
    }
    let (head, _) = pilot.tree_head();
    assert_eq!(head.tree_size, 2500);

    // The auditor: every entry once, in ledger order (their leaves rebuild the signed root),
    // in three pages; each link keeps the first answer's end.
    let (lines, paths) = read_all(&pilot, &pilot.auditor, "/v1/ledger/entries?start=0");
    assert_eq!(paths, ["/v1/ledger/entries?start=0", "/v1/ledger/entries?start=1000&end=2500", "/v1/ledger/entries?start=2000&end=2500"]);
    assert_eq!(lines.len(), 2500);
    let tree = MerkleTree::from_leaves(lines.iter().map(|l| leaf_hash(l)).collect());
    assert_eq!(tree.root(2500).unwrap(), head.root_hash, "the pages are not the ledger, in order");
    let entries: Vec<LedgerEntry> = lines.iter().map(|l| LedgerEntry::from_json(l).unwrap()).collect();
    let distinct: HashSet<(&str, &str)> = entries.iter().map(|e| (e.source.as_str(), e.record_id.as_str())).collect();
    assert_eq!(distinct.len(), 2500, "an entry was read twice");
    assert_eq!(entries.iter().filter(|e| e.source == "hospital-a").count(), 1500);

    // Facility A: only its own 1,500, each once, in two pages (the next page starts at the
    // ledger index of its 1,001st entry, past B's entries in between).
    let (own, paths) = read_all(&pilot, &pilot.a.agent, "/v1/ledger/entries?start=0");
    assert_eq!(paths.len(), 2, "{paths:?}");
    let own: Vec<LedgerEntry> = own.iter().map(|l| LedgerEntry::from_json(l).unwrap()).collect();
    assert!(own.iter().all(|e| e.source == "hospital-a"), "facility A saw another facility's entry");
    let a_paths = paths.clone();
    let sequences: HashSet<u64> = own.iter().map(|e| e.sequence).collect();
    assert_eq!((own.len(), sequences.len()), (1500, 1500));
    assert_eq!(sequences, (1..=1500).collect());
    let first_of_page_two = entries.iter().enumerate().filter(|(_, e)| e.source == "hospital-a").nth(1000).unwrap().0;
    assert_eq!(paths[1], format!("/v1/ledger/entries?start={first_of_page_two}&end=2500"));

    // The auditor with a facility filter: A's 1,500 in two pages, the filter kept in the link.
    let (filtered, paths) = read_all(&pilot, &pilot.auditor, "/v1/ledger/entries?start=0&source=hospital-a");
    assert_eq!(paths[1], format!("/v1/ledger/entries?start={first_of_page_two}&end=2500&source=hospital-a"));
    let filtered: Vec<LedgerEntry> = filtered.iter().map(|l| LedgerEntry::from_json(l).unwrap()).collect();
    assert_eq!(filtered, own, "the auditor's filtered pages are not facility A's own");
    // A facility that names itself reads the same; naming another is refused.
    let (_, self_named) = read_all(&pilot, &pilot.a.agent, "/v1/ledger/entries?start=0&source=hospital-a");
    assert_eq!(self_named.len(), a_paths.len());
    let mut refused = pilot.a.agent.get(pilot.url("/v1/ledger/entries?start=0&source=hospital-b")).call().unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let body: serde_json::Value = serde_json::from_slice(&refused.body_mut().read_to_vec().unwrap()).unwrap();
    assert_eq!(body["code"], "OTHER_FACILITY");
    // A facility with no entries: an empty answer, no link.
    let page = get(&pilot, &pilot.auditor, "/v1/ledger/entries?start=0&source=nobody%20here");
    assert_eq!((page.status, page.lines.len(), page.next), (200, 0, None));

    // Facility B: exactly one full page of 1,000 and no link to an empty one.
    let (own, paths) = read_all(&pilot, &pilot.b.agent, "/v1/ledger/entries?start=0");
    assert_eq!((own.len(), paths.len()), (1000, 1));
    assert!(own.iter().all(|l| LedgerEntry::from_json(l).unwrap().source == "hospital-b"));
}

#[test]
fn the_links_hold_one_state_of_the_ledger_and_a_range_smaller_than_a_page_has_no_link() {
    let pilot = Pilot::new();
    submit(&pilot, &pilot.a, 1, 1200);
    let first = get(&pilot, &pilot.auditor, "/v1/ledger/entries?start=0");
    assert_eq!((first.status, first.lines.len()), (200, 1000));
    let next = first.next.expect("a next link");
    assert_eq!(next, "/v1/ledger/entries?start=1000&end=1200");
    // The ledger grows meanwhile: the next page still ends where the first answer's range did.
    submit(&pilot, &pilot.a, 1201, 50);
    let second = get(&pilot, &pilot.auditor, &next);
    assert_eq!((second.lines.len(), second.next), (200, None));
    let last = LedgerEntry::from_json(second.lines.last().unwrap()).unwrap();
    assert_eq!(last.sequence, 1200);
    // A range within one page, and an explicit end: no link.
    let page = get(&pilot, &pilot.auditor, "/v1/ledger/entries?start=100&end=600");
    assert_eq!((page.lines.len(), page.next), (500, None));
    // A range of more than a page with an explicit end: the link keeps that end.
    let page = get(&pilot, &pilot.auditor, "/v1/ledger/entries?start=10&end=1100");
    assert_eq!((page.lines.len(), page.next.as_deref()), (1000, Some("/v1/ledger/entries?start=1010&end=1100")));
}
