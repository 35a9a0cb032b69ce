//! Records the call. The record is written before the answer goes back, and
//! if it cannot be written the call fails (fail closed).

use keyward_audit::{AuditError, Event};

use crate::Gateway;

pub const AUDIT_FAILED: &str = "error: keyward could not write its audit log, so the result is withheld; the user must check the disk and the log file";

/// Appends `event`. Free text in it (errors) must already be scrubbed.
pub fn record(gw: &Gateway, event: Event) -> Result<(), AuditError> {
    gw.audit().append(event).map(|_| ()).inspect_err(|e| {
        tracing::error!(error = %e, "audit append failed; failing the call");
    })
}

/// Before acting: can this call be recorded? If not, it is not made.
pub fn ready(gw: &Gateway) -> Result<(), AuditError> {
    gw.audit().preflight().inspect_err(|e| {
        tracing::error!(error = %e, "audit log unusable; refusing to act");
    })
}
