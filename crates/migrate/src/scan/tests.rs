use std::fs;

use super::*;

const GHP: &str = "ghp_Zq8xYvB2R4nd0mT0kenW1thNoW0rdsInItQ7";

fn b62(seed: u64, n: usize) -> String {
    let cs: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        .chars()
        .collect();
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cs[(x % 62) as usize]
        })
        .collect()
}

fn rules(fs: &[Finding]) -> Vec<(String, &'static str)> {
    fs.iter().map(|f| (f.path.clone(), f.rule)).collect()
}

#[test]
fn json_config_findings_with_paths_lines_and_previews() {
    let key = b62(3, 40);
    let text = format!(
        r#"{{
  "mcpServers": {{
    "github": {{ "command": "npx", "env": {{ "GITHUB_PERSONAL_ACCESS_TOKEN": "{GHP}" }} }},
    "api": {{ "command": "srv", "args": ["--port", "8080", "--api-key", "{key}"] }},
    "remote": {{ "url": "https://x/mcp", "headers": {{ "Authorization": "Bearer {key}" }} }},
    "decoy": {{ "env": {{ "GITHUB_TOKEN": "${{GITHUB_TOKEN}}", "X": "ghp_your_token_here" }} }}
  }}
}}"#
    );
    let f = scan_text(Path::new("c.json"), &text, FileKind::Json).unwrap();
    assert_eq!(
        rules(&f),
        [
            (
                "mcpServers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN".to_string(),
                "github-pat"
            ),
            ("mcpServers.api.args[3]".to_string(), "generic-secret"),
            (
                "mcpServers.remote.headers.Authorization".to_string(),
                "authorization-header"
            ),
        ]
    );
    assert_eq!(f[0].line, Some(3));
    assert_eq!(f[0].preview, "ghp_…ItQ7");
    for x in &f {
        assert!(!x.preview.contains(&key[..8]) && !x.preview.contains(&GHP[4..12]));
    }
}

#[test]
fn an_arg_after_a_non_flag_is_not_under_the_flag() {
    let key = b62(5, 40);
    let text = format!(r#"{{"args": ["--api-key", "value", "{key}"]}}"#);
    assert!(
        scan_text(Path::new("c.json"), &text, FileKind::Json)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn env_and_rc_files() {
    let text = format!(
        "# GITHUB_TOKEN={GHP}\nexport GITHUB_TOKEN=\"{GHP}\"\nEDITOR=vim\nPATH=\"$HOME/bin:$PATH\"\n"
    );
    let f = scan_text(Path::new(".bashrc"), &text, FileKind::Shell).unwrap();
    assert_eq!(rules(&f), [("GITHUB_TOKEN".to_string(), "github-pat")]);
    assert_eq!(f[0].line, Some(2));
}

#[test]
fn codex_toml() {
    let text = format!(
        "[mcp_servers.github]\ncommand = \"npx\"\n[mcp_servers.github.env]\nGITHUB_TOKEN = \"{GHP}\"\n"
    );
    let f = scan_text(Path::new("config.toml"), &text, FileKind::Toml).unwrap();
    assert_eq!(
        rules(&f),
        [(
            "mcp_servers.github.env.GITHUB_TOKEN".to_string(),
            "github-pat"
        )]
    );
    assert_eq!(f[0].line, Some(4));
}

#[test]
fn kinds_from_names_and_content() {
    let k = |p: &str, t: &str| FileKind::of_file(Path::new(p), t);
    assert_eq!(k("/x/.env", ""), FileKind::Env);
    assert_eq!(k("/x/.env.local", ""), FileKind::Env);
    assert_eq!(k("/x/prod.env", ""), FileKind::Env);
    assert_eq!(k("/x/.zshrc", ""), FileKind::Shell);
    assert_eq!(k("/x/.codex/config.toml", ""), FileKind::Toml);
    assert_eq!(k("/x/other.toml", ""), FileKind::Toml);
    assert_eq!(k("/x/.vscode/settings.json", ""), FileKind::Jsonc);
    assert_eq!(k("/x/conf", "  {\"a\": 1}"), FileKind::Jsonc);
    assert_eq!(k("/x/conf", "A=1"), FileKind::Env);
    assert_eq!(FileKind::of_known_name(Path::new("/x/package.json")), None);
}

#[test]
fn run_skips_missing_known_locations_and_reports_missing_given_ones() {
    let dir = tempfile::tempdir().unwrap();
    let present = dir.path().join(".mcp.json");
    fs::write(
        &present,
        format!(r#"{{"mcpServers": {{"a": {{"env": {{"T": "{GHP}"}}}}}}}}"#),
    )
    .unwrap();
    let known = |p: PathBuf| Target {
        path: p,
        kind: Some(FileKind::Json),
        required: false,
    };
    let out = run(&[known(dir.path().join("nope.json")), known(present.clone())]);
    assert_eq!(
        (
            out.checked,
            out.scanned.len(),
            out.findings.len(),
            out.errors.len()
        ),
        (2, 1, 1, 0)
    );
    assert_eq!(out.exit_code(), 1);

    let out = run(&[Target::given(dir.path().join("nope.json"))]);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.exit_code(), 2);

    let clean = dir.path().join("clean.json");
    fs::write(&clean, "{}").unwrap();
    assert_eq!(run(&[Target::given(clean)]).exit_code(), 0);
}

#[test]
fn findings_win_over_errors_in_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    fs::write(&bad, "{ nope").unwrap();
    let env = dir.path().join(".env");
    fs::write(&env, format!("T={GHP}\n")).unwrap();
    let out = run(&[Target::given(bad.clone()), Target::given(env)]);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].path(), bad);
    assert_eq!(out.exit_code(), 1);
}

#[test]
fn parse_errors_and_big_files_hold_no_value() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    fs::write(&bad, format!("{{\"T\": \"{GHP}\" \"x\"")).unwrap();
    let e = scan_file(&bad, None).unwrap_err();
    assert!(!e.to_string().contains(&GHP[4..]), "{e}");
    assert!(!format!("{e:?}").contains(&GHP[4..]));
}

#[test]
fn too_large_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.env");
    let f = fs::File::create(&big).unwrap();
    f.set_len(MAX_FILE_BYTES + 1).unwrap();
    assert!(matches!(
        scan_file(&big, None),
        Err(ScanError::TooLarge { .. })
    ));
}

#[test]
fn discover_finds_known_names_and_skips_deps_and_depth() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let touch = |rel: &str| {
        let p = d.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, "{}").unwrap();
    };
    touch(".env");
    touch("app/.env.production");
    touch(".vscode/mcp.json");
    touch(".bashrc");
    touch("node_modules/pkg/.env");
    touch(".git/x/.mcp.json");
    touch("package.json");
    touch("a/b/c/d/e/f/g/.env");
    touch("a/b/.cursor/mcp.json");
    let (files, warnings) = discover(d);
    let rel: Vec<String> = files
        .iter()
        .map(|(p, _)| p.strip_prefix(d).unwrap().display().to_string())
        .collect();
    assert_eq!(
        rel,
        [
            ".bashrc",
            ".env",
            ".vscode/mcp.json",
            "a/b/.cursor/mcp.json",
            "app/.env.production"
        ]
    );
    assert!(warnings.is_empty());
}

#[cfg(unix)]
#[test]
fn discover_does_not_follow_symlinked_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("sub")).unwrap();
    fs::write(d.join("sub/.env"), "A=1").unwrap();
    std::os::unix::fs::symlink(d, d.join("sub/loop")).unwrap();
    let (files, _) = discover(d);
    assert_eq!(files.len(), 1);
}

#[test]
fn a_known_location_that_is_a_directory_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join(".mcp.json");
    fs::create_dir(&d).unwrap();
    let out = run(&[Target {
        path: d,
        kind: Some(FileKind::Json),
        required: false,
    }]);
    assert_eq!(
        (out.checked, out.scanned.len(), out.errors.len()),
        (1, 0, 0)
    );
}

#[test]
fn docker_and_mcp_remote_argument_shapes() {
    let key = b62(9, 32);
    let text = format!(
        r#"{{"mcpServers": {{
  "gh": {{"command": "docker", "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server"]}},
  "gh2": {{"command": "docker", "args": ["run", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN={GHP}", "img"]}},
  "remote": {{"command": "npx", "args": ["mcp-remote", "https://x/sse", "--header", "X-API-Key: {key}"]}},
  "remote2": {{"command": "npx", "args": ["mcp-remote", "https://x/sse", "--header", "Authorization:${{AUTH_HEADER}}"]}}
}}}}"#
    );
    let f = scan_text(Path::new("c.json"), &text, FileKind::Json).unwrap();
    assert_eq!(
        rules(&f),
        [
            ("mcpServers.gh2.args[2]".to_string(), "github-pat"),
            ("mcpServers.remote.args[3]".to_string(), "generic-secret"),
        ]
    );
}
