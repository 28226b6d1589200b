//! Share storage in SQLite.
//!
//! One connection behind a mutex serves both APIs: SQLite writes are serial
//! anyway, and one connection lets the default database be `:memory:` (no
//! file to clean up after a crash). A `--db` file runs in WAL mode with
//! `synchronous=FULL`, and every write commits before the handler answers,
//! so an acknowledged share survives `kill -9`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

use super::datetime::Stamp;

/// Why a storage call failed; handlers answer these with a 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored column did not hold what this server writes there.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The blocking task running the query failed.
    #[error("storage task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The schema; `IF NOT EXISTS` lets a restart reuse an existing `--db`.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS enablenow_shares (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    owner        TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    reference    TEXT,
    exp_secs     INTEGER NOT NULL,
    exp_nanos    INTEGER NOT NULL,
    exp_digits   INTEGER NOT NULL,
    consent_ids  TEXT NOT NULL,
    account_ids  TEXT NOT NULL,
    analysis_ids TEXT NOT NULL,
    created_ns   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS enablenow_shares_owner
    ON enablenow_shares (owner, created_ns, seq);
CREATE TABLE IF NOT EXISTS mycloud_shares (
    seq           INTEGER PRIMARY KEY,
    share_id      TEXT NOT NULL UNIQUE,
    owner_id      TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    file_ids      TEXT NOT NULL,
    user_ids      TEXT NOT NULL,
    use_cache     INTEGER NOT NULL,
    metadata      TEXT,
    auth_id       TEXT NOT NULL,
    share_token   TEXT NOT NULL,
    date_created  INTEGER NOT NULL,
    last_modified INTEGER NOT NULL
);
";

/// An EnableNow share as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnShare {
    pub id: String,
    /// The clientId of the app that created the share (its tenant).
    pub owner: String,
    /// The clientId of the app the share is sent to.
    pub client_id: String,
    pub reference: Option<String>,
    pub expiration: Stamp,
    pub consent_ids: Vec<String>,
    pub account_ids: Vec<String>,
    pub analysis_ids: Vec<String>,
    pub created_ns: i64,
}

/// A mycloud share as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct McShare {
    pub share_id: String,
    pub owner_id: String,
    pub device_id: String,
    pub file_ids: Vec<String>,
    /// Empty for a public share.
    pub user_ids: Vec<String>,
    pub use_cache: bool,
    pub metadata: Option<serde_json::Value>,
    pub auth_id: String,
    pub share_token: String,
    pub date_created: i64,
    pub last_modified: i64,
}

/// Which EnableNow shares a list shows.
pub(crate) struct EnListQuery<'a> {
    /// Only this tenant's shares; `None` shows everyone's (a fault).
    pub owner: Option<&'a str>,
    /// `Some(true)`: only expired at `now`; `Some(false)`: only unexpired.
    pub expired: Option<bool>,
    pub now: Stamp,
    pub newest_first: bool,
    pub limit: i64,
    pub offset: i64,
}

/// A cheap-to-clone handle on the database.
#[derive(Clone)]
pub(crate) struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens `path` (WAL, synchronous=FULL) or, without one, a private in-memory database.
    pub fn open(path: Option<&Path>) -> Result<Store, StoreError> {
        let conn = match path {
            Some(p) => {
                let conn = Connection::open(p)?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    return Err(StoreError::Corrupt(format!(
                        "cannot switch to WAL (journal_mode is {mode})"
                    )));
                }
                conn.pragma_update(None, "synchronous", "FULL")?;
                conn
            }
            None => Connection::open_in_memory()?,
        };
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection in a blocking task, so SQLite never stalls the reactor.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic elsewhere cannot leave SQLite half-written (it rolls
            // back), so a poisoned lock is safe to keep using.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await?
    }

    pub async fn insert_en(&self, share: EnShare) -> Result<(), StoreError> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO enablenow_shares (id, owner, client_id, reference, exp_secs,
                     exp_nanos, exp_digits, consent_ids, account_ids, analysis_ids, created_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    share.id,
                    share.owner,
                    share.client_id,
                    share.reference,
                    share.expiration.secs,
                    share.expiration.nanos,
                    share.expiration.frac_digits,
                    to_json(&share.consent_ids),
                    to_json(&share.account_ids),
                    to_json(&share.analysis_ids),
                    share.created_ns,
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// One page of shares and the total count, read in one transaction so they agree.
    pub async fn list_en(&self, q: EnListQuery<'_>) -> Result<(i64, Vec<EnShare>), StoreError> {
        let owner = q.owner.map(str::to_owned);
        let (expired, now, newest_first, limit, offset) =
            (q.expired, q.now, q.newest_first, q.limit, q.offset);
        self.run(move |c| {
            use rusqlite::types::Value as Sql;
            let mut clauses: Vec<&str> = Vec::new();
            let mut args: Vec<Sql> = Vec::new();
            if let Some(owner) = owner {
                clauses.push("owner = ?");
                args.push(Sql::Text(owner));
            }
            if let Some(expired) = expired {
                clauses.push(if expired {
                    "(exp_secs < ? OR (exp_secs = ? AND exp_nanos <= ?))"
                } else {
                    "NOT (exp_secs < ? OR (exp_secs = ? AND exp_nanos <= ?))"
                });
                args.extend([
                    Sql::Integer(now.secs),
                    Sql::Integer(now.secs),
                    Sql::Integer(i64::from(now.nanos)),
                ]);
            }
            let filter = if clauses.is_empty() {
                "1".to_owned()
            } else {
                clauses.join(" AND ")
            };
            let tx = c.transaction()?;
            let total: i64 = tx.query_row(
                &format!("SELECT COUNT(*) FROM enablenow_shares WHERE {filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let order = if newest_first { "DESC" } else { "ASC" };
            let sql = format!(
                "SELECT {EN_COLUMNS} FROM enablenow_shares WHERE {filter}
                 ORDER BY created_ns {order}, seq {order} LIMIT ? OFFSET ?"
            );
            args.extend([Sql::Integer(limit), Sql::Integer(offset)]);
            let rows = {
                let mut stmt = tx.prepare(&sql)?;
                let raw = stmt
                    .query_map(rusqlite::params_from_iter(args.iter()), en_row)?
                    .collect::<Result<Vec<_>, _>>()?;
                raw.into_iter()
                    .map(EnRow::into_share)
                    .collect::<Result<Vec<_>, _>>()?
            };
            tx.commit()?;
            Ok((total, rows))
        })
        .await
    }

    /// The share with `id`, if it exists and (when `owner` is given) belongs to `owner`.
    pub async fn get_en(
        &self,
        id: &str,
        owner: Option<&str>,
    ) -> Result<Option<EnShare>, StoreError> {
        let (id, owner) = (id.to_owned(), owner.map(str::to_owned));
        self.run(move |c| {
            let row = c
                .query_row(
                    &format!(
                        "SELECT {EN_COLUMNS} FROM enablenow_shares
                         WHERE id = ?1 AND (?2 IS NULL OR owner = ?2)"
                    ),
                    params![id, owner],
                    en_row,
                )
                .optional()?;
            row.map(EnRow::into_share).transpose()
        })
        .await
    }

    /// Sets the expiration; false when no share of `owner` has `id`.
    pub async fn update_en_expiration(
        &self,
        id: &str,
        owner: &str,
        expiration: Stamp,
    ) -> Result<bool, StoreError> {
        let (id, owner) = (id.to_owned(), owner.to_owned());
        self.run(move |c| {
            let n = c.execute(
                "UPDATE enablenow_shares SET exp_secs = ?3, exp_nanos = ?4, exp_digits = ?5
                 WHERE id = ?1 AND owner = ?2",
                params![
                    id,
                    owner,
                    expiration.secs,
                    expiration.nanos,
                    expiration.frac_digits
                ],
            )?;
            Ok(n > 0)
        })
        .await
    }

    /// Deletes; false when no share of `owner` has `id`.
    pub async fn delete_en(&self, id: &str, owner: &str) -> Result<bool, StoreError> {
        let (id, owner) = (id.to_owned(), owner.to_owned());
        self.run(move |c| {
            let n = c.execute(
                "DELETE FROM enablenow_shares WHERE id = ?1 AND owner = ?2",
                params![id, owner],
            )?;
            Ok(n > 0)
        })
        .await
    }

    pub async fn insert_mc(&self, share: McShare) -> Result<(), StoreError> {
        self.run(move |c| {
            let metadata = share.metadata.as_ref().map(|m| m.to_string());
            c.execute(
                "INSERT INTO mycloud_shares (share_id, owner_id, device_id, file_ids, user_ids,
                     use_cache, metadata, auth_id, share_token, date_created, last_modified)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    share.share_id,
                    share.owner_id,
                    share.device_id,
                    to_json(&share.file_ids),
                    to_json(&share.user_ids),
                    share.use_cache,
                    metadata,
                    share.auth_id,
                    share.share_token,
                    share.date_created,
                    share.last_modified,
                ],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn get_mc(&self, share_id: &str) -> Result<Option<McShare>, StoreError> {
        let share_id = share_id.to_owned();
        self.run(move |c| {
            let row = c
                .query_row(
                    "SELECT share_id, owner_id, device_id, file_ids, user_ids, use_cache,
                            metadata, auth_id, share_token, date_created, last_modified
                     FROM mycloud_shares WHERE share_id = ?1",
                    params![share_id],
                    |r| {
                        Ok((
                            McShare {
                                share_id: r.get(0)?,
                                owner_id: r.get(1)?,
                                device_id: r.get(2)?,
                                file_ids: Vec::new(),
                                user_ids: Vec::new(),
                                use_cache: r.get(5)?,
                                metadata: None,
                                auth_id: r.get(7)?,
                                share_token: r.get(8)?,
                                date_created: r.get(9)?,
                                last_modified: r.get(10)?,
                            },
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, Option<String>>(6)?,
                        ))
                    },
                )
                .optional()?;
            row.map(|(mut share, files, users, metadata)| {
                share.file_ids = from_json(&files)?;
                share.user_ids = from_json(&users)?;
                share.metadata = metadata
                    .map(|m| serde_json::from_str(&m))
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(format!("metadata: {e}")))?;
                Ok(share)
            })
            .transpose()
        })
        .await
    }
}

const EN_COLUMNS: &str = "id, owner, client_id, reference, exp_secs, exp_nanos, exp_digits,
    consent_ids, account_ids, analysis_ids, created_ns";

/// A raw `enablenow_shares` row before the JSON columns are decoded.
struct EnRow {
    share: EnShare,
    consent: String,
    account: String,
    analysis: String,
}

impl EnRow {
    fn into_share(self) -> Result<EnShare, StoreError> {
        let mut share = self.share;
        share.consent_ids = from_json(&self.consent)?;
        share.account_ids = from_json(&self.account)?;
        share.analysis_ids = from_json(&self.analysis)?;
        Ok(share)
    }
}

fn en_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EnRow> {
    Ok(EnRow {
        share: EnShare {
            id: r.get(0)?,
            owner: r.get(1)?,
            client_id: r.get(2)?,
            reference: r.get(3)?,
            expiration: Stamp {
                secs: r.get(4)?,
                nanos: r.get(5)?,
                frac_digits: r.get(6)?,
            },
            consent_ids: Vec::new(),
            account_ids: Vec::new(),
            analysis_ids: Vec::new(),
            created_ns: r.get(10)?,
        },
        consent: r.get(7)?,
        account: r.get(8)?,
        analysis: r.get(9)?,
    })
}

fn to_json(list: &[String]) -> String {
    serde_json::Value::from(list.to_vec()).to_string()
}

fn from_json(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("id list: {e}")))
}
