//! Connectors perform the call once the gateway has decided it may happen.
//! They know how to reach an upstream and attach a credential, and nothing
//! about why a call was allowed.

pub mod exec;
pub mod http;
pub mod mcp;
