#!/usr/bin/python3
"""Seeds a 64 KiB payload with libtorrent and announces it to a UDP tracker, so other
clients can find it there. Writes WORKDIR/payload.torrent, prints "ready" once the tracker
answered, then seeds until killed (or for at most 240 s).

Usage: libtorrent_seed.py TRACKER_URL WORKDIR LISTEN_PORT"""

import os
import sys
import time

import libtorrent as lt

tracker, workdir, listen_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(workdir, exist_ok=True)
data = os.path.join(workdir, "payload.bin")
with open(data, "wb") as f:
    f.write(bytes(range(256)) * 256)
fs = lt.file_storage()
lt.add_files(fs, data)
ct = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
ct.add_tracker(tracker)
lt.set_piece_hashes(ct, workdir)
with open(os.path.join(workdir, "payload.torrent"), "wb") as f:
    f.write(lt.bencode(ct.generate()))
info = lt.torrent_info(os.path.join(workdir, "payload.torrent"))

s = lt.session({
    "listen_interfaces": f"{os.environ.get('SEED_HOST', '127.0.0.1')}:{listen_port}",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "alert_mask": lt.alert.category_t.all_categories,
})
h = s.add_torrent({"ti": info, "save_path": workdir})
end = time.time() + 240
announced = False
while time.time() < end:
    s.wait_for_alert(500)
    for a in s.pop_alerts():
        if isinstance(a, lt.tracker_reply_alert) and not announced:
            announced = True
            print("ready", flush=True)
        elif isinstance(a, lt.tracker_error_alert):
            print(f"tracker error: {a.message()}", flush=True)
