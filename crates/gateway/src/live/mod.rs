//! Live secrets: the credentials, injected values and scrubber the gateway
//! uses are one snapshot ([`Secrets`]) replaced whole when a value changes,
//! so a running `keyward serve` follows `keyward secret rotate`, edited
//! secret files and remote stores without a restart.
//!
//! - The local vault file is checked about once a second (its metadata:
//!   size, mtime, inode); on a change it is re-read with the key keyward
//!   already holds and every `keyward://` and `file://` reference is read
//!   again.
//! - `file://`, `keychain://` and `vault://` values are fetched again after
//!   the cache TTL; `env://` never changes.
//! - An upstream's 401 forces one refetch of that service's credential
//!   ([`crate::Gateway::refetch_credential`]), at most once per reference
//!   per [`FORCE_EVERY`].
//! - A refresh that fails keeps the last good value (and logs the
//!   reference, never a value); it is tried again after
//!   [`cache::RETRY_AFTER`].
//! - The scrubber is rebuilt from the new values *and* those of the last
//!   [`KEEP_GENERATIONS`] changes, and swapped in before the new
//!   credentials, so an answer is always scrubbed of the value it was
//!   sent with.
//!
//! All fetching runs on blocking threads, never on the async path.

pub mod cache;
mod cell;
mod refresh;
mod secrets;

use std::time::Duration;

pub use cell::Live;
pub use refresh::{FORCE_EVERY, Refetch, Refresher};
pub use secrets::Secrets;

/// How long a value from a remote store (and a `file://` value) is used
/// before it is fetched again, unless the config says otherwise.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// How often the vault file (and expired references) are checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// How many past generations of values the scrubber keeps matching.
pub const KEEP_GENERATIONS: usize = 3;

/// Checks for changes every [`CHECK_EVERY`] until the gateway is dropped
/// by everyone else. Each check runs on a blocking thread; the next one
/// starts after it finished, so a slow backend delays only refreshes.
pub async fn run(gw: crate::Gateway) {
    let weak = gw.downgrade();
    drop(gw);
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        let Some(gw) = weak.upgrade() else {
            return;
        };
        if tokio::task::spawn_blocking(move || gw.refresh_now())
            .await
            .is_err()
        {
            tracing::error!("the secret refresh task panicked; values stay as they are");
        }
    }
}
