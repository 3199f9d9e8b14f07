//! `ctcs::Allocator` over an arbitrary script: reports with any rates, limits (negative
//! included), seeding states, completion times and totals from up to 10 clients (more
//! than its 8 slots), policies (valid and not), removals, cap changes, time jumps both
//! ways, and polls.
//!
//! Asserts: no panic; a full table and a bad policy are usage errors that change
//! nothing; draining `poll_command` for one `now` ends within two commands per slot;
//! every command is for a tracked client, at most `MAX_LIMIT`, within the policy in force
//! (0 = unlimited only without a maximum); one client's limit in one direction never
//! changes twice within the change interval; `poll_timeout()` is later than the last
//! `now`.
#![no_main]

use std::collections::HashMap;
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trackwire::ctcs::{
    Allocator, AllocatorConfig, ClientReport, LimitDirection, LimitPolicy, TorrentPolicy, MAX_LIMIT,
};
use trackwire::{Instant, UsageErrorKind};

const SLOTS: usize = 8;

#[derive(Arbitrary, Debug)]
struct ArbReport {
    rates: (i32, i32),
    limits: (i32, i32),
    seeding: bool,
    completed_at: Option<u16>,
    totals: Option<(u64, u64)>,
}

#[derive(Arbitrary, Debug)]
struct ArbLimitPolicy {
    minimum: u32,
    maximum: u32,
    shared: bool,
}

impl ArbLimitPolicy {
    fn build(&self) -> LimitPolicy {
        LimitPolicy::new()
            .with_minimum(self.minimum)
            .with_maximum(self.maximum)
            .with_shared(self.shared)
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    ClientReport(u8, ArbReport),
    Policy(u8, ArbLimitPolicy, ArbLimitPolicy, u16),
    Remove(u8),
    DownloadCap(u32),
    UploadCap(u32),
    Advance(u16),
    Back(u16),
    Poll,
}

#[derive(Arbitrary, Debug)]
struct Script {
    caps: (u32, u32),
    interval_ms: u16,
    grace_ms: u16,
    stale_ms: Option<u16>,
    ops: Vec<Op>,
}

fuzz_target!(|script: Script| {
    let config = AllocatorConfig::new(script.caps.0, script.caps.1)
        .with_change_interval(Duration::from_millis(u64::from(script.interval_ms)))
        .with_completion_grace(Duration::from_millis(u64::from(script.grace_ms)))
        .with_stale_after(
            script
                .stale_ms
                .map(|ms| Duration::from_millis(u64::from(ms))),
        );
    let interval = u64::from(script.interval_ms).max(1);
    let mut alloc: Allocator<u8, SLOTS> = Allocator::new_sized(config);
    let mut now = Instant::from_secs(100);
    // The latest `now` the allocator has seen: it never goes back.
    let mut seen = Instant::ZERO;
    let mut last_change: HashMap<(u8, LimitDirection), Instant> = HashMap::new();
    for op in script.ops.iter().take(300) {
        match op {
            Op::ClientReport(k, r) => {
                let k = k % 10;
                let mut report = ClientReport::new(r.rates.0, r.rates.1, r.limits.0, r.limits.1);
                if r.seeding {
                    report =
                        report
                            .with_seeding(r.completed_at.map(|ms| {
                                now.saturating_sub(Duration::from_millis(u64::from(ms)))
                            }));
                }
                if let Some((down, up)) = r.totals {
                    report = report.with_totals(down, up);
                }
                let known = alloc.policy(k).is_some();
                let before = alloc.len();
                match alloc.report(now, k, report) {
                    Ok(()) => assert!(alloc.policy(k).is_some()),
                    Err(e) => {
                        assert_eq!((e.kind(), e.argument()), (UsageErrorKind::Full, "clients"));
                        assert!(!known && before == SLOTS);
                        assert_eq!(alloc.len(), before);
                    }
                }
                seen = seen.max(now);
            }
            Op::Policy(k, down, up, ratio) => {
                let k = k % 10;
                let policy = TorrentPolicy::new()
                    .with_download(down.build())
                    .with_upload(up.build())
                    .with_share_ratio_cap(u32::from(*ratio));
                let before = alloc.policy(k);
                if let Err(e) = alloc.set_policy(k, policy) {
                    assert_eq!(
                        alloc.policy(k),
                        before,
                        "a refused policy changed something"
                    );
                    let valid = |p: &ArbLimitPolicy| {
                        p.minimum <= MAX_LIMIT
                            && p.maximum <= MAX_LIMIT
                            && (p.maximum == 0 || p.minimum <= p.maximum)
                    };
                    assert!(
                        before.is_none() || !valid(down) || !valid(up),
                        "refused a valid policy: {e}"
                    );
                }
            }
            Op::Remove(k) => {
                let k = k % 10;
                let known = alloc.policy(k).is_some();
                assert_eq!(alloc.remove(k), known);
                last_change.retain(|&(c, _), _| c != k);
            }
            Op::DownloadCap(c) => alloc.set_download_cap(*c),
            Op::UploadCap(c) => alloc.set_upload_cap(*c),
            Op::Advance(ms) => now = now.saturating_add(Duration::from_millis(u64::from(*ms))),
            Op::Back(ms) => now = now.saturating_sub(Duration::from_millis(u64::from(*ms))),
            Op::Poll => {
                seen = seen.max(now);
                let mut n = 0;
                while let Some(cmd) = alloc.poll_command(now) {
                    n += 1;
                    assert!(n <= 2 * SLOTS, "poll_command does not run dry");
                    assert!(cmd.limit <= MAX_LIMIT);
                    assert_eq!(i64::from(cmd.bytes_per_s()), i64::from(cmd.limit));
                    let policy = alloc
                        .policy(cmd.client)
                        .expect("a command for a tracked client");
                    let p = match cmd.direction {
                        LimitDirection::Download => policy.download,
                        LimitDirection::Upload => policy.upload,
                    };
                    if cmd.limit == 0 {
                        assert_eq!(p.maximum, 0, "unlimited despite a maximum");
                    } else {
                        assert!(cmd.limit >= p.minimum, "{cmd:?} below {p:?}");
                        assert!(
                            p.maximum == 0 || cmd.limit <= p.maximum,
                            "{cmd:?} above {p:?}"
                        );
                    }
                    assert_eq!(alloc.assigned(cmd.client, cmd.direction), Some(cmd.limit));
                    if let Some(t) = last_change.insert((cmd.client, cmd.direction), seen) {
                        assert!(
                            seen.as_millis() >= t.as_millis() + interval,
                            "{cmd:?} changed at {t:?} and {seen:?}"
                        );
                    }
                }
                if let Some(t) = alloc.poll_timeout() {
                    assert!(t > seen, "a deadline at or before now");
                }
            }
        }
    }
});
