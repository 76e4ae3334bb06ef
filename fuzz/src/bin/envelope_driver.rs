//! Companion of the libFuzzer target, built with stable Rust and no instrumentation.
//!
//!   envelope_driver seed DIR                  write the seed corpus into DIR
//!   envelope_driver run SECONDS CORPUS ARTIFACTS
//!       the fallback fuzzer: mutates the corpus (and inputs that reached a new outcome) and
//!       feeds it to `medseal_fuzz::envelope` for SECONDS; a panic is saved to ARTIFACTS as
//!       crash-<hash> and ends the run with status 1. Not coverage-guided: use libFuzzer
//!       (run.sh) whenever it builds.
//!   envelope_driver replay FILE...            run the target once on each file

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["seed", dir] => seed(Path::new(dir)),
        ["run", seconds, corpus, artifacts] => {
            let seconds: u64 = seconds.parse().expect("SECONDS is a whole number");
            std::process::exit(run(Duration::from_secs(seconds), Path::new(corpus), Path::new(artifacts)));
        }
        ["replay", files @ ..] => {
            for file in files {
                let data = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
                println!("{file}: signature {:#x}", medseal_fuzz::envelope(&data));
            }
        }
        _ => {
            eprintln!("usage: envelope_driver seed DIR | run SECONDS CORPUS ARTIFACTS | replay FILE...");
            std::process::exit(2);
        }
    }
}

fn seed(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let seeds = medseal_fuzz::seeds();
    for (name, bytes) in &seeds {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
    println!("wrote {} seed inputs to {}", seeds.len(), dir.display());
}

/// xorshift64*: enough for mutation choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[u8] = &[0, 1, 0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x7b, 0x7d, 0x22, 0x5c, 0x7f, 0x80, 0xff, b'A', b'=', b'-', b'_'];
const TOKENS: &[&[u8]] = &[
    b"\"ct\"",
    b"\"info\"",
    b"\"meta\"",
    b"\"recipients\"",
    b"\"suite\"",
    b"\"wrapped_key\"",
    b"\"kid\"",
    b"\"enc\"",
    b"\"sequence\"",
    b"\"created\"",
    b"\"aead\"",
    b"9007199254740991",
    b"9007199254740992",
    b"1e300",
    b"-0",
    b"\\u0000",
    b"\\ud800",
    b"{}",
    b"[]",
    b"null",
    b"\xff\xff\xff\xff\x0f",
];

fn mutate(rng: &mut Rng, data: &mut Vec<u8>, pool: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(6) {
        let len = data.len();
        match rng.below(11) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            3 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            4 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(32)).min(len);
                data.drain(at..end);
            }
            5 => data.truncate(rng.below(len + 1)),
            6 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                let chunk = data[at..end].to_vec();
                let to = rng.below(len + 1);
                data.splice(to..to, chunk);
            }
            7 if !pool.is_empty() => {
                // Splice: our head, another input's tail.
                let other = &pool[rng.below(pool.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            8 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
            9 if len > 0 => {
                // A protobuf length or varint off by one.
                let i = rng.below(len);
                data[i] = if rng.below(2) == 0 { data[i].wrapping_add(1) } else { data[i].wrapping_sub(1) };
            }
            _ => {
                let n = rng.below(64);
                *data = (0..n).map(|_| rng.next() as u8).collect();
            }
        }
        if data.len() > 1 << 16 {
            data.truncate(1 << 16);
        }
    }
}

fn run(duration: Duration, corpus: &Path, artifacts: &Path) -> i32 {
    let mut pool: Vec<Vec<u8>> = std::fs::read_dir(corpus)
        .map(|dir| dir.filter_map(|e| e.ok()).filter_map(|e| std::fs::read(e.path()).ok()).collect())
        .unwrap_or_default();
    if pool.is_empty() {
        pool = medseal_fuzz::seeds().into_iter().map(|(_, bytes)| bytes).collect();
    }
    let seeds = pool.len();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1;
    let mut rng = Rng(seed);
    let mut signatures = HashSet::new();
    let start = Instant::now();
    let mut last_report = start;
    let mut execs: u64 = 0;
    println!("stable driver: {seeds} corpus inputs, {} s, rng seed {seed:#x}", duration.as_secs());
    // Run the corpus itself first.
    for input in pool.clone() {
        if let Some(status) = execute(&input, artifacts, &mut signatures, &mut execs).err() {
            return status;
        }
    }
    while start.elapsed() < duration {
        let mut input = pool[rng.below(pool.len())].clone();
        mutate(&mut rng, &mut input, &pool);
        match execute(&input, artifacts, &mut signatures, &mut execs) {
            Ok(true) if pool.len() < 50_000 => pool.push(input),
            Ok(_) => {}
            Err(status) => return status,
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            println!("#{execs} {:.0}s exec/s {:.0} pool {} outcomes {}", secs, execs as f64 / secs, pool.len(), signatures.len());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "stable driver done: {execs} executions in {secs:.0} s ({:.0}/s), {} distinct outcomes, pool {} ({} seeds), no crash",
        execs as f64 / secs,
        signatures.len(),
        pool.len(),
        seeds
    );
    0
}

/// Runs one input. Ok(new outcome?) or Err(exit status) after saving a crash.
fn execute(input: &[u8], artifacts: &Path, signatures: &mut HashSet<u32>, execs: &mut u64) -> Result<bool, i32> {
    *execs += 1;
    match catch_unwind(AssertUnwindSafe(|| medseal_fuzz::envelope(input))) {
        Ok(signature) => Ok(signatures.insert(signature)),
        Err(_) => {
            std::fs::create_dir_all(artifacts).ok();
            let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
            let path = artifacts.join(format!("crash-{hash:016x}"));
            std::fs::write(&path, input).ok();
            eprintln!("CRASH after {execs} executions: input saved to {} (replay: envelope_driver replay FILE)", path.display());
            Err(1)
        }
    }
}
