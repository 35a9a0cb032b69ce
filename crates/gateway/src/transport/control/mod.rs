//! The control socket: how `keyward approvals`, `approve`, `deny`,
//! `grants`, `lock` and `unlock` reach a running keyward.
//!
//! One Unix socket per serving process, in `DATA_DIR/run/` (directory
//! 0700, socket 0600), speaking one JSON request and one JSON answer per
//! connection. Anything that can reach it runs as the user — an agent may
//! too — so what widens access (approving a question, unlocking) needs the
//! vault passphrase, checked by the serving keyward itself; what narrows it
//! (deny, revoke, lock) does not.

mod protocol;
mod server;

pub use protocol::{GrantView, QuestionView, Reply, Request};
pub use server::{MARKER_EVERY, serve, socket_path, sockets, watch_marker, write_marker};
