//! Where each MCP client keeps its config, per platform. Pure: the caller
//! says what the home, working directory and platform are ([`Context`]);
//! nothing here reads the environment or the disk.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// An MCP client keyward knows the config files of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Client {
    ClaudeDesktop,
    ClaudeCode,
    Cursor,
    VsCode,
    Windsurf,
    Zed,
    Codex,
    Gemini,
}

impl Client {
    pub const ALL: [Client; 8] = [
        Client::ClaudeDesktop,
        Client::ClaudeCode,
        Client::Cursor,
        Client::VsCode,
        Client::Windsurf,
        Client::Zed,
        Client::Codex,
        Client::Gemini,
    ];

    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "claude-desktop",
            Client::ClaudeCode => "claude-code",
            Client::Cursor => "cursor",
            Client::VsCode => "vscode",
            Client::Windsurf => "windsurf",
            Client::Zed => "zed",
            Client::Codex => "codex",
            Client::Gemini => "gemini",
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client name that is not one of [`Client::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown MCP client `{0}` (known: claude-desktop, claude-code, cursor, vscode, windsurf, zed, codex, gemini)"
)]
pub struct UnknownClient(pub String);

impl FromStr for Client {
    type Err = UnknownClient;

    fn from_str(s: &str) -> Result<Client, UnknownClient> {
        Client::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownClient(s.to_string()))
    }
}

/// The syntax of a config file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Strict JSON (the client rewrites the file as plain JSON).
    Json,
    /// JSON with comments and trailing commas (VS Code, Zed).
    Jsonc,
    Toml,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    Linux,
    MacOs,
    Windows,
}

impl Platform {
    /// The platform this binary was built for (BSDs count as Linux: the
    /// clients use the same XDG layout there).
    pub fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Linux
        }
    }
}

/// What the locations depend on. The CLI fills it from the environment
/// (`HOME`/`USERPROFILE`, the working directory, `APPDATA`,
/// `XDG_CONFIG_HOME`); tests build one by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub home: PathBuf,
    pub cwd: PathBuf,
    pub platform: Platform,
    /// `%APPDATA%` (Windows); `home\AppData\Roaming` when unset.
    pub appdata: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` (Linux); `home/.config` when unset or relative.
    pub xdg_config_home: Option<PathBuf>,
}

/// One place a client may keep its MCP servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownConfig {
    pub client: Client,
    pub path: PathBuf,
    pub format: Format,
}

impl Context {
    /// Where per-user application config lives: `~/.config` (Linux, or
    /// `$XDG_CONFIG_HOME`), `~/Library/Application Support` (macOS),
    /// `%APPDATA%` (Windows).
    fn app_config_dir(&self) -> PathBuf {
        match self.platform {
            Platform::Linux => self.xdg_config(),
            Platform::MacOs => self.home.join("Library").join("Application Support"),
            Platform::Windows => self.appdata(),
        }
    }

    fn xdg_config(&self) -> PathBuf {
        self.xdg_config_home
            .clone()
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| self.home.join(".config"))
    }

    fn appdata(&self) -> PathBuf {
        self.appdata
            .clone()
            .unwrap_or_else(|| self.home.join("AppData").join("Roaming"))
    }
}

/// Every candidate config path for the context's platform, existing or
/// not: user configs first (in [`Client::ALL`] order), then the project's
/// (in `cwd`). A path listed twice (`cwd` = home) is listed once.
pub fn known_configs(ctx: &Context) -> Vec<KnownConfig> {
    let home = &ctx.home;
    let app = ctx.app_config_dir();
    let zed = match ctx.platform {
        Platform::Windows => ctx.appdata().join("Zed"),
        // Zed keeps `~/.config/zed` on macOS too.
        Platform::Linux | Platform::MacOs => ctx.xdg_config().join("zed"),
    };
    let code_user = app.join("Code").join("User");
    let cwd = &ctx.cwd;
    let all = [
        (
            Client::ClaudeDesktop,
            app.join("Claude").join("claude_desktop_config.json"),
            Format::Json,
        ),
        (Client::ClaudeCode, home.join(".claude.json"), Format::Json),
        (
            Client::Cursor,
            home.join(".cursor").join("mcp.json"),
            Format::Json,
        ),
        (Client::VsCode, code_user.join("mcp.json"), Format::Jsonc),
        (
            Client::VsCode,
            code_user.join("settings.json"),
            Format::Jsonc,
        ),
        (
            Client::Windsurf,
            home.join(".codeium")
                .join("windsurf")
                .join("mcp_config.json"),
            Format::Json,
        ),
        (Client::Zed, zed.join("settings.json"), Format::Jsonc),
        (
            Client::Codex,
            home.join(".codex").join("config.toml"),
            Format::Toml,
        ),
        (
            Client::Gemini,
            home.join(".gemini").join("settings.json"),
            Format::Json,
        ),
        // The project's own files.
        (Client::ClaudeCode, cwd.join(".mcp.json"), Format::Json),
        (
            Client::VsCode,
            cwd.join(".vscode").join("mcp.json"),
            Format::Jsonc,
        ),
        (
            Client::Cursor,
            cwd.join(".cursor").join("mcp.json"),
            Format::Json,
        ),
    ];
    let mut out: Vec<KnownConfig> = Vec::with_capacity(all.len());
    for (client, path, format) in all {
        if !out.iter().any(|k| k.path == path) {
            out.push(KnownConfig {
                client,
                path,
                format,
            });
        }
    }
    out
}

/// Which client and format a file name suggests, for a file named on the
/// command line (`keyward scan ./x/.mcp.json`): by its name and the
/// directory it is in.
pub fn guess(path: &Path) -> Option<(Client, Format)> {
    let name = path.file_name()?.to_str()?;
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|p| p.to_str())
        .unwrap_or("");
    Some(match (parent, name) {
        (_, "claude_desktop_config.json") => (Client::ClaudeDesktop, Format::Json),
        (_, ".claude.json" | ".mcp.json") => (Client::ClaudeCode, Format::Json),
        (".cursor", "mcp.json") => (Client::Cursor, Format::Json),
        (".vscode" | "User", "mcp.json" | "settings.json") => (Client::VsCode, Format::Jsonc),
        (_, "mcp_config.json") => (Client::Windsurf, Format::Json),
        ("zed" | "Zed", "settings.json") => (Client::Zed, Format::Jsonc),
        (".codex", "config.toml") => (Client::Codex, Format::Toml),
        (".gemini", "settings.json") => (Client::Gemini, Format::Json),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(platform: Platform) -> Context {
        Context {
            home: PathBuf::from("/h"),
            cwd: PathBuf::from("/p"),
            platform,
            appdata: None,
            xdg_config_home: None,
        }
    }

    fn paths(c: &Context) -> Vec<String> {
        known_configs(c)
            .into_iter()
            .map(|k| format!("{} {}", k.client, k.path.display()))
            .collect()
    }

    #[test]
    fn linux_layout() {
        assert_eq!(
            paths(&ctx(Platform::Linux)),
            [
                "claude-desktop /h/.config/Claude/claude_desktop_config.json",
                "claude-code /h/.claude.json",
                "cursor /h/.cursor/mcp.json",
                "vscode /h/.config/Code/User/mcp.json",
                "vscode /h/.config/Code/User/settings.json",
                "windsurf /h/.codeium/windsurf/mcp_config.json",
                "zed /h/.config/zed/settings.json",
                "codex /h/.codex/config.toml",
                "gemini /h/.gemini/settings.json",
                "claude-code /p/.mcp.json",
                "vscode /p/.vscode/mcp.json",
                "cursor /p/.cursor/mcp.json",
            ]
        );
    }

    #[test]
    fn xdg_config_home_moves_linux_app_configs() {
        let mut c = ctx(Platform::Linux);
        c.xdg_config_home = Some(PathBuf::from("/x"));
        let p = paths(&c);
        assert!(p.contains(&"claude-desktop /x/Claude/claude_desktop_config.json".to_string()));
        assert!(p.contains(&"vscode /x/Code/User/settings.json".to_string()));
        assert!(p.contains(&"zed /x/zed/settings.json".to_string()));
        // A relative XDG_CONFIG_HOME is ignored, as the spec says.
        c.xdg_config_home = Some(PathBuf::from("rel"));
        assert!(paths(&c).contains(&"zed /h/.config/zed/settings.json".to_string()));
    }

    #[test]
    fn macos_layout() {
        let p = paths(&ctx(Platform::MacOs));
        assert!(
            p.contains(
                &"claude-desktop /h/Library/Application Support/Claude/claude_desktop_config.json"
                    .to_string()
            )
        );
        assert!(
            p.contains(&"vscode /h/Library/Application Support/Code/User/mcp.json".to_string())
        );
        assert!(p.contains(&"zed /h/.config/zed/settings.json".to_string()));
    }

    #[test]
    fn windows_layout_uses_appdata() {
        let mut c = ctx(Platform::Windows);
        c.appdata = Some(PathBuf::from("/AD"));
        let k = known_configs(&c);
        let find = |cl: Client| k.iter().find(|x| x.client == cl).map(|x| x.path.clone());
        assert_eq!(
            find(Client::ClaudeDesktop),
            Some(PathBuf::from("/AD/Claude/claude_desktop_config.json"))
        );
        assert_eq!(
            find(Client::VsCode),
            Some(PathBuf::from("/AD/Code/User/mcp.json"))
        );
        assert_eq!(
            find(Client::Zed),
            Some(PathBuf::from("/AD/Zed/settings.json"))
        );
        assert_eq!(
            find(Client::Cursor),
            Some(PathBuf::from("/h/.cursor/mcp.json"))
        );
        c.appdata = None;
        let k = known_configs(&c);
        assert_eq!(
            k[0].path,
            PathBuf::from("/h/AppData/Roaming/Claude/claude_desktop_config.json")
        );
    }

    #[test]
    fn project_in_home_is_listed_once() {
        let mut c = ctx(Platform::Linux);
        c.cwd = c.home.clone();
        let k = known_configs(&c);
        let cursor: Vec<_> = k
            .iter()
            .filter(|x| x.path.ends_with(".cursor/mcp.json"))
            .collect();
        assert_eq!(cursor.len(), 1);
        assert_eq!(k.len(), 11);
    }

    #[test]
    fn formats() {
        for k in known_configs(&ctx(Platform::Linux)) {
            let want = match k.path.extension().and_then(|e| e.to_str()) {
                Some("toml") => Format::Toml,
                _ if k.client == Client::VsCode || k.client == Client::Zed => Format::Jsonc,
                _ => Format::Json,
            };
            assert_eq!(k.format, want, "{}", k.path.display());
        }
    }

    #[test]
    fn client_names_round_trip() {
        for c in Client::ALL {
            assert_eq!(c.as_str().parse::<Client>(), Ok(c));
        }
        assert_eq!("VSCode".parse::<Client>(), Ok(Client::VsCode));
        assert!("emacs".parse::<Client>().is_err());
    }

    #[test]
    fn guesses_from_names() {
        assert_eq!(
            guess(Path::new("/x/.vscode/settings.json")),
            Some((Client::VsCode, Format::Jsonc))
        );
        assert_eq!(
            guess(Path::new("/x/.codex/config.toml")),
            Some((Client::Codex, Format::Toml))
        );
        assert_eq!(
            guess(Path::new("/x/.mcp.json")),
            Some((Client::ClaudeCode, Format::Json))
        );
        assert_eq!(guess(Path::new("/x/settings.json")), None);
    }
}
