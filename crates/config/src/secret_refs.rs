//! Every secret reference in the configuration, with where it is written,
//! so that `keyward serve` can resolve them all at start-up (a missing one
//! makes only its own target unavailable, naming the key) and `keyward
//! doctor` can check them.

use keyward_vault::SecretRef;

use crate::Config;
use crate::upstream::ServerTransport;
use crate::values::key;

impl Config {
    /// `(where, reference)` for every reference, e.g.
    /// `("servers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN", keyward://github_pat)`
    /// or `("servers.postgres.args[2]", keyward://postgres.args.2)`,
    /// in a stable order: services, then servers, then commands, each by
    /// name. The same reference used twice is listed twice.
    pub fn secret_refs(&self) -> Vec<(String, &SecretRef)> {
        let mut out = Vec::new();
        for (name, s) in &self.services {
            if let Some(r) = s.auth.secret() {
                out.push((format!("services.{}.auth.secret", key(name)), r));
            }
        }
        for (name, s) in &self.servers {
            let base = format!("servers.{}", key(name));
            match &s.transport {
                ServerTransport::Stdio { args, env, .. } => {
                    for (i, a) in args.iter().enumerate() {
                        if let Some(r) = a.secret() {
                            out.push((format!("{base}.args[{i}]"), r));
                        }
                    }
                    for (var, v) in env {
                        if let Some(r) = v.secret() {
                            out.push((format!("{base}.env.{}", key(var)), r));
                        }
                    }
                }
                ServerTransport::Http { headers, .. } => {
                    for (h, v) in headers {
                        if let Some(r) = v.secret() {
                            out.push((format!("{base}.headers.{}", key(h)), r));
                        }
                    }
                }
            }
        }
        for (name, c) in &self.commands {
            for (var, v) in &c.env {
                if let Some(r) = v.secret() {
                    out.push((format!("commands.{}.env.{}", key(name), key(var)), r));
                }
            }
        }
        out
    }
}
