//! The embedded store: which token belongs to which instance, kept in a redb file under `DATA_DIR`.
//!
//! Two tables, written together in one transaction: instance → token, and token → instance, so that
//! a key presented by a client is resolved without a scan and a token never belongs to two
//! instances. Every write is committed durably before it returns, so an answer of 2xx means the
//! token survives a crash. Calls block on the disk: async callers run writes on a blocking thread.

use std::path::{Path, PathBuf};

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};

const TOKENS: TableDefinition<&str, &str> = TableDefinition::new("instance_tokens");
const INSTANCES: TableDefinition<&str, &str> = TableDefinition::new("token_instances");

/// The file name of the database inside `DATA_DIR`.
pub const FILE_NAME: &str = "gateway.redb";

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The token is already the token of another instance.
    #[error("the token is already used by another instance")]
    TokenInUse,
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The database failed (IO, corruption, locked by another process).
    #[error("store: {0}")]
    Db(#[from] redb::Error),
    /// The blocking task that ran the write failed.
    #[error("store task: {0}")]
    Task(String),
}

impl StoreError {
    fn db(e: impl Into<redb::Error>) -> Self {
        StoreError::Db(e.into())
    }
}

/// What [`Store::put`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// The instance had no token.
    Created,
    /// The instance had this other token, now gone.
    Replaced {
        /// The token it had.
        old: String,
    },
    /// The instance already had this very token.
    Unchanged,
}

/// The instance tokens, on disk.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) the store in `dir`, creating the directory if needed.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.to_owned(),
            source,
        })?;
        let db = Database::create(dir.join(FILE_NAME)).map_err(StoreError::db)?;
        // Create both tables once, so that read transactions always find them.
        let txn = db.begin_write().map_err(StoreError::db)?;
        txn.open_table(TOKENS).map_err(StoreError::db)?;
        txn.open_table(INSTANCES).map_err(StoreError::db)?;
        txn.commit().map_err(StoreError::db)?;
        Ok(Store { db })
    }

    /// A write transaction that is on disk once its commit returns (redb's default, stated here
    /// because the HTTP API answers 2xx only after that commit).
    fn begin_durable(&self) -> Result<WriteTransaction, StoreError> {
        let mut txn = self.db.begin_write().map_err(StoreError::db)?;
        txn.set_durability(Durability::Immediate)
            .map_err(StoreError::db)?;
        Ok(txn)
    }

    /// Gives `instance` the token `token`, replacing the one it had.
    pub fn put(&self, instance: &str, token: &str) -> Result<PutOutcome, StoreError> {
        let txn = self.begin_durable()?;
        let outcome = Self::put_in(&txn, instance, token);
        match outcome {
            Ok(PutOutcome::Created | PutOutcome::Replaced { .. }) => {
                // The default durability is immediate: once commit returns, the write is on disk.
                txn.commit().map_err(StoreError::db)?;
            }
            Ok(PutOutcome::Unchanged) | Err(_) => txn.abort().map_err(StoreError::db)?,
        }
        outcome
    }

    fn put_in(
        txn: &WriteTransaction,
        instance: &str,
        token: &str,
    ) -> Result<PutOutcome, StoreError> {
        let mut tokens = txn.open_table(TOKENS).map_err(StoreError::db)?;
        let mut instances = txn.open_table(INSTANCES).map_err(StoreError::db)?;
        let owner = instances
            .get(token)
            .map_err(StoreError::db)?
            .map(|g| g.value().to_owned());
        match owner.as_deref() {
            Some(o) if o == instance => return Ok(PutOutcome::Unchanged),
            Some(_) => return Err(StoreError::TokenInUse),
            None => {}
        }
        let old = tokens
            .insert(instance, token)
            .map_err(StoreError::db)?
            .map(|g| g.value().to_owned());
        instances.insert(token, instance).map_err(StoreError::db)?;
        Ok(match old {
            Some(old) => {
                instances.remove(old.as_str()).map_err(StoreError::db)?;
                PutOutcome::Replaced { old }
            }
            None => PutOutcome::Created,
        })
    }

    /// Removes `instance`'s token; returns it, or `None` if the instance was unknown.
    pub fn remove(&self, instance: &str) -> Result<Option<String>, StoreError> {
        let txn = self.begin_durable()?;
        let old = {
            let mut tokens = txn.open_table(TOKENS).map_err(StoreError::db)?;
            let mut instances = txn.open_table(INSTANCES).map_err(StoreError::db)?;
            let old = tokens
                .remove(instance)
                .map_err(StoreError::db)?
                .map(|g| g.value().to_owned());
            if let Some(old) = &old {
                instances.remove(old.as_str()).map_err(StoreError::db)?;
            }
            old
        };
        if old.is_none() {
            txn.abort().map_err(StoreError::db)?;
            return Ok(None);
        }
        txn.commit().map_err(StoreError::db)?;
        Ok(old)
    }

    /// The token of `instance`.
    pub fn token_of(&self, instance: &str) -> Result<Option<String>, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::db)?;
        let tokens = txn.open_table(TOKENS).map_err(StoreError::db)?;
        Ok(tokens
            .get(instance)
            .map_err(StoreError::db)?
            .map(|g| g.value().to_owned()))
    }

    /// The instance whose token is `token`.
    pub fn instance_of(&self, token: &str) -> Result<Option<String>, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::db)?;
        let instances = txn.open_table(INSTANCES).map_err(StoreError::db)?;
        Ok(instances
            .get(token)
            .map_err(StoreError::db)?
            .map(|g| g.value().to_owned()))
    }

    /// Every instance that has a token, in name order.
    pub fn instances(&self) -> Result<Vec<String>, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::db)?;
        let tokens = txn.open_table(TOKENS).map_err(StoreError::db)?;
        let mut names = Vec::new();
        for entry in tokens.iter().map_err(StoreError::db)? {
            let (name, _) = entry.map_err(StoreError::db)?;
            names.push(name.value().to_owned());
        }
        Ok(names)
    }
}

/// A fresh directory under the system's temp dir, removed on drop (tests only).
#[cfg(test)]
pub(crate) struct TempDir(pub(crate) PathBuf);

#[cfg(test)]
pub(crate) fn test_dir(tag: &str) -> TempDir {
    let n: u64 = rand::random();
    TempDir(std::env::temp_dir().join(format!("sio-gateway-{tag}-{}-{n:x}", std::process::id())))
}

#[cfg(test)]
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_create_replace_unchanged() {
        let dir = test_dir("put");
        let store = Store::open(&dir.0).unwrap();
        assert_eq!(store.put("a", "t1").unwrap(), PutOutcome::Created);
        assert_eq!(store.put("a", "t1").unwrap(), PutOutcome::Unchanged);
        assert_eq!(
            store.put("a", "t2").unwrap(),
            PutOutcome::Replaced { old: "t1".into() }
        );
        assert_eq!(store.token_of("a").unwrap().as_deref(), Some("t2"));
        assert_eq!(store.instance_of("t2").unwrap().as_deref(), Some("a"));
        // The old token no longer opens anything.
        assert_eq!(store.instance_of("t1").unwrap(), None);
    }

    #[test]
    fn a_token_belongs_to_one_instance() {
        let dir = test_dir("conflict");
        let store = Store::open(&dir.0).unwrap();
        store.put("a", "shared").unwrap();
        assert!(matches!(
            store.put("b", "shared"),
            Err(StoreError::TokenInUse)
        ));
        assert_eq!(store.token_of("b").unwrap(), None);
        assert_eq!(store.instances().unwrap(), vec!["a".to_owned()]);
    }

    #[test]
    fn remove_frees_the_token() {
        let dir = test_dir("remove");
        let store = Store::open(&dir.0).unwrap();
        assert_eq!(store.remove("a").unwrap(), None);
        store.put("a", "t").unwrap();
        assert_eq!(store.remove("a").unwrap().as_deref(), Some("t"));
        assert_eq!(store.instance_of("t").unwrap(), None);
        assert_eq!(store.put("b", "t").unwrap(), PutOutcome::Created);
    }

    #[test]
    fn tokens_survive_reopen() {
        let dir = test_dir("reopen");
        {
            let store = Store::open(&dir.0).unwrap();
            store.put("b", "tb").unwrap();
            store.put("a", "ta").unwrap();
            store.put("c", "tc").unwrap();
            store.remove("c").unwrap();
        }
        let store = Store::open(&dir.0).unwrap();
        assert_eq!(
            store.instances().unwrap(),
            vec!["a".to_owned(), "b".to_owned()]
        );
        assert_eq!(store.instance_of("ta").unwrap().as_deref(), Some("a"));
        assert_eq!(store.token_of("b").unwrap().as_deref(), Some("tb"));
        assert_eq!(store.instance_of("tc").unwrap(), None);
    }
}
