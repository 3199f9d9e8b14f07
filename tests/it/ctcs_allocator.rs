//! The global bandwidth allocator (`ctcs::Allocator`): concrete scenarios, the properties
//! issue 16 asks for (cap, bounds, convergence) plus pacing and the completion grace, and
//! zero allocations.
//!
//! The scenarios and properties run the allocator against simulated ctorrent clients: each
//! has a true demand per direction and transfers `min(demand, limit)`; it applies every
//! command at once, except that a seeding client refuses a `SETDLIMIT` that does not lower
//! its download limit, as dnh3.3.2 does.

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use trackwire::ctcs::{
    Allocator, AllocatorConfig, ClientReport, LimitCommand, LimitDirection, LimitPolicy,
    TorrentPolicy, MAX_LIMIT, MIN_STEP,
};
use trackwire::{Instant, UsageErrorKind};
use trackwire_alloc_count::count as allocations;

const D: LimitDirection = LimitDirection::Download;
const U: LimitDirection = LimitDirection::Upload;

/// `x` plus the headroom the allocator gives a client that is not busy (see `Allocator`).
fn headroom(x: u32) -> u32 {
    x + x / 4 + MIN_STEP
}

#[derive(Debug, Clone)]
struct SimClient {
    demand: [u32; 2],
    /// The client's limits, 0 = unlimited.
    limit: [u32; 2],
    policy: TorrentPolicy,
    /// Seeding from the start (completion unknown), or from this simulated second.
    seeding_from: Option<u64>,
    totals: Option<(u64, u64)>,
    /// Stops reporting (a hung client, or one whose reports are lost).
    silent: bool,
}

impl SimClient {
    fn new(dl_demand: u32, ul_demand: u32) -> Self {
        SimClient {
            demand: [dl_demand, ul_demand],
            limit: [0, 0],
            policy: TorrentPolicy::new(),
            seeding_from: None,
            totals: None,
            silent: false,
        }
    }

    fn seeding(&self, second: u64) -> bool {
        self.seeding_from.is_some_and(|s| second >= s)
    }

    fn rate(&self, i: usize, second: u64) -> u32 {
        if i == 0 && self.seeding(second) {
            return 0;
        }
        match self.limit[i] {
            0 => self.demand[i],
            l => self.demand[i].min(l),
        }
    }
}

fn idx(d: LimitDirection) -> usize {
    match d {
        LimitDirection::Download => 0,
        LimitDirection::Upload => 1,
    }
}

struct Sim {
    alloc: Allocator<usize, 8>,
    clients: Vec<Option<SimClient>>,
    second: u64,
    /// Every command with the simulated second it was sent in.
    log: Vec<(u64, LimitCommand<usize>)>,
    /// Clients removed, with the second before which they left.
    removed: Vec<(u64, usize)>,
}

impl Sim {
    fn new(config: AllocatorConfig, clients: Vec<SimClient>) -> Self {
        Sim {
            alloc: Allocator::new_sized(config),
            clients: clients.into_iter().map(Some).collect(),
            second: 0,
            log: Vec::new(),
            removed: Vec::new(),
        }
    }

    fn now(&self) -> Instant {
        Instant::from_secs(1_000 + self.second)
    }

    fn report_all(&mut self) {
        let now = self.now();
        for (k, c) in self.clients.iter().enumerate() {
            let Some(c) = c.as_ref().filter(|c| !c.silent) else {
                continue;
            };
            let mut r = ClientReport::new(
                c.rate(0, self.second) as i32,
                c.rate(1, self.second) as i32,
                c.limit[0] as i32,
                c.limit[1] as i32,
            );
            if c.seeding(self.second) {
                let at = c
                    .seeding_from
                    .filter(|&s| s > 0)
                    .map(|s| Instant::from_secs(1_000 + s));
                r = r.with_seeding(at);
            }
            if let Some((down, up)) = c.totals {
                r = r.with_totals(down, up);
            }
            let known = self.alloc.policy(k).is_some();
            self.alloc.report(now, k, r).unwrap();
            if !known {
                self.alloc.set_policy(k, c.policy).unwrap();
            }
        }
    }

    /// One simulated second: reports, then every command, applied the way dnh3.3.2 would.
    fn step(&mut self) -> usize {
        self.report_all();
        let now = self.now();
        let mut n = 0;
        while let Some(cmd) = self.alloc.poll_command(now) {
            n += 1;
            assert!(n < 100, "runaway commands at second {}", self.second);
            self.log.push((self.second, cmd));
            let second = self.second;
            let c = self.clients[cmd.client]
                .as_mut()
                .expect("command for a live client");
            let i = idx(cmd.direction);
            // dnh3.3.2: `!IsFull() || arg < limit` (so a seed with limit 0 refuses all).
            let refused = i == 0 && c.seeding(second) && cmd.limit >= c.limit[i];
            if !refused {
                c.limit[i] = cmd.limit;
            }
        }
        if let Some(t) = self.alloc.poll_timeout() {
            assert!(t > now, "a deadline at or before now");
        }
        self.second += 1;
        n
    }

    fn run(&mut self, seconds: u64) -> usize {
        (0..seconds).map(|_| self.step()).sum()
    }

    fn commands_for(&self, client: usize, d: LimitDirection) -> Vec<(u64, u32)> {
        self.log
            .iter()
            .filter(|(_, c)| c.client == client && c.direction == d)
            .map(|(s, c)| (*s, c.limit))
            .collect()
    }

    /// The sum of the limits the allocator has assigned in direction `d`.
    fn alloc_sum(&self, d: LimitDirection) -> u64 {
        (0..self.clients.len())
            .filter_map(|k| self.alloc.assigned(k, d))
            .map(u64::from)
            .sum()
    }

    /// Client `k` disconnects.
    fn leave(&mut self, k: usize) {
        assert!(self.alloc.remove(k));
        assert!(!self.alloc.remove(k));
        self.clients[k] = None;
        self.removed.push((self.second, k));
    }
}

fn dl_only(demand: u32) -> SimClient {
    SimClient::new(demand, 0)
}

// ---- scenarios ----------------------------------------------------------------------------

#[test]
fn busy_client_borrows_an_idle_clients_share() {
    let cap = 100_000;
    let mut sim = Sim::new(
        AllocatorConfig::new(cap, 0),
        vec![dl_only(10_000), dl_only(1_000_000)],
    );
    sim.run(120);
    let idle = headroom(10_000);
    assert_eq!(sim.clients[0].as_ref().unwrap().limit[0], idle);
    assert_eq!(sim.clients[1].as_ref().unwrap().limit[0], cap - idle);
    assert_eq!(sim.run(60), 0, "steady traffic settles");
}

#[test]
fn two_busy_clients_split_equally() {
    let mut sim = Sim::new(
        AllocatorConfig::new(100_000, 60_000),
        vec![
            SimClient::new(500_000, 90_000),
            SimClient::new(500_000, 90_000),
        ],
    );
    sim.run(30);
    for c in sim.clients.iter().flatten() {
        assert_eq!(c.limit, [50_000, 30_000]);
    }
    assert_eq!(sim.run(60), 0);
}

#[test]
fn idle_client_turning_busy_gets_its_equal_share_at_once() {
    let cap = 100_000;
    let mut sim = Sim::new(
        AllocatorConfig::new(cap, 0),
        vec![dl_only(0), dl_only(1_000_000)],
    );
    sim.run(60);
    assert_eq!(sim.clients[0].as_ref().unwrap().limit[0], headroom(0));
    sim.clients[0].as_mut().unwrap().demand[0] = 1_000_000;
    let start = sim.second;
    sim.run(30);
    let raises: Vec<_> = sim
        .commands_for(0, D)
        .into_iter()
        .filter(|&(s, _)| s >= start)
        .collect();
    // No slow ramp-up through +25 % steps: the first raise (once the borrower has been
    // lowered) is the equal share.
    assert_eq!(raises.first().map(|r| r.1), Some(cap / 2), "{raises:?}");
    assert_eq!(sim.clients[0].as_ref().unwrap().limit[0], cap / 2);
    assert_eq!(sim.clients[1].as_ref().unwrap().limit[0], cap / 2);
}

#[test]
fn silent_client_is_idle_after_stale_after_and_comes_back_at_its_equal_share() {
    let cap = 100_000;
    let config = AllocatorConfig::new(cap, 0).with_stale_after(Some(Duration::from_secs(30)));
    let mut sim = Sim::new(config, vec![dl_only(500_000), dl_only(500_000)]);
    sim.run(20);
    sim.clients[0].as_mut().unwrap().silent = true;
    let silent_from = sim.second;
    sim.run(29);
    assert_eq!(
        sim.clients[0].as_ref().unwrap().limit[0],
        cap / 2,
        "not stale yet"
    );
    sim.run(20);
    let lowered = sim.commands_for(0, D);
    assert_eq!(lowered.last(), Some(&(silent_from + 29, headroom(0))));
    assert_eq!(sim.clients[1].as_ref().unwrap().limit[0], cap - headroom(0));
    // It speaks again, saturated at its small limit: busy, so back to its equal share.
    sim.clients[0].as_mut().unwrap().silent = false;
    sim.run(20);
    assert_eq!(sim.clients[0].as_ref().unwrap().limit[0], cap / 2);
    assert_eq!(sim.clients[1].as_ref().unwrap().limit[0], cap / 2);
}

#[test]
fn share_ratio_ceiling_beyond_the_wire_is_sent_once() {
    let mut leecher = SimClient::new(2_000_000_000, 1_000_000);
    leecher.policy = TorrentPolicy::new().with_share_ratio_cap(1_000_000);
    leecher.totals = Some((1, 1_000_000));
    let mut sim = Sim::new(AllocatorConfig::new(0, 0), vec![leecher]);
    sim.run(60);
    assert_eq!(sim.commands_for(0, U), vec![(0, MAX_LIMIT)]);
}

#[test]
fn new_client_waits_for_room_then_gets_its_equal_share() {
    let cap = 90_000;
    let interval = Duration::from_secs(5);
    let mut sim = Sim::new(
        AllocatorConfig::new(cap, 0).with_change_interval(interval),
        vec![dl_only(500_000), dl_only(500_000)],
    );
    sim.run(3);
    assert_eq!(sim.clients[0].as_ref().unwrap().limit[0], cap / 2);
    // A third busy client joins with its own unlimited limit while the pool is full and
    // the other two were just set.
    sim.clients.push(Some(dl_only(500_000)));
    let joined = sim.second;
    sim.run(30);
    let first = sim.commands_for(2, D);
    let (at, limit) = first[0];
    assert_eq!(limit, cap / 3);
    // The others were lowered first, no earlier than their interval allowed.
    for k in 0..2 {
        let lowered = sim
            .commands_for(k, D)
            .into_iter()
            .find(|&(s, l)| s >= joined && l == cap / 3)
            .expect("lowered to a third");
        assert!(lowered.0 <= at);
        assert!(lowered.0 >= 5, "changed before its interval");
    }
    for c in sim.clients.iter().flatten() {
        assert_eq!(c.limit[0], cap / 3);
    }
}

#[test]
fn leaving_client_returns_its_share() {
    let mut sim = Sim::new(
        AllocatorConfig::new(100_000, 0),
        vec![dl_only(500_000), dl_only(500_000)],
    );
    sim.run(10);
    sim.leave(1);
    sim.run(10);
    assert_eq!(sim.clients[0].as_ref().unwrap().limit[0], 100_000);
    assert_eq!(sim.alloc.len(), 1);
}

#[test]
fn completed_download_keeps_its_limit_for_the_grace_period() {
    let grace = Duration::from_secs(60);
    let mut seeder = dl_only(500_000);
    seeder.seeding_from = Some(20);
    let mut sim = Sim::new(
        AllocatorConfig::new(100_000, 0).with_completion_grace(grace),
        vec![seeder, dl_only(500_000)],
    );
    sim.run(20 + 59);
    assert_eq!(sim.clients[0].as_ref().unwrap().limit[0], 50_000, "held");
    assert!(sim.commands_for(0, D).iter().all(|&(s, _)| s < 20));
    sim.run(10);
    assert_eq!(
        sim.commands_for(0, D).last(),
        Some(&(80, 1)),
        "lowered after grace"
    );
    assert_eq!(sim.clients[0].as_ref().unwrap().limit[0], 1);
    // The other client gets what the seeder left, within the cap.
    sim.run(30);
    assert_eq!(sim.clients[1].as_ref().unwrap().limit[0], 100_000 - 1);
}

#[test]
fn seeder_never_given_a_limit_is_lowered_only_when_the_pool_has_room() {
    // Found by the cap property: a client that completes before the pool had room for it
    // came with its own limit (2 B/s here); lowering it to 1 B/s after the grace period
    // adds it to a pool the others already fill, so it waits for room like a newcomer.
    let cap = 91_281;
    let mut late = dl_only(35_284);
    late.limit = [2, 0];
    late.seeding_from = Some(1);
    let config = AllocatorConfig::new(cap, 0)
        .with_change_interval(Duration::from_secs(4))
        .with_completion_grace(Duration::from_secs(4));
    let mut sim = Sim::new(config, vec![dl_only(0), dl_only(39_487), late]);
    for _ in 0..30 {
        sim.step();
        let sum: u64 = sim.alloc_sum(D);
        assert!(sum <= u64::from(cap), "{sum} at second {}", sim.second);
    }
    let lowered = sim.commands_for(2, D);
    assert_eq!(lowered.len(), 1);
    assert_eq!(lowered[0].1, 1);
    assert!(lowered[0].0 >= 5, "not before the grace period ended");
}

#[test]
fn seeder_with_unlimited_download_is_left_alone() {
    let mut seeder = SimClient::new(0, 10_000);
    seeder.seeding_from = Some(0);
    let mut sim = Sim::new(
        AllocatorConfig::new(100_000, 0),
        vec![seeder, dl_only(500_000)],
    );
    sim.run(60);
    assert!(
        sim.commands_for(0, D).is_empty(),
        "a seed refuses it anyway"
    );
    assert_eq!(sim.clients[1].as_ref().unwrap().limit[0], 100_000);
}

#[test]
fn share_ratio_cap_paces_a_downloader_and_stops_a_seeder() {
    let mut leecher = SimClient::new(40_000, 500_000);
    leecher.policy = TorrentPolicy::new().with_share_ratio_cap(150);
    leecher.totals = Some((1_000_000, 2_000_000)); // ratio 2.0 >= 1.5
    let mut below = SimClient::new(40_000, 500_000);
    below.policy = TorrentPolicy::new().with_share_ratio_cap(300); // ratio 2.0 < 3.0
    below.totals = Some((1_000_000, 2_000_000));
    let mut seeder = SimClient::new(0, 500_000);
    seeder.seeding_from = Some(0);
    seeder.policy = TorrentPolicy::new().with_share_ratio_cap(100);
    seeder.totals = Some((1_000_000, 1_000_000));
    let mut sim = Sim::new(AllocatorConfig::new(0, 0), vec![leecher, below, seeder]);
    sim.run(20);
    assert_eq!(
        sim.clients[0].as_ref().unwrap().limit[1],
        40_000 * 150 / 100
    );
    assert_eq!(
        sim.clients[1].as_ref().unwrap().limit[1],
        0,
        "not reached: unlimited"
    );
    assert_eq!(sim.clients[2].as_ref().unwrap().limit[1], 1, "stopped");
}

#[test]
fn unshared_client_is_only_kept_within_its_bounds() {
    let mut free = dl_only(500_000);
    free.policy = TorrentPolicy::new()
        .with_download(LimitPolicy::new().with_shared(false).with_maximum(30_000));
    let mut fixed = dl_only(500_000);
    fixed.limit = [20_000, 0];
    fixed.policy = TorrentPolicy::new().with_download(LimitPolicy::new().with_shared(false));
    let mut sim = Sim::new(
        AllocatorConfig::new(100_000, 0),
        vec![free, fixed, dl_only(500_000)],
    );
    sim.run(30);
    assert_eq!(
        sim.commands_for(0, D),
        vec![(0, 30_000)],
        "only its maximum"
    );
    assert!(sim.commands_for(1, D).is_empty());
    // Unshared clients do not count against the pool.
    assert_eq!(sim.clients[2].as_ref().unwrap().limit[0], 100_000);
}

#[test]
fn minimum_wins_over_lending_and_maximum_over_borrowing() {
    let mut low = dl_only(0);
    low.policy = TorrentPolicy::new().with_download(LimitPolicy::new().with_minimum(40_000));
    let mut capped = dl_only(500_000);
    capped.policy = TorrentPolicy::new().with_download(LimitPolicy::new().with_maximum(25_000));
    let mut sim = Sim::new(
        AllocatorConfig::new(100_000, 0),
        vec![low, capped, dl_only(500_000)],
    );
    sim.run(60);
    let limits: Vec<u32> = sim.clients.iter().flatten().map(|c| c.limit[0]).collect();
    assert_eq!(limits, [40_000, 25_000, 35_000]);
}

#[test]
fn unlimited_cap_lifts_shared_limits_to_their_maximum() {
    let mut a = dl_only(500_000);
    a.limit = [10_000, 5_000];
    let mut b = dl_only(500_000);
    b.limit = [10_000, 0];
    b.policy = TorrentPolicy::new().with_download(LimitPolicy::new().with_maximum(70_000));
    let mut sim = Sim::new(AllocatorConfig::default(), vec![a, b]);
    sim.run(10);
    assert_eq!(sim.clients[0].as_ref().unwrap().limit, [0, 0]);
    assert_eq!(sim.clients[1].as_ref().unwrap().limit, [70_000, 0]);
    assert_eq!(sim.run(30), 0);
}

#[test]
fn limit_changed_on_the_client_is_set_again() {
    let mut sim = Sim::new(
        AllocatorConfig::new(100_000, 0),
        vec![dl_only(500_000), dl_only(500_000)],
    );
    sim.run(10);
    // The local operator removes the limit with the console keys.
    sim.clients[0].as_mut().unwrap().limit[0] = 0;
    let at = sim.second;
    sim.run(10);
    assert_eq!(sim.commands_for(0, D).last(), Some(&(at, 50_000)));
    assert_eq!(sim.alloc.assigned(0, D), Some(50_000));
}

#[test]
fn changed_interval_counts_from_each_clients_last_change() {
    let mut sim = Sim::new(
        AllocatorConfig::new(100_000, 0),
        vec![dl_only(500_000), dl_only(500_000)],
    );
    sim.run(10); // both set to 50 000 at second 0
    sim.alloc.set_change_interval(Duration::from_secs(20));
    sim.alloc.set_download_cap(60_000);
    sim.run(5);
    sim.alloc.set_download_cap(40_000);
    sim.run(30);
    for k in 0..2 {
        // Not at 10 or 15 (0 + 20 s not reached), even with the pool over its cap; at 20
        // straight to the latest cap's share.
        assert_eq!(sim.commands_for(k, D), [(0, 50_000), (20, 20_000)]);
    }
}

#[test]
fn lowered_cap_is_reached_as_fast_as_pacing_allows() {
    let mut sim = Sim::new(
        AllocatorConfig::new(100_000, 0),
        vec![dl_only(500_000), dl_only(500_000)],
    );
    sim.run(10);
    sim.alloc.set_download_cap(40_000);
    sim.run(1);
    let limits: Vec<u32> = sim.clients.iter().flatten().map(|c| c.limit[0]).collect();
    assert_eq!(limits, [20_000, 20_000]);
}

#[test]
fn poll_timeout_names_the_end_of_the_interval() {
    let mut sim = Sim::new(
        AllocatorConfig::new(90_000, 0).with_change_interval(Duration::from_secs(7)),
        vec![dl_only(500_000), dl_only(500_000)],
    );
    sim.run(1);
    sim.clients.push(Some(dl_only(500_000)));
    sim.report_all();
    let now = sim.now();
    assert_eq!(
        sim.alloc.poll_command(now),
        None,
        "the pool is full and paced"
    );
    assert_eq!(
        sim.alloc.poll_timeout(),
        Some(Instant::from_secs(1_000 + 7))
    );
}

#[test]
fn usage_errors_name_what_is_wrong() {
    let mut a: Allocator<u8, 2> = Allocator::new_sized(AllocatorConfig::new(1000, 1000));
    let now = Instant::from_secs(1);
    let r = ClientReport::new(0, 0, 0, 0);
    a.report(now, 1, r).unwrap();
    a.report(now, 2, r).unwrap();
    let e = a.report(now, 3, r).unwrap_err();
    assert_eq!((e.kind(), e.argument()), (UsageErrorKind::Full, "clients"));
    let e = a.set_policy(3, TorrentPolicy::new()).unwrap_err();
    assert_eq!(
        (e.kind(), e.argument()),
        (UsageErrorKind::UnknownHandle, "client")
    );
    let inverted = LimitPolicy::new().with_minimum(10).with_maximum(5);
    let e = a
        .set_policy(1, TorrentPolicy::new().with_upload(inverted))
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.argument()),
        (UsageErrorKind::InvalidValue, "policy.upload")
    );
    let huge = LimitPolicy::new().with_maximum(u32::MAX);
    let e = a
        .set_policy(1, TorrentPolicy::new().with_download(huge))
        .unwrap_err();
    assert_eq!(e.argument(), "policy.download");
    assert!(a.remove(2));
    a.report(now, 3, r).unwrap();
}

#[test]
fn allocator_does_not_allocate() {
    let (_, n) = allocations(|| std::hint::black_box(vec![1u8; 3]));
    assert!(n >= 1, "the counter works");
    let mut a: Allocator<u32> = Allocator::new(AllocatorConfig::new(1_000_000, 300_000));
    let (sent, n) = allocations(|| {
        let mut sent = 0;
        for s in 0..200u64 {
            let now = Instant::from_secs(s);
            for k in 0..20u32 {
                let rate = (k * 7919 + s as u32 * 104_729) % 120_000;
                let mut r = ClientReport::new(rate as i32, (rate / 3) as i32, 60_000, 0)
                    .with_totals(1_000_000, u64::from(k) * 100_000);
                if k % 5 == 0 {
                    r = r.with_seeding(Some(Instant::from_secs(10)));
                }
                a.report(now, k, r).unwrap();
                if s == 0 {
                    a.set_policy(k, TorrentPolicy::new().with_share_ratio_cap(50))
                        .unwrap();
                }
            }
            while let Some(cmd) = a.poll_command(now) {
                assert!(cmd.bytes_per_s() >= 0);
                sent += 1;
            }
            let _ = a.poll_timeout();
            if s == 100 {
                a.remove(3);
            }
        }
        sent
    });
    assert!(
        sent > 20,
        "the workload exercised the allocator ({sent} commands)"
    );
    assert_eq!(n, 0, "the allocator allocated");
}

// ---- properties ---------------------------------------------------------------------------

fn limit_policy() -> impl Strategy<Value = LimitPolicy> {
    (
        prop_oneof![3 => Just(0u32), 1 => 1u32..30_000],
        prop_oneof![2 => Just(0u32), 1 => 0u32..150_000],
        prop_oneof![4 => Just(true), 1 => Just(false)],
    )
        .prop_map(|(min, extra, shared)| {
            let max = if extra == 0 { 0 } else { min + extra };
            LimitPolicy::new()
                .with_minimum(min)
                .with_maximum(max)
                .with_shared(shared)
        })
}

fn sim_client() -> impl Strategy<Value = SimClient> {
    (
        (0u32..300_000, 0u32..150_000),
        (
            prop_oneof![Just(0u32), 1u32..200_000],
            prop_oneof![Just(0u32), 1u32..200_000],
        ),
        (limit_policy(), limit_policy()),
        prop_oneof![2 => Just(0u32), 1 => 50u32..300],
        prop_oneof![2 => Just(None), 1 => (0u64..60).prop_map(Some)],
        proptest::option::of((0u64..10_000_000, 0u64..20_000_000)),
    )
        .prop_map(
            |(demand, limit, (dp, up), ratio, seeding_from, totals)| SimClient {
                demand: [demand.0, demand.1],
                limit: [limit.0, limit.1],
                policy: TorrentPolicy::new()
                    .with_download(dp)
                    .with_upload(up)
                    .with_share_ratio_cap(ratio),
                seeding_from,
                totals,
                silent: false,
            },
        )
}

fn config() -> impl Strategy<Value = AllocatorConfig> {
    (
        prop_oneof![1 => Just(0u32), 4 => 5_000u32..500_000],
        prop_oneof![1 => Just(0u32), 4 => 5_000u32..200_000],
        1u64..=10,
        0u64..=90,
    )
        .prop_map(|(dl, ul, interval, grace)| {
            AllocatorConfig::new(dl, ul)
                .with_change_interval(Duration::from_secs(interval))
                .with_completion_grace(Duration::from_secs(grace))
        })
}

/// Warm-up long enough for the slowest path (a client growing by +25 % per interval from
/// 1 KiB/s to the largest cap, at the longest interval, after the grace period).
const SETTLE_SECONDS: u64 = 600;
const QUIET_SECONDS: u64 = 120;

/// Checks properties 1, 2, 4 and 5 over a finished run.
fn check_run(
    sim: &Sim,
    config: &AllocatorConfig,
    initial: &[SimClient],
) -> Result<(), TestCaseError> {
    let interval = config.change_interval.as_secs();
    let grace = config.completion_grace.as_secs();
    // Replay the commands to check the pool after every second.
    let mut commanded: HashMap<(usize, usize), u32> = HashMap::new();
    let mut seconds = sim.log.iter().map(|(s, _)| *s).collect::<Vec<_>>();
    seconds.dedup();
    let mut log = sim.log.iter().peekable();
    for second in seconds {
        for &(_, k) in sim.removed.iter().filter(|(s, _)| *s <= second) {
            commanded.remove(&(k, 0));
            commanded.remove(&(k, 1));
        }
        while let Some((_, cmd)) = log.next_if(|(s, _)| *s == second) {
            commanded.insert((cmd.client, idx(cmd.direction)), cmd.limit);
        }
        for d in LimitDirection::BOTH {
            let i = idx(d);
            let cap = if i == 0 {
                config.download_cap
            } else {
                config.upload_cap
            };
            if cap == 0 {
                continue;
            }
            // (1) The pool's assigned limits stay within the cap unless what the allocator
            // may not lower (minimums; a seeder's held download limit) already exceeds it.
            let (mut sum, mut must) = (0u64, 0u64);
            for (k, c) in initial.iter().enumerate() {
                let p = if i == 0 {
                    c.policy.download
                } else {
                    c.policy.upload
                };
                let Some(&l) = commanded.get(&(k, i)) else {
                    continue;
                };
                if !p.shared {
                    continue;
                }
                sum += u64::from(l);
                must += if i == 0 && c.seeding(second) {
                    u64::from(l)
                } else {
                    u64::from(p.minimum.max(1))
                };
            }
            prop_assert!(
                sum <= u64::from(cap).max(must),
                "second {second} {d:?}: limits add up to {sum} > cap {cap} (must {must})"
            );
        }
    }
    for (k, c) in initial.iter().enumerate() {
        for d in LimitDirection::BOTH {
            let i = idx(d);
            let p = if i == 0 {
                c.policy.download
            } else {
                c.policy.upload
            };
            let cap = if i == 0 {
                config.download_cap
            } else {
                config.upload_cap
            };
            let cmds = sim.commands_for(k, d);
            for &(s, l) in &cmds {
                // (2) Every limit within its minimum and maximum; unlimited only where
                // nothing bounds it.
                if l == 0 {
                    prop_assert!(
                        p.maximum == 0 && (cap == 0 || !p.shared),
                        "{k} {d:?} unlimited at {s}"
                    );
                } else {
                    prop_assert!(l >= p.minimum, "{k} {d:?}: {l} below minimum {}", p.minimum);
                    prop_assert!(
                        p.maximum == 0 || l <= p.maximum,
                        "{k} {d:?}: {l} above maximum {}",
                        p.maximum
                    );
                }
            }
            // (4) One change per interval per client and direction.
            for w in cmds.windows(2) {
                prop_assert!(
                    w[1].0 >= w[0].0 + interval,
                    "{k} {d:?}: changed at {} and {} (interval {interval})",
                    w[0].0,
                    w[1].0
                );
            }
            // (5) A completed download is not throttled down during its grace period.
            if let (LimitDirection::Download, Some(from)) = (d, c.seeding_from.filter(|&s| s > 0)) {
                for &(s, l) in &cmds {
                    prop_assert!(
                        !(s >= from && s < from + grace),
                        "{k}: download set to {l} at {s}, completed at {from}, grace {grace}"
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/ctcs_allocator.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// Properties 1–5 under steady input: fixed demands, policy, totals and caps.
    #[test]
    fn steady_input_respects_cap_bounds_pacing_grace_and_converges(
        config in config(),
        clients in prop::collection::vec(sim_client(), 1..=6),
    ) {
        let mut sim = Sim::new(config, clients.clone());
        sim.run(SETTLE_SECONDS);
        // (3) Converged: nothing more to say.
        let late = sim.run(QUIET_SECONDS);
        prop_assert_eq!(late, 0, "still changing after {} s: {:?}", SETTLE_SECONDS,
            sim.log.iter().rev().take(6).collect::<Vec<_>>());
        check_run(&sim, &config, &clients)?;
        // Nobody is left waiting: every shared client under a finite cap has been given
        // a limit (a seeder's download only if it had one to lower).
        for (k, c) in clients.iter().enumerate() {
            for d in LimitDirection::BOTH {
                let i = idx(d);
                let p = if i == 0 { c.policy.download } else { c.policy.upload };
                let cap = if i == 0 { config.download_cap } else { config.upload_cap };
                let seeding_download = i == 0 && c.seeding_from.is_some();
                if p.shared && cap != 0 && !seeding_download {
                    prop_assert!(
                        sim.alloc.assigned(k, d).is_some_and(|l| l > 0),
                        "client {k} {d:?} never given a limit"
                    );
                    prop_assert_eq!(sim.alloc.assigned(k, d), Some(sim.clients[k].as_ref().unwrap().limit[i]));
                }
            }
        }
    }

    /// Properties 1, 2, 4 and 5 while demands change every few seconds and clients come
    /// and go.
    #[test]
    fn changing_input_respects_cap_bounds_pacing_and_grace(
        config in config(),
        clients in prop::collection::vec(sim_client(), 1..=6),
        changes in prop::collection::vec((0usize..6, 0u32..300_000, 0u32..150_000, any::<bool>()), 0..40),
    ) {
        let mut sim = Sim::new(config, clients.clone());
        for (k, dl, ul, leave) in changes {
            sim.run(3);
            let k = k % clients.len();
            if leave && sim.clients[k].is_some() && sim.clients.iter().flatten().count() > 1 {
                sim.leave(k);
            } else if let Some(c) = sim.clients[k].as_mut() {
                c.demand = [dl, ul];
            }
        }
        sim.run(30);
        check_run(&sim, &config, &clients)?;
    }
}
