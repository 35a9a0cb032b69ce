//! Logged-in dashboard sessions: in memory only, gone with the process.
//!
//! A session is a random token (32 bytes, base64url) in a cookie; the map
//! is keyed by the token's SHA-256, so the lookup never compares the token
//! itself byte by byte, and the tokens are not kept. Each session has its
//! own CSRF token, required on every request that changes anything. A
//! session ends at logout, after [`IDLE`] without a page load or an
//! action, or [`MAX_AGE`] after the login, whichever comes first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::approvals::Clock;

/// Without a page load or an action for this long, a session ends. The
/// live updates of an open page do not count: an unattended tab logs out.
pub const IDLE: Duration = Duration::from_secs(15 * 60);

/// However active, a session ends this long after its login.
pub const MAX_AGE: Duration = Duration::from_secs(12 * 60 * 60);

/// At most this many sessions at once; a new login ends the least recently
/// used one beyond it.
const MAX_SESSIONS: usize = 32;

/// Random bytes of a session or CSRF token.
const TOKEN_BYTES: usize = 32;

/// The operating system gave no randomness: no session can be made.
#[derive(Debug, thiserror::Error)]
#[error("no randomness for a session token: {0}")]
pub(crate) struct NoRandomness(getrandom::Error);

/// A new session's token (the cookie's value). Zeroed on drop; `Debug`
/// does not show it.
pub(crate) struct SessionToken(Zeroizing<String>);

impl SessionToken {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// A valid session, as a request sees it.
#[derive(Clone)]
pub(crate) struct Current {
    key: [u8; 32],
    csrf: Arc<str>,
}

impl Current {
    /// The token the session's forms carry.
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Whether `presented` is this session's CSRF token (constant time).
    pub(crate) fn csrf_matches(&self, presented: &str) -> bool {
        let (a, b) = (self.csrf.as_bytes(), presented.as_bytes());
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }
}

impl std::fmt::Debug for Current {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Current(<session>)")
    }
}

struct Entry {
    csrf: Arc<str>,
    created: Timestamp,
    seen: Timestamp,
}

/// The sessions of one dashboard.
pub(crate) struct Sessions {
    clock: Arc<dyn Clock>,
    idle: Duration,
    map: Mutex<HashMap<[u8; 32], Entry>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

/// Whether a check counts as the human being there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Touch {
    /// A page load or an action: the idle time starts again.
    Active,
    /// A live update of an open page: checked, not extended.
    Passive,
}

impl Sessions {
    pub(crate) fn new(clock: Arc<dyn Clock>, idle: Duration) -> Sessions {
        Sessions {
            clock,
            idle,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn alive(&self, e: &Entry, now: Timestamp) -> bool {
        since(e.seen, now) < self.idle && since(e.created, now) < MAX_AGE
    }

    /// A new session (after the passphrase was checked).
    pub(crate) fn create(&self) -> Result<(SessionToken, Current), NoRandomness> {
        let token = random_token()?;
        let csrf: Arc<str> = Arc::from(random_token()?.as_str());
        let key = key_of(&token);
        let now = self.clock.now();
        let mut map = self.map();
        map.retain(|_, e| self.alive(e, now));
        while map.len() >= MAX_SESSIONS {
            let Some(oldest) = map.iter().min_by_key(|(_, e)| e.seen).map(|(k, _)| *k) else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(
            key,
            Entry {
                csrf: csrf.clone(),
                created: now,
                seen: now,
            },
        );
        Ok((SessionToken(token), Current { key, csrf }))
    }

    /// The session of `token`, if it is valid now. An expired session is
    /// removed.
    pub(crate) fn check(&self, token: &str, touch: Touch) -> Option<Current> {
        let key = key_of(token);
        let now = self.clock.now();
        let mut map = self.map();
        let entry = map.get_mut(&key)?;
        if !self.alive(entry, now) {
            map.remove(&key);
            return None;
        }
        if touch == Touch::Active {
            entry.seen = now;
        }
        Some(Current {
            key,
            csrf: entry.csrf.clone(),
        })
    }

    /// Whether the session is still valid (for an open live stream).
    pub(crate) fn still_valid(&self, current: &Current) -> bool {
        let now = self.clock.now();
        let mut map = self.map();
        match map.get(&current.key) {
            Some(e) if self.alive(e, now) => true,
            Some(_) => {
                map.remove(&current.key);
                false
            }
            None => false,
        }
    }

    /// Logout.
    pub(crate) fn end(&self, current: &Current) {
        self.map().remove(&current.key);
    }

    /// How many sessions are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }
}

fn since(then: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(then)).unwrap_or(Duration::ZERO)
}

fn key_of(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn random_token() -> Result<Zeroizing<String>, NoRandomness> {
    let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
    getrandom::fill(bytes.as_mut()).map_err(NoRandomness)?;
    Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::approvals::FakeClock;

    fn sessions() -> (Sessions, Arc<FakeClock>) {
        let clock = Arc::new(FakeClock::new(
            Timestamp::from_second(1_800_000_000).unwrap(),
        ));
        (Sessions::new(clock.clone(), IDLE), clock)
    }

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let (s, _) = sessions();
        let (a, ca) = s.create().unwrap();
        let (b, cb) = s.create().unwrap();
        // 32 bytes, base64url without padding.
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a.expose(), b.expose());
        assert_ne!(ca.csrf(), cb.csrf());
        assert_ne!(a.expose(), ca.csrf());
        assert!(format!("{a:?}{ca:?}").find(a.expose()).is_none());
    }

    #[test]
    fn idle_sessions_expire_and_activity_extends_them() {
        let (s, clock) = sessions();
        let (t, _) = s.create().unwrap();
        clock.advance(IDLE - Duration::from_secs(1));
        assert!(s.check(t.expose(), Touch::Active).is_some());
        clock.advance(IDLE - Duration::from_secs(1));
        // Live updates do not extend the session.
        let live = s.check(t.expose(), Touch::Passive).unwrap();
        clock.advance(Duration::from_secs(1));
        assert!(!s.still_valid(&live));
        assert!(s.check(t.expose(), Touch::Active).is_none());
        assert_eq!(s.len(), 0, "an expired session is removed");
    }

    #[test]
    fn sessions_end_after_max_age_however_active() {
        let (s, clock) = sessions();
        let (t, _) = s.create().unwrap();
        let step = Duration::from_secs(10 * 60);
        let mut elapsed = Duration::ZERO;
        while elapsed + step < MAX_AGE {
            clock.advance(step);
            elapsed += step;
            assert!(s.check(t.expose(), Touch::Active).is_some(), "{elapsed:?}");
        }
        clock.advance(step);
        assert!(s.check(t.expose(), Touch::Active).is_none());
    }

    #[test]
    fn unknown_tokens_csrf_and_logout() {
        let (s, _) = sessions();
        let (t, c) = s.create().unwrap();
        assert!(s.check("not-a-session", Touch::Active).is_none());
        assert!(c.csrf_matches(c.csrf()));
        assert!(!c.csrf_matches(""));
        assert!(!c.csrf_matches(&c.csrf()[1..]));
        s.end(&c);
        assert!(s.check(t.expose(), Touch::Active).is_none());
    }

    #[test]
    fn at_most_max_sessions_least_recent_goes() {
        let (s, clock) = sessions();
        let (first, _) = s.create().unwrap();
        for _ in 1..MAX_SESSIONS {
            clock.advance(Duration::from_secs(1));
            s.create().unwrap();
        }
        assert!(s.check(first.expose(), Touch::Active).is_some());
        clock.advance(Duration::from_secs(1));
        let (_second_oldest_goes, _) = s.create().unwrap();
        assert_eq!(s.len(), MAX_SESSIONS);
        assert!(
            s.check(first.expose(), Touch::Active).is_some(),
            "used just now"
        );
    }
}
