//! The upstream MCP servers and CLI tools keyward fronts: their resolved
//! specs, their tool catalogs (filtered by policy and pinning) and the
//! channel that tells the agent when a catalog changed.

mod catalog;
mod live;
pub mod pins;
mod runtime;

pub use catalog::{
    Catalog, CatalogEntry, TOOL_SEPARATOR, exposed_name, route_tool_name, split_tool_name,
    unprefixed_collides,
};
pub use live::LiveUpstream;
pub use pins::{PinCheck, PinError, PinStore};
pub use runtime::{CommandRuntime, ListChanged, ServerRuntime};
