//! The dashboard login's back-off, per client (peer address; an IPv6
//! client by its /64).
//!
//! A client checks one passphrase at a time. After its second wrong one in
//! a row it waits 2 s, then 4 s, 8 s … up to [`MAX_WAIT`] before the next
//! is checked; an attempt that comes sooner, or while its previous one is
//! still being checked, is answered at once with 429 and `Retry-After`,
//! without running the KDF. A right passphrase clears the client's record;
//! an hour without a wrong one forgets it. The first wrong passphrase costs
//! nothing more than the check's own pause, so a human who mistyped can
//! retype at once.
//!
//! Why the peer address and not a cookie: a client chooses which cookies
//! it sends, so a cookie could only make a client's own record stricter,
//! never let anyone past it. Every local process shares 127.0.0.1: a
//! same-user process guessing on the dashboard slows the dashboard login
//! for the human too — not the terminal, whose checks have their own queue
//! ([`PassphraseCheck::own_queue`](crate::approvals::PassphraseCheck::own_queue)).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;

use crate::approvals::Clock;

/// The longest wait between two checked attempts of one client.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(5 * 60);

/// An hour after its last wrong passphrase, a client starts afresh.
const FORGET: Duration = Duration::from_secs(60 * 60);

/// Clients remembered at most; beyond, new ones share one record.
const MAX_CLIENTS: usize = 1024;

/// Who is guessing: the peer's address (an IPv6 one cut to its /64, which
/// one host usually owns whole). `None`: the peer is not known (no socket),
/// or too many clients are remembered already.
pub(crate) type ClientKey = Option<IpAddr>;

/// The key of a peer address.
pub(crate) fn client_key(ip: Option<IpAddr>) -> ClientKey {
    Some(match ip? {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    })
}

#[derive(Debug)]
struct Record {
    /// Wrong passphrases in a row.
    failures: u32,
    /// The next attempt is checked no earlier than this.
    not_before: Timestamp,
    last_failure: Timestamp,
    /// An attempt of this client is being checked now.
    checking: bool,
}

/// The login's back-off for every client.
#[derive(Debug)]
pub(crate) struct Backoff {
    clock: Arc<dyn Clock>,
    clients: Mutex<HashMap<ClientKey, Record>>,
}

/// How long after a client's `failures`-th wrong passphrase in a row its
/// next one is checked: nothing after the first, then 2 s, 4 s, 8 s …
/// [`MAX_WAIT`].
pub(crate) fn wait_after(failures: u32) -> Duration {
    if failures <= 1 {
        return Duration::ZERO;
    }
    let secs = 1u64.checked_shl(failures - 1).unwrap_or(u64::MAX);
    Duration::from_secs(secs).min(MAX_WAIT)
}

fn since(then: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(then)).unwrap_or(Duration::ZERO)
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

impl Backoff {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Backoff {
        Backoff {
            clock,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn clients(&self) -> MutexGuard<'_, HashMap<ClientKey, Record>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lets `client` check one passphrase now, or says how long it must
    /// wait (at least a second).
    pub(crate) fn admit(self: &Arc<Self>, client: ClientKey) -> Result<Attempt, Duration> {
        let now = self.clock.now();
        let mut clients = self.clients();
        if !clients.contains_key(&client) && clients.len() >= MAX_CLIENTS {
            clients.retain(|_, r| r.checking || since(r.last_failure, now) < FORGET);
        }
        let key = if clients.contains_key(&client) || clients.len() < MAX_CLIENTS {
            client
        } else {
            None
        };
        let record = clients.entry(key).or_insert(Record {
            failures: 0,
            not_before: now,
            last_failure: now,
            checking: false,
        });
        if record.failures > 0 && since(record.last_failure, now) >= FORGET && !record.checking {
            record.failures = 0;
            record.not_before = now;
        }
        if record.checking {
            return Err(Duration::from_secs(1));
        }
        if now < record.not_before {
            let wait = since(now, record.not_before);
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(Duration::from_secs(secs.max(1)));
        }
        record.checking = true;
        Ok(Attempt {
            backoff: self.clone(),
            key,
            outcome: Outcome::Wrong,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Wrong,
    Right,
    NotChecked,
}

/// One admitted attempt. Unless told otherwise it counts as a wrong
/// passphrase when dropped — also when the client went away before the
/// answer (its KDF ran all the same).
#[derive(Debug)]
pub(crate) struct Attempt {
    backoff: Arc<Backoff>,
    key: ClientKey,
    outcome: Outcome,
}

impl Attempt {
    /// The passphrase was right: the client's record is cleared.
    pub(crate) fn right(mut self) {
        self.outcome = Outcome::Right;
    }

    /// The passphrase could not be checked (not the client's fault).
    pub(crate) fn not_checked(mut self) {
        self.outcome = Outcome::NotChecked;
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let now = self.backoff.clock.now();
        let mut clients = self.backoff.clients();
        match self.outcome {
            Outcome::Right => {
                clients.remove(&self.key);
            }
            Outcome::NotChecked => {
                if let Some(r) = clients.get_mut(&self.key) {
                    r.checking = false;
                }
            }
            Outcome::Wrong => {
                if let Some(r) = clients.get_mut(&self.key) {
                    r.checking = false;
                    r.failures = r.failures.saturating_add(1);
                    r.last_failure = now;
                    r.not_before = plus(now, wait_after(r.failures));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::approvals::FakeClock;
    use std::net::Ipv4Addr;

    fn backoff() -> (Arc<Backoff>, Arc<FakeClock>) {
        let clock = Arc::new(FakeClock::new(
            Timestamp::from_second(1_800_000_000).unwrap(),
        ));
        (Arc::new(Backoff::new(clock.clone())), clock)
    }

    const LOCAL: ClientKey = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));

    #[test]
    fn the_wait_doubles_from_the_second_wrong_passphrase_up_to_five_minutes() {
        let waits: Vec<u64> = (0..12).map(|f| wait_after(f).as_secs()).collect();
        assert_eq!(waits, [0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(wait_after(u32::MAX), MAX_WAIT);
    }

    #[test]
    fn a_client_checks_one_passphrase_at_a_time_and_waits_after_wrong_ones() {
        let (b, clock) = backoff();
        let first = b.admit(LOCAL).unwrap();
        assert_eq!(
            b.admit(LOCAL).unwrap_err(),
            Duration::from_secs(1),
            "one at a time"
        );
        drop(first); // wrong
        // The first wrong one costs nothing more.
        drop(b.admit(LOCAL).unwrap()); // wrong, second
        assert_eq!(b.admit(LOCAL).unwrap_err(), Duration::from_secs(2));
        clock.advance(Duration::from_secs(2));
        drop(b.admit(LOCAL).unwrap()); // third
        assert_eq!(b.admit(LOCAL).unwrap_err(), Duration::from_secs(4));
        // Another client is not held up.
        let other = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        b.admit(other).unwrap().right();
        clock.advance(Duration::from_secs(4));
        b.admit(LOCAL).unwrap().right();
        // Cleared: a wrong one now is a first one again.
        drop(b.admit(LOCAL).unwrap());
        b.admit(LOCAL).unwrap().not_checked();
        drop(b.admit(LOCAL).unwrap());
        assert!(b.admit(LOCAL).is_err());
    }

    #[test]
    fn an_hour_without_a_wrong_passphrase_forgets_the_client() {
        let (b, clock) = backoff();
        for _ in 0..12 {
            drop(b.admit(LOCAL).unwrap());
            clock.advance(MAX_WAIT);
        }
        drop(b.admit(LOCAL).unwrap());
        assert_eq!(b.admit(LOCAL).unwrap_err(), MAX_WAIT);
        clock.advance(FORGET);
        drop(b.admit(LOCAL).unwrap());
        assert!(b.admit(LOCAL).is_ok(), "a first wrong one again");
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_and_mapped_v4_as_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(Some(a)), client_key(Some(b)));
        assert_ne!(client_key(Some(a)), client_key(Some(c)));
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(client_key(Some(mapped)), LOCAL);
        assert_eq!(client_key(None), None);
    }

    #[test]
    fn too_many_clients_share_one_record_instead_of_growing_the_map() {
        let (b, _) = backoff();
        for i in 0..MAX_CLIENTS as u32 {
            let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            drop(b.admit(Some(ip)).unwrap());
        }
        let late = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        let held = b.admit(late).unwrap();
        let later = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
        assert!(b.admit(later).is_err(), "the shared record is checking");
        drop(held);
        assert!(b.clients().len() <= MAX_CLIENTS + 1);
    }
}
