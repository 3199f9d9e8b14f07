//! The SQLite file that keeps the operator's limits and the terminated torrents across
//! restarts. The in-memory [`State`](crate::state::State) is what pages read; every
//! change is written through here, off the async threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};

use crate::state::{Globals, Policy, Terminated, MAX_HISTORY};

/// The schema; `IF NOT EXISTS` makes opening an existing file a no-op.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS globals (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS policies (
    name      TEXT PRIMARY KEY,
    dl_min    INTEGER NOT NULL,
    dl_max    INTEGER NOT NULL,
    dl_shared INTEGER NOT NULL,
    ul_min    INTEGER NOT NULL,
    ul_max    INTEGER NOT NULL,
    ul_shared INTEGER NOT NULL,
    ratio_cap INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS terminated (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    name     TEXT NOT NULL,
    peer_id  TEXT NOT NULL,
    started  INTEGER NOT NULL,
    ended    INTEGER NOT NULL,
    have     INTEGER NOT NULL,
    pieces   INTEGER NOT NULL,
    dl_total INTEGER NOT NULL,
    ul_total INTEGER NOT NULL
);
";

/// What opening the database can fail with.
#[derive(Debug)]
pub struct StoreError {
    /// The database file.
    pub path: PathBuf,
    /// What went wrong.
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database {}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// What was kept from earlier runs.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub globals: Globals,
    pub policies: Vec<(String, Policy)>,
    pub history: Vec<Terminated>,
}

/// The database connection.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    db: Arc<Mutex<Connection>>,
}

/// SQLite integers are i64; u64 totals past i64::MAX (never seen) are clamped.
fn to_sql(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens (creating if needed) the file and its directory, and reads what it keeps.
    pub(crate) fn open(path: &Path) -> Result<(Self, Loaded), StoreError> {
        let err = |e: Box<dyn std::error::Error + Send + Sync>| StoreError {
            path: path.to_owned(),
            source: e,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(Box::new(e)))?;
        }
        let db = Connection::open(path).map_err(|e| err(Box::new(e)))?;
        db.execute_batch(SCHEMA).map_err(|e| err(Box::new(e)))?;
        let loaded = Self::load(&db).map_err(|e| err(Box::new(e)))?;
        Ok((
            Store {
                db: Arc::new(Mutex::new(db)),
            },
            loaded,
        ))
    }

    fn load(db: &Connection) -> rusqlite::Result<Loaded> {
        let get = |key: &str| -> rusqlite::Result<u32> {
            let v: Option<i64> = db
                .query_row("SELECT value FROM globals WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(v.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
        };
        let globals = Globals {
            dl_cap: get("dl_cap")?,
            ul_cap: get("ul_cap")?,
        };
        let mut stmt = db.prepare(
            "SELECT name, dl_min, dl_max, dl_shared, ul_min, ul_max, ul_shared, ratio_cap FROM policies",
        )?;
        let policies = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Policy {
                        dl_min: r.get(1)?,
                        dl_max: r.get(2)?,
                        dl_shared: r.get(3)?,
                        ul_min: r.get(4)?,
                        ul_max: r.get(5)?,
                        ul_shared: r.get(6)?,
                        ratio_cap: r.get(7)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut stmt = db.prepare(
            "SELECT name, peer_id, started, ended, have, pieces, dl_total, ul_total
             FROM terminated ORDER BY id DESC LIMIT ?1",
        )?;
        let history = stmt
            .query_map([i64::try_from(MAX_HISTORY).unwrap_or(200)], |r| {
                Ok(Terminated {
                    name: r.get(0)?,
                    peer_id: r.get(1)?,
                    started: r.get(2)?,
                    ended: r.get(3)?,
                    have: r.get(4)?,
                    pieces: r.get(5)?,
                    dl_total: u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
                    ul_total: u64::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Loaded {
            globals,
            policies,
            history,
        })
    }

    /// Runs `f` on the connection on tokio's blocking pool (or right here outside a
    /// runtime). Failures are reported on stderr: the in-memory state stays right, only
    /// the next restart would miss the change.
    fn write(
        &self,
        what: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<()> + Send + 'static,
    ) {
        let db = Arc::clone(&self.db);
        let job = move || {
            let conn = db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Err(e) = f(&conn) {
                eprintln!("trackwire console: could not save {what}: {e}");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn_blocking(job);
            }
            Err(_) => job(),
        }
    }

    pub(crate) fn save_globals(&self, g: Globals) {
        self.write("the global limits", move |db| {
            for (k, v) in [("dl_cap", g.dl_cap), ("ul_cap", g.ul_cap)] {
                db.execute(
                    "INSERT INTO globals (key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    params![k, v],
                )?;
            }
            Ok(())
        });
    }

    pub(crate) fn save_policy(&self, name: String, p: Policy) {
        self.write("a torrent's limits", move |db| {
            db.execute(
                "INSERT INTO policies (name, dl_min, dl_max, dl_shared, ul_min, ul_max, ul_shared, ratio_cap)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(name) DO UPDATE SET dl_min = excluded.dl_min, dl_max = excluded.dl_max,
                   dl_shared = excluded.dl_shared, ul_min = excluded.ul_min, ul_max = excluded.ul_max,
                   ul_shared = excluded.ul_shared, ratio_cap = excluded.ratio_cap",
                params![name, p.dl_min, p.dl_max, p.dl_shared, p.ul_min, p.ul_max, p.ul_shared, p.ratio_cap],
            )?;
            Ok(())
        });
    }

    pub(crate) fn record_terminated(&self, t: Terminated) {
        self.write("a terminated torrent", move |db| {
            db.execute(
                "INSERT INTO terminated (name, peer_id, started, ended, have, pieces, dl_total, ul_total)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    t.name,
                    t.peer_id,
                    t.started,
                    t.ended,
                    t.have,
                    t.pieces,
                    to_sql(t.dl_total),
                    to_sql(t.ul_total)
                ],
            )?;
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_across_reopening() {
        let dir = std::env::temp_dir().join(format!("trackwire-store-{}", std::process::id()));
        let path = dir.join("nested").join("t.sqlite3");
        let _ = std::fs::remove_dir_all(&dir);
        {
            let (store, loaded) = Store::open(&path).unwrap();
            assert_eq!(loaded.globals, Globals::default());
            assert!(loaded.history.is_empty());
            store.save_globals(Globals {
                dl_cap: 1000,
                ul_cap: 2000,
            });
            let p = Policy {
                dl_min: 5,
                dl_max: 50,
                dl_shared: false,
                ratio_cap: 150,
                ..Policy::default()
            };
            store.save_policy("<b>x</b>.torrent".into(), p);
            store.record_terminated(Terminated {
                name: "a.torrent".into(),
                peer_id: "-CD0303-x".into(),
                started: 1,
                ended: 2,
                have: 3,
                pieces: 4,
                dl_total: u64::MAX,
                ul_total: 6,
            });
        }
        let (_, loaded) = Store::open(&path).unwrap();
        assert_eq!(loaded.globals.dl_cap, 1000);
        assert_eq!(loaded.globals.ul_cap, 2000);
        assert_eq!(loaded.policies.len(), 1);
        assert_eq!(loaded.policies[0].0, "<b>x</b>.torrent");
        assert_eq!(loaded.policies[0].1.ratio_cap, 150);
        assert!(!loaded.policies[0].1.dl_shared);
        assert_eq!(loaded.history.len(), 1);
        assert_eq!(loaded.history[0].dl_total, i64::MAX as u64);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
