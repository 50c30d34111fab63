//! A map of tokens that forgets its oldest entries past a limit, so that what clients make
//! the emulator remember stays bounded.

use std::collections::{HashMap, VecDeque};

/// Tokens and what is known of them, oldest first.
pub(super) struct Ledger<V> {
    entries: HashMap<String, V>,
    /// Insertion order, for forgetting the oldest.
    order: VecDeque<String>,
    limit: usize,
}

impl<V> Default for Ledger<V> {
    fn default() -> Self {
        Ledger::new(super::TOKEN_LIMIT)
    }
}

impl<V> Ledger<V> {
    pub fn new(limit: usize) -> Ledger<V> {
        Ledger {
            entries: HashMap::new(),
            order: VecDeque::new(),
            limit: limit.max(1),
        }
    }

    /// Adds an entry, forgetting the oldest ones when the ledger is full.
    pub fn insert(&mut self, key: String, value: V) {
        while self.order.len() >= self.limit {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
        self.order.push_back(key.clone());
        self.entries.insert(key, value);
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.entries.get_mut(key)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.values_mut()
    }

    /// Forgets the entries `keep` says no to.
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        self.entries.retain(|_, value| keep(value));
        let entries = &self.entries;
        self.order.retain(|key| entries.contains_key(key));
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_entries_are_forgotten_first() {
        let mut ledger = Ledger::new(2);
        for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
            ledger.insert(key.to_string(), i);
        }
        assert_eq!(ledger.len(), 2);
        assert!(ledger.get("a").is_none());
        assert_eq!(ledger.get("c"), Some(&2));
        ledger.retain(|v| *v != 1);
        assert!(!ledger.contains("b"));
        ledger.insert("d".into(), 3);
        assert!(ledger.contains("c") && ledger.contains("d"));
    }
}
