//! `hub export` streams: the memory it holds does not grow with the number of records. Every
//! Rust allocation of this test binary is counted (one test only, so nothing else allocates
//! meanwhile); the ledger is filled directly in SQLite with entries and 64 KiB envelopes
//! (what the export copies, never checks, without --opened).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use medseal::ledger::{leaf_hash, LedgerEntry};
use medseal_hub::{export, ExportOptions};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const ENVELOPE_BYTES: usize = 64 << 10;

/// Appends `count` entries of hospital-a with their records to the hub's database.
fn add_records(hub_dir: &std::path::Path, count: u64) {
    let mut db = rusqlite::Connection::open(hub_dir.join("hub.sqlite")).unwrap();
    let tx = db.transaction().unwrap();
    let start: u64 = tx.query_row("SELECT COUNT(*) FROM ledger", [], |r| r.get::<_, i64>(0)).unwrap() as u64;
    for index in start..start + count {
        let envelope = vec![(index % 251) as u8; ENVELOPE_BYTES];
        let digest: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, &envelope).as_ref().try_into().unwrap();
        let entry = LedgerEntry {
            record_id: format!("r-{index}"),
            source: "hospital-a".into(),
            sequence: index + 1,
            digest,
            received: 1_790_000_000 + index as i64,
            withdrawn: None,
        };
        let json = entry.to_json();
        tx.execute(
            "INSERT INTO ledger (idx, leaf_hash, entry) VALUES (?1, ?2, ?3)",
            rusqlite::params![index as i64, &leaf_hash(&json)[..], std::str::from_utf8(&json).unwrap()],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO records (source, record_id, sequence, created, content_type, digest, envelope, received, ledger_index, receipt, receipt_tree_size)
             VALUES ('hospital-a', ?1, ?2, '2026-09-21T00:00:00Z', 'application/jose+json', ?3, ?4, ?5, ?6, 'receipt', ?7)",
            rusqlite::params![entry.record_id, entry.sequence as i64, &digest[..], envelope, entry.received, index as i64, index as i64 + 1],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// The most memory allocated at once during an export, above what was allocated before it.
fn export_peak(hub_dir: &std::path::Path, out: &std::path::Path) -> (usize, u64) {
    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let exported = export(&ExportOptions::new(hub_dir, out), &mut |_| {}).unwrap();
    (PEAK.load(Ordering::SeqCst) - before, exported.manifest.ledger.envelopes)
}

#[test]
fn memory_does_not_grow_with_the_number_of_records() {
    let temp = tempfile::tempdir().unwrap();
    let hub_dir = temp.path().join("hub");
    medseal_hub::init(&medseal_hub::InitOptions::new(&hub_dir)).unwrap();
    medseal_hub::pki::enroll_local(&hub_dir, "hospital-a", &temp.path().join("a")).unwrap();
    add_records(&hub_dir, 50);
    let (small, n) = export_peak(&hub_dir, &temp.path().join("small"));
    assert_eq!(n, 50);
    add_records(&hub_dir, 1000);
    let (large, n) = export_peak(&hub_dir, &temp.path().join("large"));
    assert_eq!(n, 1050);
    // 1,000 more records are 64 MB more envelopes and 1,000 more entries: held one at a time,
    // the peak stays within a few buffers of the small export's.
    assert!(large < small + (1 << 20), "peak {large} bytes for 1050 records, {small} for 50");
    assert!(large < 4 << 20, "peak {large} bytes");
}
