//! `keyward import --args`: a secret passed to a server as an argument
//! (`server-postgres postgresql://app:PASSWORD@db/app`) moves to the vault
//! like an env value, and the wrapped server's argument becomes its
//! reference. Without `--args` such a server is left as it is, and the
//! skip says how to move it and what that trades.

use zeroize::Zeroizing;

use super::{FilePlan, Found, Mode, Options, Part, Skipped, WrappedServer};
use crate::clients::ServerEntry;
use crate::detect;
use keyward_vault::has_secret_scheme;

/// What `--args` trades, said wherever it is offered or done.
pub const ARGS_TRADE_OFF: &str = "the client config no longer holds the value, but while the \
    server runs, its command line, value included, is visible to local processes such as `ps`";

/// The secrets in the entry's arguments, each to be moved whole: the
/// argument becomes `keyward://NAME`, the vault holds the argument as it
/// was. The whole argument, not the part the detector matched, because
/// keyward.toml's arguments take whole-argument references only (as env
/// values do): nothing is spliced, so a URL needs no re-encoding and no
/// reference has to be told apart from the text around it. Empty when
/// none holds a secret; `None` when one does and cannot move (not
/// `--args`, or `--mode run`): then `plan.skipped` says why and how.
pub(super) fn arg_secrets(
    entry: &ServerEntry,
    opts: &Options,
    plan: &mut FilePlan,
) -> Option<Vec<Found>> {
    let at = entry.location();
    let mut found = Vec::new();
    for (i, arg) in entry.args.iter().enumerate() {
        if has_secret_scheme(arg) {
            continue;
        }
        // `["--api-key", "X"]`: the flag before a value names it, as in scan.
        let flag = i
            .checked_sub(1)
            .map(|j| entry.args[j].trim())
            .filter(|f| f.starts_with('-') && f.len() > 1 && !f.contains(['=', ' ']))
            .map(|f| f.trim_start_matches('-'));
        let Some(d) = detect::detect(flag, arg) else {
            continue;
        };
        let how = if !opts.args {
            format!(
                "to move it, run `keyward import --args`: the value goes to the vault and the \
                 wrapped server gets a reference in its place (the trade-off: {ARGS_TRADE_OFF}); \
                 or make the server read it from an environment variable, then import again"
            )
        } else if opts.mode == Mode::Run {
            "`--args` moves an argument only for a server wrapped behind keyward (`--mode \
             wrap`): `keyward run` passes arguments as they are; or make the server read it \
             from an environment variable, then import again"
                .to_string()
        } else {
            found.push(Found {
                part: Part::Arg(i),
                key: flag.map_or_else(|| format!("args.{i}"), String::from),
                prefix: String::new(),
                secret: Zeroizing::new(arg.clone()),
                rule: d.rule,
                from: format!("{at}.args[{i}]"),
            });
            continue;
        };
        plan.skipped.push(Skipped {
            location: at,
            reason: format!("args[{i}] holds a secret ({}); {how}", d.title),
        });
        return None;
    }
    Some(found)
}

/// The trade-off of the arguments `--args` moved for `server`, if any.
pub(super) fn args_note(
    from: &str,
    server: &WrappedServer,
    refs: &[(Part, String, String)],
) -> Option<String> {
    let moved: Vec<String> = refs
        .iter()
        .filter_map(|(p, _, r)| match p {
            Part::Arg(i) => Some(format!("args[{i}] = `{r}`")),
            _ => None,
        })
        .collect();
    (!moved.is_empty()).then(|| {
        format!(
            "{from}: [servers.{}] gets {} in place of the secret; keyward resolves it when it \
             starts the server. The trade-off: {ARGS_TRADE_OFF}",
            server.name,
            moved.join(", ")
        )
    })
}
