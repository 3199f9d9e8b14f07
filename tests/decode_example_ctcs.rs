//! Runs `cargo run --example decode -- ctcs` on every shipped transcript.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn run(args: &[&str], input: &[u8]) -> (Option<i32>, Vec<Value>) {
    let mut child = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", "decode", "--", "ctcs"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo run");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let values = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (out.status.code(), values)
}

#[test]
fn every_transcript() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/ctcs");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // Connection numbers restart in every file, so each runs in its own process.
    for name in names {
        let input = std::fs::read(dir.join(&name)).unwrap();
        let (code, values) = run(&[], &input);
        let errors: Vec<_> = values.iter().filter(|v| v.get("error").is_some()).collect();
        if name == "p3_config.txt" {
            // The deliberately malformed `CTCONFIG max_peers` (see tests/ctcs_vectors.rs).
            assert_eq!(code, Some(1), "{name}");
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0]["error"], "missing_field");
            assert_eq!(errors[0]["offset"], 18);
        } else {
            assert_eq!(code, Some(0), "{name}: {errors:?}");
        }
        for v in &values {
            assert!(v["dir"] == "C" || v["dir"] == "S", "{v}");
            assert!(v["conn"].is_u64(), "{v}");
            assert!(v.get("type").is_some() || v.get("error").is_some(), "{v}");
        }
        if name == "p3_session.txt" {
            let types: Vec<&str> = values.iter().map(|v| v["type"].as_str().unwrap()).collect();
            assert_eq!(
                &types[..4],
                ["PROTOCOL", "CTORRENT", "PROTOCOL", "CTSTATUS"]
            );
            assert!(types.contains(&"CTFILESTART") && types.contains(&"CTPEERSDONE"));
            let status = &values[3];
            for k in [
                "seeders",
                "total_seeders",
                "leechers",
                "total_leechers",
                "connecting",
                "n_have",
                "n_total",
                "n_avail",
                "dl_rate",
                "ul_rate",
                "dl_total",
                "ul_total",
                "dl_limit",
                "ul_limit",
                "cache_used",
            ] {
                assert!(status[k].is_number(), "{k} in {status}");
            }
            assert_eq!(status["n_have"], 2);
            let cfg = values.iter().find(|v| v["type"] == "CTCONFIG").unwrap();
            assert_eq!(cfg["name"], "verbose");
            assert_eq!(cfg["value_type"], "B");
            assert_eq!(cfg["short_desc"], "Verbose output [-v]");
        }
        if name == "p2_session.txt" {
            let last = values.last().unwrap();
            assert_eq!(last["type"], "CTCONFIG");
            assert_eq!(last["maxpeers"], 60);
            assert!(last["verbose"].is_null() && last["cache_size"].is_null());
            assert!(values.iter().any(|v| v["type"] == "CTFILES"));
            let client_cfg = values
                .iter()
                .find(|v| v["type"] == "CTCONFIG" && v["dir"] == "C")
                .unwrap();
            assert_eq!(client_cfg["cache_size"], 1);
        }
        if name == "p1_session.txt" {
            let last = values.last().unwrap();
            assert_eq!(last["maxpeers"], 70);
            assert!(last["exitzero"].is_null() && last["soft_quit"].is_null());
            let st = values
                .iter()
                .rev()
                .find(|v| v["type"] == "CTSTATUS")
                .unwrap();
            assert!(st.get("total_seeders").is_none() && st.get("cache_used").is_none());
        }
        if name == "p3_limits.txt" {
            let u: Vec<_> = values.iter().filter(|v| v["type"] == "SETULIMIT").collect();
            assert_eq!(u[1]["ul_limit"], 1500);
            assert_eq!(u[1]["ul_limit_text"], "1.5e3");
        }
        if name == "auth.txt" {
            let a = values.iter().find(|v| v["type"] == "AUTH").unwrap();
            assert_eq!(a["password"], "s3cret pw");
            let e = values.iter().find(|v| v["type"] == "ERROR").unwrap();
            assert_eq!(e["message"], "Authentication failed");
        }
    }
}

#[test]
fn unknown_lines_errors_and_flags() {
    let input = b"# comment\n\
S> 0.1 c1 CTQUITTER\\n\n\
S> 0.2 c1 SENDST\n\
S> 0.3 c1 ATUS\\r\\n\n\
S> 0.4 c1 BAD\\0LINE\\n\n\
C> 0.5 c1 CTSTATUS 0/0 13/13/13 0,0 0,0 0,0\\n\n";
    let (code, values) = run(&["--protocol", "1"], input);
    assert_eq!(code, Some(1));
    assert_eq!(values[0]["type"], "UNKNOWN");
    assert_eq!(values[0]["line"], "CTQUITTER");
    assert_eq!(values[1]["type"], "SENDSTATUS");
    assert_eq!(values[2]["error"], "nul_byte");
    assert_eq!(values[2]["offset"], 3);
    assert_eq!(values[3]["type"], "CTSTATUS");
    assert_eq!(values[3]["n_total"], 13);
    let (code, _) = run(&["--protocol", "7"], b"");
    assert_eq!(code, Some(2));
}
