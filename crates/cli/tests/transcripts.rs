//! CLI transcripts: the commands a user types first, run against the real
//! `keyward` binary, their whole output (stdout and stderr) and exit status
//! compared with `tests/cmd/*.md` and `tests/cmd/*.toml` (trycmd's formats).
//!
//! - `*.md`: a sequence of `$ keyward ...` lines in one sandbox (a temp
//!   copy of `NAME.in/`, when there is one; `NAME.out/.keep` makes trycmd
//!   sandbox it). stdout and stderr are interleaved as a terminal shows them.
//! - `*.toml`: one command with stdin (`secret set` reads its value from
//!   stdin), on a copy of `tests/fixtures/home`, a home made by `keyward
//!   init` (passphrase [`PASSPHRASE`], one secret `github_token`). It also
//!   shows that a vault written by this keyward keeps opening.
//!
//! Every case runs with `KEYWARD_HOME=home` inside its sandbox, no OS
//! credential store, no D-Bus and a HOME that does not exist, so nothing of
//! the machine's own keyward or client configs is read. Times, hashes and
//! absolute paths are `[..]`; messages, masks, decisions and exit codes are
//! exact. The secrets in the fixtures are canaries ([`CANARIES`]); besides
//! the snapshots (where a leak changes the output), one test runs the same
//! commands and greps everything they print for them.
//!
//! Update the snapshots after an intended change of wording with
//! `TRYCMD=overwrite cargo test -p keyward --test transcripts`, then read
//! the diff: `[..]` in changed lines is not kept.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The vault passphrase of every transcript (and of `tests/fixtures/home`).
const PASSPHRASE: &str = "kw_canary_pw_7Hq2Zx9LmR4t";

/// Fake secrets planted in the fixtures: none of them may ever be printed.
const CANARIES: &[&str] = &[
    PASSPHRASE,
    // stored with `secret set` (tests/cmd/secret-set.toml)
    "kw_canary_OScHE88UNzBJAIG0hhDIieYP",
    // in tests/fixtures/home's vault, as `github_token`
    "kw_canary_locg5hiUL6uZESFzBnAGpoO4",
    // scan.in/.env
    "kw_canary_dJ8HGiIdayKtqpd5PR4bICRv",
    // import.in/client/mcp.json
    "kw_canary_uha5ogSJlLkESA2UMweZ0Uij",
    // scan.in/mcp.json and import.in/client/mcp.json
    "ghp_CALM6DUSqbRi6N1Nk94VoEGAlC87CFNXK072",
    // scan.in/mcp.json
    "sk_live_51Mfxe6bQWQjc6WbJZUNeYKhDrTpqDRLNMJCjMVejs",
    // import-args.in/client/mcp.json: the password of a database URL
    // passed as an argument
    "kw_canary_pg7Qm2RvX9LtB4wZ",
];

/// The environment of every case. A developer's own `KEYWARD_PASSPHRASE`
/// cannot be taken away here (trycmd's defaults override a step's own
/// variables, so it is not set by default either): see [`hermetic`].
const ENV: &[(&str, &str)] = &[
    ("KEYWARD_HOME", "home"),
    ("KEYWARD_NO_KEYCHAIN", "1"),
    ("KEYWARD_VAULT_KEY_FILE", ""),
    ("KEYWARD_LOG", "warn"),
    ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent"),
    ("HOME", "/nonexistent/keyward-transcripts"),
    ("XDG_CONFIG_HOME", ""),
    ("APPDATA", ""),
    ("NO_COLOR", "1"),
    // `keyward audit` prints local times, with their zone.
    ("TZ", "UTC"),
];

fn hermetic() {
    assert!(
        std::env::var_os("KEYWARD_PASSPHRASE").is_none(),
        "unset KEYWARD_PASSPHRASE to run the transcripts: they show what keyward does without it"
    );
}

#[test]
fn cli_transcripts() {
    hermetic();
    let cases = trycmd::TestCases::new();
    cases.register_bin("keyward", Path::new(env!("CARGO_BIN_EXE_keyward")));
    for (k, v) in ENV {
        cases.env(*k, *v);
    }
    cases.case("tests/cmd/*.md").case("tests/cmd/*.toml");
}

// === the canaries, grepped ===

fn cmd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cmd")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs keyward in `dir` with the transcripts' environment, the passphrase
/// when `pass`, and `stdin`.
fn keyward(dir: &Path, pass: bool, stdin: &str, args: &[&str]) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyward"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("KEYWARD_PASSPHRASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in ENV {
        cmd.env(k, v);
    }
    if pass {
        cmd.env("KEYWARD_PASSPHRASE", PASSPHRASE);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Every canary with any 8 characters of its random part in `text`.
/// Masked previews show a known prefix and the last 4 characters only.
fn leaked<'a>(text: &str) -> Vec<&'a str> {
    CANARIES
        .iter()
        .copied()
        .filter(|c| {
            let prefix = ["kw_canary_pw_", "kw_canary_", "ghp_", "sk_live_51"]
                .iter()
                .find(|p| c.starts_with(**p))
                .map_or(0, |p| p.len());
            let body = &c[prefix..];
            (0..=body.len() - 8).any(|i| text.contains(&body[i..i + 8]))
        })
        .collect()
}

#[test]
fn the_leak_grep_catches_a_planted_leak() {
    assert_eq!(
        leaked("a token: kw_canary_OScHE88UNzB!"),
        ["kw_canary_OScHE88UNzBJAIG0hhDIieYP"]
    );
    assert!(leaked("ghp_…K072 …0Uij sk_live_…Vejs").is_empty());
}

/// Every command of the transcripts that touches a canary, run again with
/// nothing elided: no canary reaches stdout or stderr, keyward.toml or the
/// audit log.
#[test]
fn no_command_prints_a_canary_secret() {
    hermetic();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&cmd_dir().join("scan.in"), &dir.join("scan"));
    copy_dir(&cmd_dir().join("import.in"), dir);
    copy_dir(&cmd_dir().join("import-args.in"), &dir.join("args"));
    let canary = CANARIES[1];
    let steps: &[(bool, &str, &[&str])] = &[
        (true, "", &["init"]),
        (
            true,
            &format!("{canary}\n"),
            &["secret", "set", "stripe_key"],
        ),
        (
            true,
            &format!("{canary}\n"),
            &["secret", "set", "stripe_key"],
        ),
        (
            false,
            &format!("{canary}\n"),
            &["secret", "set", "locked_out"],
        ),
        (true, "", &["secret", "list"]),
        (
            true,
            "",
            &[
                "service",
                "add",
                "stripe",
                "--base-url",
                "https://api.stripe.com",
                "--auth",
                "bearer",
                "--secret",
                "stripe_key",
                "--allow",
                "GET /v1/charges/**",
            ],
        ),
        (false, "", &["check", "stripe", "GET", "/v1/charges/ch_1"]),
        (false, "", &["config", "diff"]),
        (false, "", &["scan", "scan/mcp.json", "scan/.env"]),
        (false, "", &["scan", "--json", "scan/mcp.json", "scan/.env"]),
        (
            false,
            "",
            &["scan", "--sarif", "scan/mcp.json", "scan/.env"],
        ),
        (true, "", &["import", "--dry-run", "client/mcp.json"]),
        (
            true,
            "",
            &["import", "--dry-run", "--mode", "run", "client/mcp.json"],
        ),
        (true, "", &["import", "--dry-run", "args/client/mcp.json"]),
        (
            true,
            "",
            &["import", "--args", "--dry-run", "args/client/mcp.json"],
        ),
        (true, "", &["import", "--args", "args/client/mcp.json"]),
        (true, "", &["servers", "list"]),
        (false, "", &["approvals"]),
        (true, "", &["doctor"]),
        (false, "", &["audit"]),
        (false, "", &["audit", "--json"]),
        (false, "", &["audit", "verify"]),
    ];
    let mut all = String::new();
    for (pass, stdin, args) in steps {
        let out = keyward(dir, *pass, stdin, args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            leaked(&text),
            Vec::<&str>::new(),
            "keyward {args:?} printed:\n{text}"
        );
        all.push_str(&text);
    }
    // The commands did run (a run that fails early prints nothing to leak).
    for expected in [
        "stored secret `stripe_key` (34 bytes)",
        "updated secret `stripe_key` (34 bytes)",
        "ghp_…K072",
        "…ICRv",
        "…0Uij",
        "dry run: nothing was changed",
        "vault secret `postgres.args.2`  from mcpServers.postgres.args[2] (postgresql://…/app)",
        "keyward://postgres.args.2",
    ] {
        assert!(all.contains(expected), "no `{expected}` in:\n{all}");
    }
    for file in ["keyward.toml", "audit.jsonl", "approved/keyward.toml"] {
        let text = std::fs::read_to_string(dir.join("home").join(file)).unwrap();
        assert_eq!(leaked(&text), Vec::<&str>::new(), "home/{file}");
    }
    // `import --args` took the argument's secret out of the client config.
    let client = std::fs::read_to_string(dir.join("args/client/mcp.json")).unwrap();
    assert_eq!(leaked(&client), Vec::<&str>::new(), "{client}");
}

// === keyward demo leaves the user's files alone ===

/// Every file and directory under `root`: its path, mode, modification
/// time and bytes.
fn snapshot(root: &Path) -> Vec<(PathBuf, u32, std::time::SystemTime, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let bytes = if meta.is_dir() {
                dirs.push(path.clone());
                Vec::new()
            } else {
                std::fs::read(&path).unwrap()
            };
            out.push((
                path.strip_prefix(root).unwrap().to_path_buf(),
                meta.permissions().mode(),
                meta.modified().unwrap(),
                bytes,
            ));
        }
    }
    out.sort();
    out
}

/// `keyward demo` with KEYWARD_HOME pointing at a set-up home, and HOME,
/// the XDG dirs and TMPDIR at directories of this test: afterwards the
/// home is exactly as it was, HOME and the XDG dirs are still empty, and
/// the demo's temp home is gone from TMPDIR (or, with `--keep`, is the one
/// directory there, at the path it printed).
#[test]
fn demo_leaves_keyward_home_and_client_configs_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("keyward-home");
    copy_dir(&cmd_dir().join("../fixtures/home"), &home);
    let (user_home, xdg, temp) = (
        tmp.path().join("user"),
        tmp.path().join("xdg"),
        tmp.path().join("tmp"),
    );
    for d in [&user_home, &xdg, &temp] {
        std::fs::create_dir(d).unwrap();
    }
    let before = snapshot(&home);
    assert!(before.len() >= 8, "the fixture home is populated");
    let demo = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
            .arg("demo")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("KEYWARD_HOME", &home)
            // The user's own passphrase, as a user may have it set: the
            // demo must not open their vault with it.
            .env("KEYWARD_PASSPHRASE", PASSPHRASE)
            .env("HOME", &user_home)
            .env("XDG_CONFIG_HOME", xdg.join("config"))
            .env("XDG_DATA_HOME", xdg.join("data"))
            .env("TMPDIR", &temp)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "keyward demo {args:?}: {:?}\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let said = demo(&["--yes"]);
    assert!(said.contains("every step behaved as expected"), "{said}");
    assert!(
        snapshot(&home) == before,
        "keyward demo changed KEYWARD_HOME"
    );
    assert!(
        snapshot(&user_home).is_empty(),
        "keyward demo wrote under HOME"
    );
    assert!(
        snapshot(&xdg).is_empty(),
        "keyward demo wrote in the XDG dirs"
    );
    assert!(
        snapshot(&temp).is_empty(),
        "the demo's temp home was left behind"
    );

    let said = demo(&["--no", "--keep"]);
    let kept: Vec<PathBuf> = std::fs::read_dir(&temp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(
        said.contains(&format!("kept the demo home: {}\n", kept[0].display())),
        "{said}"
    );
    assert!(kept[0].join("audit.jsonl").is_file());
    assert!(
        snapshot(&home) == before,
        "keyward demo --keep changed KEYWARD_HOME"
    );
    assert!(snapshot(&user_home).is_empty() && snapshot(&xdg).is_empty());
}
