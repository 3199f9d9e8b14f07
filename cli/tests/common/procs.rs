//! Running real programs in interop tests: bounded in time, killed on drop, on loopback.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// The `trackwire` binary under test, with `args`.
pub(crate) fn tool(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trackwire"));
    c.args(args);
    c
}

/// Requires `program` on PATH (interop runs must not silently lose a peer).
pub(crate) fn require(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} is not installed (.ci/run installs it)"))
}

/// A free UDP port on the loopback address `host` (the kernel picks it).
pub(crate) fn free_udp_port(host: &str) -> u16 {
    let s = std::net::UdpSocket::bind((host, 0)).unwrap();
    s.local_addr().unwrap().port()
}

/// A free TCP port on the loopback address `host`.
pub(crate) fn free_tcp_port(host: &str) -> u16 {
    let s = std::net::TcpListener::bind((host, 0)).unwrap();
    s.local_addr().unwrap().port()
}

/// A fresh scratch directory under the target directory.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let mut p = std::env::current_exe().unwrap();
    p.pop();
    let dir = p
        .join("interop-scratch")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A child process that is killed when dropped, with its output lines on a channel.
pub(crate) struct Proc {
    child: Child,
    pub(crate) name: String,
    lines: Receiver<String>,
    pub(crate) seen: Vec<String>,
}

impl Proc {
    /// Starts `cmd`, collecting stdout and stderr lines.
    pub(crate) fn spawn(name: &str, cmd: Command) -> Proc {
        Proc::start(name, cmd, Stdio::null()).0
    }

    /// Starts `cmd` with `stdin`, collecting stdout and stderr lines on a channel.
    fn start(
        name: &str,
        mut cmd: Command,
        stdin: Stdio,
    ) -> (Proc, Option<std::process::ChildStdin>) {
        cmd.stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdin = child.stdin.take();
        let (tx, rx) = channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        for stream in [
            Box::new(out) as Box<dyn std::io::Read + Send>,
            Box::new(err),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let p = Proc {
            child,
            name: name.to_string(),
            lines: rx,
            seen: Vec::new(),
        };
        (p, stdin)
    }

    /// Waits up to `timeout` for a line containing `needle`; returns it.
    pub(crate) fn wait_for(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return Some(l.clone());
        }
        let end = Instant::now() + timeout;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = line.contains(needle);
                    self.seen.push(line.clone());
                    if hit {
                        return Some(line);
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }

    /// Every line seen so far (draining what is queued).
    pub(crate) fn lines(&mut self) -> &[String] {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
        &self.seen
    }

    /// Sends SIGINT (a graceful stop for BitTorrent clients, which then announce `stopped`).
    pub(crate) fn interrupt(&self) {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
    }

    /// Sends SIGTERM (how service managers stop a server).
    pub(crate) fn terminate(&self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }

    /// Waits up to `timeout` for the process to exit; kills it otherwise.
    pub(crate) fn finish(&mut self, timeout: Duration) -> Option<i32> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `trackwire tracker` on the given binds and waits until every socket is bound.
pub(crate) fn start_tracker(binds: &[String], extra: &[&str]) -> Proc {
    let mut cmd = tool(&["tracker"]);
    for b in binds {
        cmd.arg("--bind").arg(b);
    }
    cmd.args(extra);
    let mut p = Proc::spawn("tracker", cmd);
    for b in binds {
        let line = format!("listening on {b}");
        assert!(
            p.wait_for(&line, Duration::from_secs(10)).is_some(),
            "tracker never said `{line}`: {:?}",
            p.lines()
        );
    }
    p
}

/// Waits for a file to exist with exactly `expected` as its content.
pub(crate) fn wait_for_file(path: &Path, expected: &[u8], timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if std::fs::read(path).is_ok_and(|b| b == expected) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

impl Proc {
    /// Starts `cmd` like [`Proc::spawn`], but with stdin piped: returns the process and
    /// its stdin (dropping it closes the child's stdin).
    pub(crate) fn spawn_piped(name: &str, cmd: Command) -> (Proc, std::process::ChildStdin) {
        let (p, stdin) = Proc::start(name, cmd, Stdio::piped());
        (p, stdin.expect("stdin was piped"))
    }

    /// Starts `cmd` with `input` written to its stdin, which is then closed (e.g. the
    /// password ctorrent prompts for with `-S host:port:`).
    pub(crate) fn spawn_with_input(name: &str, cmd: Command, input: &str) -> Proc {
        use std::io::Write;
        let (p, mut stdin) = Proc::spawn_piped(name, cmd);
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("cannot write to {name}'s stdin: {e}"));
        drop(stdin);
        p
    }

    /// The process id (to tell processes apart in logs).
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }
}

/// `trackwire ctcs serve --json-events`, steered through its JSON API (the web
/// console's), its session events read back from stdout.
pub(crate) struct CtcsServer {
    pub(crate) proc: Proc,
    /// The address it listens on, for clients and the API alike.
    pub(crate) addr: String,
}

impl CtcsServer {
    /// The `config` events (name, value) among the output lines `from..to`.
    pub(crate) fn config_items(&mut self, from: usize, to: usize) -> Vec<(String, String)> {
        self.proc.lines()[from..to]
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event"] == "config")
            .map(|v| {
                let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                (text("name"), text("value"))
            })
            .collect()
    }

    /// Starts `trackwire ctcs serve --json-events --listen LISTEN EXTRA…` (a port of 0
    /// lets the kernel pick one) with a database of its own in a scratch directory, and
    /// waits for `listening on ADDR`.
    pub(crate) fn start(listen: &str, extra: &[&str]) -> CtcsServer {
        // One directory per server: tests run in parallel in one process.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let db = scratch(&format!("ctcs-serve-{n}")).join("ctcs.sqlite3");
        let mut cmd = tool(&["ctcs", "serve", "--json-events"]);
        cmd.arg("--listen")
            .arg(listen)
            .arg("--db")
            .arg(&db)
            .args(extra)
            .env_remove("TRACKWIRE_WEB_PASSWORD");
        let mut proc = Proc::spawn("ctcs_server", cmd);
        let line = proc
            .wait_for("listening on ", Duration::from_secs(10))
            .unwrap_or_else(|| panic!("ctcs_server never said `listening on`: {:?}", proc.lines()));
        let addr = line.trim_start_matches("listening on ").trim().to_string();
        CtcsServer { proc, addr }
    }

    /// `GET PATH` on the console's API: the status and the JSON body.
    pub(crate) fn get(&self, path: &str) -> (u16, serde_json::Value) {
        http(&self.addr, "GET", path, None)
    }

    /// `POST PATH` with a JSON body: the status and the JSON body (`null` if empty).
    pub(crate) fn post(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        http(&self.addr, "POST", path, Some(body))
    }

    /// `POST PATH` that must be accepted (202).
    pub(crate) fn command(&self, path: &str, body: serde_json::Value) {
        let (status, answer) = self.post(path, &body);
        assert_eq!(status, 202, "POST {path} {body}: {answer}");
    }

    /// How many output lines were seen so far: pass it to [`CtcsServer::wait`] to look
    /// only at what comes after.
    pub(crate) fn mark(&mut self) -> usize {
        self.proc.lines().len()
    }

    /// Every JSON event line from index `from` on (stderr lines are skipped).
    pub(crate) fn events_since(&mut self, from: usize) -> Vec<serde_json::Value> {
        let lines = self.proc.lines();
        lines[from.min(lines.len())..]
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.get("event").is_some())
            .collect()
    }

    /// Waits up to `timeout` for a JSON event at or after line `from` for which `pred`
    /// holds; returns it and the index after it, or `None` at the timeout.
    pub(crate) fn try_wait(
        &mut self,
        from: usize,
        timeout: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<(serde_json::Value, usize)> {
        let end = Instant::now() + timeout;
        let mut scanned = from;
        loop {
            let lines = self.proc.lines();
            for (i, l) in lines.iter().enumerate().skip(scanned) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(l) {
                    if v.get("event").is_some() && pred(&v) {
                        return Some((v, i + 1));
                    }
                }
            }
            scanned = lines.len().max(scanned);
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// [`CtcsServer::try_wait`], panicking with the server's output at the timeout.
    pub(crate) fn wait(
        &mut self,
        from: usize,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> (serde_json::Value, usize) {
        match self.try_wait(from, timeout, pred) {
            Some(hit) => hit,
            None => panic!(
                "ctcs_server: no {what} within {timeout:?}; output:\n{}",
                self.proc.lines().join("\n")
            ),
        }
    }

    /// [`CtcsServer::wait`] for event `event` on connection `conn`.
    pub(crate) fn wait_event(
        &mut self,
        from: usize,
        conn: u64,
        event: &str,
        timeout: Duration,
    ) -> (serde_json::Value, usize) {
        self.wait(from, &format!("`{event}` on conn {conn}"), timeout, |v| {
            v["conn"] == conn && v["event"] == event
        })
    }
}

/// Starts Debian's opentracker (IPv4 only, whitelist build) on a free loopback port with
/// `whitelist` as its known torrents, and waits until it answers a connect.
pub(crate) fn start_opentracker(whitelist: &[[u8; 20]]) -> (Proc, u16) {
    let bin = require("opentracker");
    let dir = scratch("opentracker");
    let (udp, tcp) = (free_udp_port("127.0.0.1"), free_tcp_port("127.0.0.1"));
    let hashes: String = whitelist
        .iter()
        .map(|h| h.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
        .collect();
    std::fs::write(dir.join("whitelist.txt"), hashes).unwrap();
    std::fs::write(
        dir.join("opentracker.conf"),
        format!(
            "listen.udp 127.0.0.1:{udp}\nlisten.tcp 127.0.0.1:{tcp}\naccess.whitelist whitelist.txt\ntracker.rootdir {}\ntracker.user nobody\n",
            dir.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("-f")
        .arg(dir.join("opentracker.conf"))
        .current_dir(&dir);
    let p = Proc::spawn("opentracker", cmd);
    // opentracker prints nothing when ready: wait until it answers a connect.
    let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    probe
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut connect = [0u8; 16];
    trackwire::udp::ConnectRequest {
        transaction_id: trackwire::udp::TransactionId(1),
    }
    .encode(&mut connect)
    .unwrap();
    for _ in 0..50 {
        probe.send_to(&connect, ("127.0.0.1", udp)).unwrap();
        if probe.recv_from(&mut [0u8; 64]).is_ok() {
            return (p, udp);
        }
    }
    panic!("opentracker never answered on port {udp}");
}

/// The value of option `name` among config items.
pub(crate) fn value_of<'a>(items: &'a [(String, String)], name: &str) -> &'a str {
    &items
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no option {name} in {items:?}"))
        .1
}

/// Runs `cmd` to the end; returns its exit status and its stdout, one JSON value a line.
pub(crate) fn json_lines(cmd: &mut Command) -> (Option<i32>, Vec<serde_json::Value>) {
    let out = cmd.output().unwrap();
    let rows = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    (out.status.code(), rows)
}

/// One HTTP/1.1 request to `addr` (`Connection: close`), bounded in time: the status and
/// the body as JSON (`null` if empty, a string if not JSON). Small on purpose: the console's API is all it
/// talks to.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = body.map(ToString::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if method == "POST" {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str("\r\n");
    request.push_str(&body);
    s.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let text = String::from_utf8(answer).expect("a UTF-8 answer");
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{method} {path}: no header end in {text:?}"));
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{method} {path}: no status in {head:?}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let payload = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    // Some refusals (a body that does not deserialize) are plain text: kept as a string.
    let value = if payload.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload))
    };
    (status, value)
}

/// A chunked HTTP body, joined.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}
