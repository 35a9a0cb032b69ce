//! `keyward doctor`: checks everything `keyward serve` needs, and says what
//! is wrong without showing any value: the config parses, every secret
//! reference resolves (services, servers, commands and the backends' own
//! credentials), the vault opens, the audit log's chain is intact, the OS
//! credential store answers, OpenBao/Vault (when configured) is reachable
//! and takes keyward's token, and no vault value is older than
//! `[secrets].max_age`. Exit 0 when nothing is broken (warnings allowed),
//! 1 otherwise.
//!
//! The reference checks are shared with `keyward secret list`.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyward_approved::Store;
use keyward_approved::review::Standing;
use keyward_config::{Config, DEFAULT_MAX_AGE, Paths};
use keyward_vault::{KeyStoreError, OpenBao, Resolver, SecretRef, Vault, keychain_probe};

use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::unlock::{Prompt, unlock};

/// One configured reference and whether it resolves now.
pub(crate) struct RefStatus {
    /// Where in keyward.toml, e.g. `services.stripe.auth.secret`.
    pub(crate) at: String,
    pub(crate) reference: SecretRef,
    /// Where the value lives, for people.
    pub(crate) backend: String,
    /// `Err` holds the reason (never a value).
    pub(crate) result: Result<(), String>,
}

/// Resolves every reference in `config` (each value dropped at once) and
/// returns their status, plus the OpenBao client it used (if any).
pub(crate) fn check_refs(
    config: &Config,
    vault: Option<&Vault>,
    env: &ProcessEnv,
) -> (Vec<RefStatus>, Option<OpenBao>) {
    let resolver = Resolver::new(vault, env).with_backends(config.backends.vault.as_ref());
    let openbao = resolver.openbao().cloned();
    let mut all = config.backend_refs();
    all.extend(config.secret_refs());
    let out = all
        .into_iter()
        .map(|(at, r)| RefStatus {
            backend: backend_of(r, openbao.as_ref()),
            result: resolver.resolve(r).map(drop).map_err(|e| {
                // The reference is shown beside the reason already.
                let text = e.to_string();
                match text.strip_prefix(&format!("`{r}`: ")) {
                    Some(rest) => rest.to_string(),
                    None => text,
                }
            }),
            at,
            reference: r.clone(),
        })
        .collect();
    (out, openbao)
}

/// A reference that does not resolve disables only what uses it.
fn with_effect(reason: &str, at: &str) -> String {
    let mut parts = at.splitn(3, '.');
    let what = match (parts.next(), parts.next()) {
        (Some("services"), Some(name)) => format!("service `{name}`"),
        (Some("servers"), Some(name)) => format!("server `{name}`"),
        (Some("commands"), Some(name)) => format!("command `{name}`"),
        _ => return reason.to_string(),
    };
    format!(
        "{reason}; {what} is unavailable until it resolves and keyward restarts (the rest serves)"
    )
}

pub(crate) fn backend_of(r: &SecretRef, openbao: Option<&OpenBao>) -> String {
    match r {
        SecretRef::Vault(_) => "local vault".into(),
        SecretRef::Env(_) => "environment".into(),
        SecretRef::Keychain { .. } => "OS credential store".into(),
        SecretRef::File(_) => "file".into(),
        SecretRef::OpenBao { .. } => match openbao.and_then(OpenBao::address) {
            Some(a) => format!("OpenBao/Vault {a}"),
            None => "OpenBao/Vault (not configured)".into(),
        },
    }
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `3d`, `5h`, `12m`, `now`: how long ago `then` was.
pub(crate) fn age_text(then: i64, now: i64) -> String {
    let s = now.saturating_sub(then).max(0);
    match s {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3_600 => format!("{}h", s / 3_600),
        s if s >= 60 => format!("{}m", s / 60),
        _ => "now".into(),
    }
}

fn days(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else {
        format!("{s}s")
    }
}

#[derive(Default)]
struct Report {
    failures: usize,
    warnings: usize,
}

impl Report {
    fn ok(&mut self, what: &str, detail: &str) {
        println!("ok    {what}: {detail}");
    }
    fn warn(&mut self, what: &str, detail: &str) {
        self.warnings += 1;
        println!("warn  {what}: {detail}");
    }
    fn fail(&mut self, what: &str, detail: &str) {
        self.failures += 1;
        println!("FAIL  {what}: {detail}");
    }
}

pub(crate) fn run(paths: &Paths, env: &ProcessEnv) -> Result<ExitCode, CliError> {
    let mut rep = Report::default();

    let file = paths.config_file();
    let config = if !file.exists() {
        rep.fail(
            "config",
            &format!("{} does not exist; run `keyward init`", file.display()),
        );
        None
    } else {
        match Config::load(&file) {
            Ok(c) => {
                rep.ok(
                    "config",
                    &format!(
                        "{} ({} services, {} servers, {} commands)",
                        file.display(),
                        c.services.len(),
                        c.servers.len(),
                        c.commands.len()
                    ),
                );
                Some(c)
            }
            Err(e) => {
                rep.fail("config", &e.to_string());
                None
            }
        }
    };

    let vault = match unlock(paths, env, Prompt::IfTerminal) {
        Ok(v) => {
            rep.ok(
                "vault",
                &format!(
                    "{} ({} secret{})",
                    paths.vault_file().display(),
                    v.list().len(),
                    if v.list().len() == 1 { "" } else { "s" }
                ),
            );
            Some(v)
        }
        Err(e) => {
            rep.fail("vault", &e.to_string());
            None
        }
    };

    standing(&mut rep, paths, vault.as_ref(), config.is_some());
    locked(&mut rep, paths);

    let mut uses_keychain = false;
    let mut referenced = None;
    if let Some(config) = &config {
        let (refs, openbao) = check_refs(config, vault.as_ref(), env);
        referenced = Some(
            refs.iter()
                .filter_map(|s| match &s.reference {
                    SecretRef::Vault(name) => Some(name.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        );
        if refs.is_empty() {
            rep.ok("references", "keyward.toml references no secrets");
        }
        for s in &refs {
            uses_keychain |= matches!(s.reference, SecretRef::Keychain { .. });
            let what = format!("{} = {}", s.at, s.reference);
            match &s.result {
                Ok(()) => rep.ok(&what, &format!("resolves ({})", s.backend)),
                Err(e) => rep.fail(&what, &with_effect(e, &s.at)),
            }
        }
        let needs_openbao = refs
            .iter()
            .any(|s| matches!(s.reference, SecretRef::OpenBao { .. }));
        if let Some(c) = openbao {
            match c.check() {
                Ok(d) => rep.ok("OpenBao/Vault", &d),
                Err(e) if needs_openbao => rep.fail("OpenBao/Vault", &e.to_string()),
                Err(e) => rep.warn(
                    "OpenBao/Vault",
                    &format!("{e} (no vault:// reference uses it)"),
                ),
            }
        }
    }

    if let Some(v) = &vault {
        let max_age = config
            .as_ref()
            .map_or(DEFAULT_MAX_AGE, |c| c.secrets.max_age);
        let now = now_secs();
        let limit = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        for e in v.list() {
            let updated = e.updated.as_second();
            if now.saturating_sub(updated) > limit {
                rep.warn(
                    &format!("secret `{}`", e.name),
                    &format!(
                        "last updated {} ago, more than [secrets].max_age = {}; rotate it \
                         (`keyward secret rotate {}`)",
                        age_text(updated, now),
                        days(max_age),
                        e.name
                    ),
                );
            }
        }
    }

    if let (Some(v), Some(names)) = (&vault, &referenced) {
        unreferenced(&mut rep, v, names);
    }

    let audit = paths.audit_file();
    if !audit.exists() {
        rep.ok("audit log", &format!("none yet ({})", audit.display()));
    } else {
        match keyward_audit::verify(&audit) {
            Ok(r) => rep.ok(
                "audit log",
                &format!(
                    "{} records, hash chain intact ({})",
                    r.records,
                    audit.display()
                ),
            ),
            Err(e) => rep.fail("audit log", &format!("TAMPERED: {e}")),
        }
    }

    if env.no_keychain && !uses_keychain {
        rep.ok(
            "OS credential store",
            "not consulted (KEYWARD_NO_KEYCHAIN is set)",
        );
    } else {
        match keychain_probe() {
            Ok(()) => rep.ok("OS credential store", "reachable"),
            Err(e) if uses_keychain => rep.fail("OS credential store", &e.to_string()),
            Err(e @ KeyStoreError::NoStore) => rep.warn(
                "OS credential store",
                &format!("{e}; keyward then needs KEYWARD_VAULT_KEY_FILE or KEYWARD_PASSPHRASE"),
            ),
            Err(e) => rep.warn("OS credential store", &e.to_string()),
        }
    }

    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    if rep.failures == 0 {
        println!(
            "keyward doctor: all good ({})",
            plural(rep.warnings, "warning")
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "keyward doctor: {} ({})",
            plural(rep.failures, "problem"),
            plural(rep.warnings, "warning")
        );
        Ok(ExitCode::from(1))
    }
}

/// Whether keyward.toml is what `keyward serve` runs: an edit that is not
/// approved is not served (silently, for the agent), and one that does
/// not parse never will be.
fn standing(rep: &mut Report, paths: &Paths, vault: Option<&Vault>, parses: bool) {
    let file = paths.config_file();
    let Ok(current) = std::fs::read_to_string(&file) else {
        return;
    };
    let approved = match Store::new(paths).read() {
        Ok(a) => a,
        Err(e) => {
            rep.fail("approved config", &e.to_string());
            return;
        }
    };
    let what = "approved config";
    match Standing::of(approved.as_ref(), vault, &current) {
        Standing::Approved if parses => rep.ok(what, "keyward.toml is the approved config"),
        // The config check above has said why it does not load.
        Standing::Approved => {}
        Standing::Changed(stats) if parses => rep.fail(
            what,
            &format!(
                "keyward.toml has changes that are not approved ({stats}): `keyward serve` \
                 runs the approved config without them; review with `keyward config diff`, \
                 then `keyward config approve`"
            ),
        ),
        Standing::Changed(stats) => rep.fail(
            what,
            &format!(
                "keyward.toml was edited ({stats}) and does not load (see above): `keyward serve` \
                 runs the approved config until it is fixed and approved"
            ),
        ),
        Standing::NothingApproved => rep.fail(
            what,
            "nothing approved yet, so `keyward serve` will not start; review keyward.toml, then \
             `keyward config approve`",
        ),
        Standing::Untrusted(problem) => rep.fail(
            what,
            &format!(
                "the approved copy is not trusted ({problem}), so `keyward serve` will not start; \
                 review keyward.toml with `keyward config diff`, then `keyward config approve`"
            ),
        ),
    }
}

/// `keyward lock` (or the dashboard's Lock) left its marker: every call is
/// denied, by every keyward, until `keyward unlock`.
fn locked(rep: &mut Report, paths: &Paths) {
    let marker = super::approvals::lock_marker(paths);
    match std::fs::read_to_string(&marker) {
        Ok(text) => {
            let when = text.lines().next().unwrap_or("locked").trim();
            rep.fail(
                "lock",
                &format!(
                    "keyward is {}: every call is denied until `keyward unlock`",
                    keyward_audit::shown::shown(when)
                ),
            );
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            rep.ok("lock", "not locked");
        }
        Err(e) => rep.fail("lock", &format!("cannot read {}: {e}", marker.display())),
    }
}

/// Vault secrets that no reference in keyward.toml names: left over after
/// a service was removed, or a typo's twin. Only a warning: a client's
/// `keyward run --env KEY=keyward://NAME` can use one too.
fn unreferenced(rep: &mut Report, vault: &Vault, referenced: &[String]) {
    for e in vault.list() {
        if !referenced.contains(&e.name) {
            rep.warn(
                &format!("secret `{}`", e.name),
                &format!(
                    "keyward.toml does not reference it (unless a client's `keyward run` does, \
                     remove it: `keyward secret rm {}`)",
                    e.name
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        let now = 1_000_000_000;
        assert_eq!(age_text(now, now), "now");
        assert_eq!(age_text(now - 59, now), "now");
        assert_eq!(age_text(now - 120, now), "2m");
        assert_eq!(age_text(now - 3 * 3600 - 5, now), "3h");
        assert_eq!(age_text(now - 91 * 86_400, now), "91d");
        assert_eq!(age_text(now + 10, now), "now", "clock skew");
        assert_eq!(days(Duration::from_secs(90 * 86_400)), "90d");
    }

    #[test]
    fn a_broken_reference_names_only_its_own_target_as_unavailable() {
        assert_eq!(
            with_effect("not found", "services.stripe.auth.secret"),
            "not found; service `stripe` is unavailable until it resolves and keyward restarts (the rest serves)"
        );
        assert!(with_effect("x", "servers.fs.env.TOKEN").contains("server `fs`"));
        assert!(with_effect("x", "servers.pg.args[2]").contains("server `pg`"));
        assert!(with_effect("x", "commands.gh.env.GH_TOKEN").contains("command `gh`"));
        assert_eq!(with_effect("x", "backends.vault.token"), "x");
    }

    #[test]
    fn backends_are_named() {
        let r = |s: &str| SecretRef::parse(s).unwrap();
        assert_eq!(backend_of(&r("keyward://a"), None), "local vault");
        assert_eq!(
            backend_of(&r("keychain://s/a"), None),
            "OS credential store"
        );
        assert_eq!(
            backend_of(&r("vault://secret/x#y"), None),
            "OpenBao/Vault (not configured)"
        );
    }
}
