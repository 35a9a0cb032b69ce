//! Migration of plaintext secrets out of MCP client configs.
//!
//! - [`detect`]: what a value looks like (a data table of token formats plus
//!   an entropy check under secret-sounding names), and masked previews.
//! - [`locate`]: where each MCP client keeps its config, per platform.
//! - [`walk`]: the string leaves of JSON/JSONC/TOML/.env/shell-rc files,
//!   with their paths (`mcpServers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN`).
//! - [`report`]: findings rendered as a table, JSON or SARIF.
//! - [`clients`] and [`import`]: the MCP server entries of a client config,
//!   and the plan that moves their secrets into keyward.
//!
//! Nothing here prints a value: findings carry masked previews only.

pub mod clients;
pub mod detect;
pub mod diff;
pub mod locate;
pub mod plan;
pub mod report;
pub mod rewrite;
pub mod scan;
pub mod walk;
