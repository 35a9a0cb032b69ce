//! Migration of plaintext secrets out of MCP client configs.
//!
//! - [`detect`]: what a value looks like (a data table of token formats plus
//!   an entropy check under secret-sounding names), and masked previews.
//! - [`locate`]: where each MCP client keeps its config, per platform.
//! - [`walk`]: the string leaves of JSON/JSONC/TOML/.env/shell-rc files,
//!   with their paths (`mcpServers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN`).
//! - [`report`]: findings rendered as a table, JSON or SARIF.
//! - [`clients`] and [`plan`]: the MCP server entries of a client config,
//!   and the plan that moves their secrets into keyward.
//! - [`backup`]: the originals of the files import rewrites, sealed under
//!   the vault key, and putting them back (`keyward import --undo`).
//!
//! Nothing here prints a value: findings carry masked previews only, and
//! the originals (which hold the plaintext secrets) are only ever written
//! sealed. This crate knows nothing of the gateway, of keyward.toml's
//! meaning or of the terminal: the binary prints, prompts and unlocks.

pub mod backup;
pub mod clients;
pub mod detect;
pub mod diff;
pub mod locate;
pub mod plan;
pub mod report;
pub mod rewrite;
pub mod scan;
pub mod walk;
