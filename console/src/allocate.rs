//! Automatic global bandwidth allocation: one task feeds trackwire's sans-IO
//! [`Allocator`] with every client's latest report and the operator's caps and
//! per-torrent policies, and sends the `SETDLIMIT`/`SETULIMIT` it decides.
//!
//! It is on while a global cap is set (either direction); then it manages the limits of
//! the torrents whose policy says *shared*, in both directions (an unlimited direction
//! gives them their maximum). With both caps at 0 it does nothing and forgets its
//! clients, so limits set by hand stay as set.
//!
//! The task wakes when a report or a setting changes ([`Shared::changed`]) or at the
//! allocator's own deadline (the end of a change interval or of a grace period).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{sleep_until, Instant as TokioInstant};
use trackwire::ctcs::{
    Allocator, AllocatorConfig, ClientReport, LimitDirection, LimitPolicy, TorrentPolicy,
};

use crate::ctcs_conn::Command;
use crate::state::{unix_now, Policy};
use crate::Shared;

/// How many clients the allocator manages at once; clients past this are left alone
/// (their limits are theirs) and noted in their messages.
pub(crate) const MAX_MANAGED: usize = 256;

/// The allocator's policy for a stored one.
fn policy(p: Policy) -> TorrentPolicy {
    TorrentPolicy::new()
        .with_download(
            LimitPolicy::new()
                .with_minimum(p.dl_min)
                .with_maximum(p.dl_max)
                .with_shared(p.dl_shared),
        )
        .with_upload(
            LimitPolicy::new()
                .with_minimum(p.ul_min)
                .with_maximum(p.ul_max)
                .with_shared(p.ul_shared),
        )
        .with_share_ratio_cap(p.ratio_cap)
}

/// What one client last reported, taken under the lock.
struct Snapshot {
    id: u64,
    seq: u64,
    report: ClientReport,
    policy: TorrentPolicy,
}

/// Runs for as long as the console does.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut alloc: Allocator<u64, MAX_MANAGED> = Allocator::new_sized(AllocatorConfig::new(0, 0));
    // The report sequence number last fed per client: only new reports are fed, so the
    // allocator's idea of when a client last spoke stays true.
    let mut fed: BTreeMap<u64, u64> = BTreeMap::new();
    let clock = &shared.clock;
    loop {
        let now = clock.now();
        let (caps, snaps) = {
            let state = shared.lock();
            let snaps: Vec<Snapshot> = state
                .torrents
                .values()
                .filter(|t| t.reports > 0)
                .map(|t| {
                    let s = &t.summary;
                    let mut report =
                        ClientReport::new(s.dl_rate, s.ul_rate, s.dl_limit, s.ul_limit)
                            .with_totals(s.dl_total, s.ul_total);
                    if s.seeding {
                        // CTDETAIL's seed time, as an instant on our clock.
                        let completed = (t.detail.seed_timestamp > 0).then(|| {
                            let ago = unix_now().saturating_sub(t.detail.seed_timestamp);
                            now.saturating_sub(Duration::from_secs(u64::try_from(ago).unwrap_or(0)))
                        });
                        report = report.with_seeding(completed);
                    }
                    Snapshot {
                        id: s.id,
                        seq: t.reports,
                        report,
                        policy: policy(state.policy(&s.name)),
                    }
                })
                .collect();
            (state.globals, snaps)
        };
        if caps.dl_cap == 0 && caps.ul_cap == 0 {
            for id in std::mem::take(&mut fed).into_keys() {
                let _ = alloc.remove(id);
            }
        } else {
            alloc.set_download_cap(caps.dl_cap);
            alloc.set_upload_cap(caps.ul_cap);
            let live: Vec<u64> = snaps.iter().map(|s| s.id).collect();
            fed.retain(|id, _| {
                let keep = live.contains(id);
                if !keep {
                    let _ = alloc.remove(*id);
                }
                keep
            });
            for s in snaps {
                if fed.get(&s.id) == Some(&s.seq) {
                    let _ = alloc.set_policy(s.id, s.policy);
                    continue;
                }
                match alloc.report(now, s.id, s.report) {
                    Ok(()) => {
                        let _ = alloc.set_policy(s.id, s.policy);
                        fed.insert(s.id, s.seq);
                    }
                    Err(_) => {
                        // Full: this client stays unmanaged until one leaves.
                    }
                }
            }
            while let Some(cmd) = alloc.poll_command(now) {
                let command = match cmd.direction {
                    LimitDirection::Download => {
                        Command::Allocated(LimitDirection::Download, cmd.bytes_per_s())
                    }
                    LimitDirection::Upload => {
                        Command::Allocated(LimitDirection::Upload, cmd.bytes_per_s())
                    }
                };
                let state = shared.lock();
                if let Some(t) = state.torrents.get(&cmd.client) {
                    // A full queue skips this change; the allocator sends it again when
                    // the client's next report still disagrees.
                    let _ = t.commands.try_send(command);
                }
            }
        }
        let deadline = if fed.is_empty() {
            None
        } else {
            alloc.poll_timeout()
        };
        let wake = deadline.map(|d| TokioInstant::from_std(clock.to_std(d)));
        tokio::select! {
            () = shared.changed.notified() => {}
            () = async {
                match wake {
                    Some(at) => sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {}
        }
    }
}
