//! The parts of the pipeline, built by the gateway from the validated
//! config: each stage takes only its own.

use std::sync::Arc;

use keyward_audit::AuditLog;
use keyward_redact::Scrubber;

use super::approval::Desk;
use super::inject::Inject;
use super::policy::Limiter;
use super::route::Tables;
use super::upstream::Connectors;

/// Everything a call walks through. One per gateway, shared by every
/// session.
pub struct Stages {
    /// route: what is configured (services, servers, commands, workflows,
    /// limits).
    pub tables: Arc<Tables>,
    /// policy: the rate budgets (the rules are in `tables`, the grants at
    /// the desk).
    pub limiter: Limiter,
    /// approval: questions, answers, grants and the lock.
    pub desk: Desk,
    /// inject: the live secrets and the scrubber built from them.
    pub inject: Arc<Inject>,
    /// upstream: the HTTP client, the exec setup.
    pub connectors: Connectors,
    /// audit: the log every call is recorded in.
    pub audit: Arc<AuditLog>,
}

impl Stages {
    /// The current scrubber (it also knows the values of the last few
    /// generations). Load it where it is used: a refetch may have made a
    /// newer one since the call began.
    pub fn scrubber(&self) -> Scrubber {
        self.inject.scrubber()
    }
}
