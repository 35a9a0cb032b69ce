//! keyward's configuration: where files live, and `keyward.toml` parsed into
//! validated types once, before anything is served.
//!
//! The file holds references to secrets, never values. Unknown keys are
//! errors (a typo in a rule must not silently widen or narrow a policy).

mod duration;
mod edit;
mod error;
mod model;
mod paths;
mod validate;

pub use duration::parse_duration;
pub use edit::{ConfigDoc, ServiceSpec, TEMPLATE, write_template};
pub use error::ConfigError;
pub use model::{Auth, Config, Limits, Service};
pub use paths::Paths;
