#!/usr/bin/python3
"""Two libtorrent sessions announce one torrent to a UDP tracker and must each receive the
other as a peer; then a scrape must count them. Run with Debian's /usr/bin/python3
(python3-libtorrent). Usage: libtorrent_peers.py HOST PORT LISTEN_HOST WORKDIR

Prints one line per check and exits 0 only if every check passed."""

import os
import sys
import time

import libtorrent as lt

host, port, listen_host, workdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
bracket = f"[{host}]" if ":" in host else host
tracker = f"udp://{bracket}:{port}/announce?passkey=abc"
listen = f"[{listen_host}]" if ":" in listen_host else listen_host
deadline = time.time() + 60

os.makedirs(workdir, exist_ok=True)
data = os.path.join(workdir, "payload.bin")
with open(data, "wb") as f:
    f.write(bytes(range(256)) * 256)  # 64 KiB, deterministic
fs = lt.file_storage()
lt.add_files(fs, data)
ct = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
ct.add_tracker(tracker)
lt.set_piece_hashes(ct, workdir)
info = lt.torrent_info(ct.generate())


def session(listen_port):
    s = lt.session({
        "listen_interfaces": f"{listen}:{listen_port}",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "announce_to_all_trackers": True, "announce_to_all_tiers": True,
        "alert_mask": lt.alert.category_t.all_categories,
    })
    return s


def wait_for(s, kind, what):
    while time.time() < deadline:
        s.wait_for_alert(500)
        for a in s.pop_alerts():
            if isinstance(a, lt.tracker_error_alert):
                print(f"FAIL {what}: tracker error: {a.message()}")
                sys.exit(1)
            if isinstance(a, kind):
                return a
    print(f"FAIL {what}: timed out")
    sys.exit(1)


seed_dir = workdir  # the seeder has the data
leech_dir = os.path.join(workdir, "leech")
os.makedirs(leech_dir, exist_ok=True)

s1, s2 = session(46891), session(46892)
h1 = s1.add_torrent({"ti": info, "save_path": seed_dir})
r1 = wait_for(s1, lt.tracker_reply_alert, "first announce")
print(f"PASS first announce answered ({r1.num_peers} peers)")

h2 = s2.add_torrent({"ti": info, "save_path": leech_dir})
r2 = wait_for(s2, lt.tracker_reply_alert, "second announce")
if r2.num_peers < 1:
    print(f"FAIL second announcer got {r2.num_peers} peers, expected the first one")
    sys.exit(1)
print(f"PASS second announcer received {r2.num_peers} peer(s)")

# The first announcer learns about the second on its next announce.
h1.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
r1 = wait_for(s1, lt.tracker_reply_alert, "re-announce")
if r1.num_peers < 1:
    print(f"FAIL first announcer got {r1.num_peers} peers on re-announce")
    sys.exit(1)
print(f"PASS first announcer received {r1.num_peers} peer(s) on re-announce")

h2.scrape_tracker()
sc = wait_for(s2, lt.scrape_reply_alert, "scrape")
if sc.complete + sc.incomplete < 2:
    print(f"FAIL scrape counted complete={sc.complete} incomplete={sc.incomplete}, expected 2 peers")
    sys.exit(1)
print(f"PASS scrape complete={sc.complete} incomplete={sc.incomplete}")

# The leecher really gets the data from the seeder it learnt about from the tracker.
while time.time() < deadline and not h2.status().is_seeding:
    time.sleep(0.2)
if not h2.status().is_seeding:
    print("FAIL the second session never completed the download from its tracker-given peer")
    sys.exit(1)
print("PASS download completed from the peer the tracker handed out")
sys.exit(0)
