//! The upstream MCP servers and CLI tools keyward fronts: their resolved
//! specs, their tool catalogs (filtered by policy and pinning) and the
//! channel that tells the agent when a catalog changed.

mod catalog;
pub mod pins;
mod runtime;
mod supervised;

pub use catalog::{
    Catalog, CatalogEntry, TOOL_SEPARATOR, exposed_name, route_tool_name, split_tool_name,
    unprefixed_collides,
};
pub use pins::{PinCheck, PinError, PinStore};
pub use runtime::{CommandRuntime, ListChanged, ServerRuntime};
pub use supervised::{Injected, LiveUpstream};
