//! Who a key is: the global key (configured or generated at start) and the instance tokens (kept in
//! the [`Store`] and mirrored in memory, so that checking a client's key never touches the disk).
//!
//! Contract: "The global key opens every namespace; an instance's token opens only that instance's
//! namespace". This module resolves a key to what it opens; refusing a request or a connection is
//! up to [`crate::auth`] and [`crate::api`].

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use rand::RngCore;

use crate::{
    http_util::constant_time_eq,
    store::{PutOutcome, Store, StoreError},
};

/// What a key opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The global key: every namespace and the whole HTTP API.
    Global,
    /// The token of this instance: its namespace and its own events.
    Instance(String),
}

/// A fresh global key: 32 random bytes as 64 hex digits.
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Default)]
struct Tokens {
    by_instance: HashMap<String, String>,
    by_token: HashMap<String, String>,
}

/// The global key and the instance tokens.
#[derive(Debug)]
pub struct Keys {
    global: String,
    generated: bool,
    tokens: RwLock<Tokens>,
    store: Arc<Store>,
    /// Serializes writes so that the disk and the memory see them in the same order.
    writes: tokio::sync::Mutex<()>,
}

impl Keys {
    /// Loads the tokens of `store`; `global` is the configured key, or `None` to generate one.
    pub fn load(store: Store, global: Option<String>) -> Result<Keys, StoreError> {
        let mut tokens = Tokens::default();
        for instance in store.instances()? {
            if let Some(token) = store.token_of(&instance)? {
                tokens.by_token.insert(token.clone(), instance.clone());
                tokens.by_instance.insert(instance, token);
            }
        }
        let generated = global.is_none();
        Ok(Keys {
            global: global.unwrap_or_else(generate_key),
            generated,
            tokens: RwLock::new(tokens),
            store: Arc::new(store),
            writes: tokio::sync::Mutex::new(()),
        })
    }

    /// The global key.
    pub fn global(&self) -> &str {
        &self.global
    }

    /// Whether the global key was generated at this start (and must be printed once).
    pub fn generated(&self) -> bool {
        self.generated
    }

    /// Whether `key` is the global key.
    pub fn is_global(&self, key: &str) -> bool {
        constant_time_eq(key, &self.global)
    }

    /// What `key` opens, if anything.
    pub fn resolve(&self, key: &str) -> Option<Access> {
        if self.is_global(key) {
            return Some(Access::Global);
        }
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        tokens
            .by_token
            .get(key)
            .map(|i| Access::Instance(i.clone()))
    }

    /// The token of `instance`.
    pub fn token_of(&self, instance: &str) -> Option<String> {
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        tokens.by_instance.get(instance).cloned()
    }

    /// The instances that have a token, in name order.
    pub fn instances(&self) -> Vec<String> {
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<String> = tokens.by_instance.keys().cloned().collect();
        names.sort();
        names
    }

    /// Gives `instance` the token `token`, durably, then in memory.
    pub async fn put(&self, instance: &str, token: &str) -> Result<PutOutcome, StoreError> {
        let _guard = self.writes.lock().await;
        let store = self.store.clone();
        let (i, t) = (instance.to_owned(), token.to_owned());
        let outcome = blocking(move || store.put(&i, &t)).await?;

        let mut tokens = self.tokens.write().unwrap_or_else(|e| e.into_inner());
        if let PutOutcome::Replaced { old } = &outcome {
            tokens.by_token.remove(old);
        }
        tokens
            .by_token
            .insert(token.to_owned(), instance.to_owned());
        tokens
            .by_instance
            .insert(instance.to_owned(), token.to_owned());
        Ok(outcome)
    }

    /// Removes `instance`'s token, durably, then in memory; `None` if the instance was unknown.
    pub async fn remove(&self, instance: &str) -> Result<Option<String>, StoreError> {
        let _guard = self.writes.lock().await;
        let store = self.store.clone();
        let i = instance.to_owned();
        let old = blocking(move || store.remove(&i)).await?;

        let mut tokens = self.tokens.write().unwrap_or_else(|e| e.into_inner());
        tokens.by_instance.remove(instance);
        if let Some(old) = &old {
            tokens.by_token.remove(old);
        }
        Ok(old)
    }
}

/// Runs a blocking store call off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(StoreError::Task(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_dir;

    #[test]
    fn generated_keys_are_long_and_distinct() {
        let (a, b) = (generate_key(), generate_key());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn keys_resolve_to_what_they_open() {
        let dir = test_dir("keys-resolve");
        let keys = Keys::load(Store::open(&dir.0).unwrap(), Some("global".into())).unwrap();
        assert!(!keys.generated());
        keys.put("shop", "t-shop").await.unwrap();
        assert_eq!(keys.resolve("global"), Some(Access::Global));
        assert_eq!(
            keys.resolve("t-shop"),
            Some(Access::Instance("shop".into()))
        );
        assert_eq!(keys.resolve("nothing"), None);

        keys.put("shop", "t-shop-2").await.unwrap();
        assert_eq!(keys.resolve("t-shop"), None);
        assert_eq!(keys.token_of("shop").as_deref(), Some("t-shop-2"));

        assert_eq!(
            keys.remove("shop").await.unwrap().as_deref(),
            Some("t-shop-2")
        );
        assert_eq!(keys.resolve("t-shop-2"), None);
        assert!(keys.instances().is_empty());
    }

    #[tokio::test]
    async fn tokens_are_loaded_at_start() {
        let dir = test_dir("keys-load");
        {
            let keys = Keys::load(Store::open(&dir.0).unwrap(), None).unwrap();
            assert!(keys.generated());
            keys.put("b", "tb").await.unwrap();
            keys.put("a", "ta").await.unwrap();
        }
        let keys = Keys::load(Store::open(&dir.0).unwrap(), None).unwrap();
        assert_eq!(keys.instances(), vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(keys.resolve("tb"), Some(Access::Instance("b".into())));
    }

    #[tokio::test]
    async fn a_refused_write_changes_nothing() {
        let dir = test_dir("keys-conflict");
        let keys = Keys::load(Store::open(&dir.0).unwrap(), Some("g".into())).unwrap();
        keys.put("a", "t").await.unwrap();
        assert!(matches!(
            keys.put("b", "t").await,
            Err(StoreError::TokenInUse)
        ));
        assert_eq!(keys.token_of("b"), None);
        assert_eq!(keys.resolve("t"), Some(Access::Instance("a".into())));
    }
}
