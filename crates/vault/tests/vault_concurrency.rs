//! Concurrent writers on the same file lose nothing (SECURITY.md item 9).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

mod common;

use std::sync::{Arc, Barrier};

use common::*;
use keyward_vault::{SecretValue, Vault};

#[test]
fn concurrent_updates_from_separate_instances_lose_no_entry() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 25;
    let (_dir, path) = temp_vault_path();
    let key = new_vault(&path).key().clone();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (path, key, barrier) = (path.clone(), key.clone(), barrier.clone());
            std::thread::spawn(move || {
                // Each thread has its own `Vault`, opened before any write, so
                // without the lock + re-read they would overwrite each other.
                let mut v = Vault::open_with_key(&path, &key).unwrap();
                barrier.wait();
                for i in 0..PER_THREAD {
                    let name = format!("t{t}_{i}");
                    v.update(|e| e.set(&name, SecretValue::from_string(format!("v{t}_{i}"))))
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let v = Vault::open_with_passphrase(&path, &pass()).unwrap();
    assert_eq!(v.list().len(), THREADS * PER_THREAD);
    for t in 0..THREADS {
        for i in 0..PER_THREAD {
            let got = v.get(&format!("t{t}_{i}")).unwrap();
            assert_eq!(got.expose_str().unwrap(), format!("v{t}_{i}"));
        }
    }
    // The previous generation is one entry short, and still opens.
    let prev = Vault::open_with_key(&sibling(&path, ".prev"), &key).unwrap();
    assert_eq!(prev.list().len(), THREADS * PER_THREAD - 1);
}
