//! Lists of the upstream servers (resources, prompts) fetched from every
//! server that passes them on, concurrently, and scrubbed.

use std::future::Future;
use std::sync::Arc;

use futures::future::join_all;
use keyward_connectors::mcp::{McpError, Upstream};

use crate::pipeline::session::Session;
use crate::pipeline::{Stages, redact};
use crate::servers::ServerRuntime;

/// Fetches a list from every server `session` sees that `allows` it (no
/// other server is started or asked); a server that fails
/// is left out (with a warning). Locked means no traffic at all: no server
/// is started or asked.
pub(super) async fn from_allowed<T, F, Fut>(
    st: &Stages,
    session: &Session,
    allows: fn(&ServerRuntime) -> bool,
    what: &str,
    fetch: F,
) -> Vec<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
    F: Fn(String, Upstream, Arc<ServerRuntime>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, McpError>>,
{
    if st.desk.approvals.is_locked() {
        return Vec::new();
    }
    let lists = join_all(
        st.tables
            .servers_for(session)
            .filter(|(_, rt)| rt.unavailable.is_none() && allows(rt))
            .map(|(name, rt)| {
                let fetch = &fetch;
                async move {
                    let listed = match rt.upstream.get().await {
                        Ok(up) => fetch(name.clone(), up, rt.clone()).await,
                        Err(e) => Err(e),
                    };
                    listed.unwrap_or_else(|e| {
                        let (e, _) = st.scrubber().scrub_str(&e.to_string());
                        tracing::warn!(server = %name, error = %e, "{what} unavailable");
                        Vec::new()
                    })
                }
            }),
    )
    .await;
    let all: Vec<T> = lists.into_iter().flatten().collect();
    redact::scrub_serde(&st.scrubber(), all).map_or_else(Vec::new, |(v, _)| v)
}
