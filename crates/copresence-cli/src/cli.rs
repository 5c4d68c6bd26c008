//! The command line: global options and subcommands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// See and publish who is working on which site and page.
#[derive(Debug, Parser)]
#[command(name = "copresence", version)]
pub struct Cli {
    /// The Copresence server, e.g. https://copresence.example.com
    #[arg(long, global = true, env = "COPRESENCE_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// Your API token (prefer COPRESENCE_TOKEN or the config file: arguments show in `ps`)
    #[arg(
        long,
        global = true,
        env = "COPRESENCE_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,

    /// Config file with optional `server = "..."` and `token = "..."`
    /// [default: <config dir>/copresence/config.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with your organisation's account: shows a code to enter in a browser (on this
    /// or any device), then keeps the sign-in (in the system keychain, or a file only you can
    /// read) and renews it as needed
    Login {
        /// Open a browser on this machine instead, and come back to it here
        #[arg(long)]
        browser: bool,
    },

    /// Forget the kept sign-in (and have the provider revoke it, where it can)
    Logout,

    /// Show who the token belongs to
    Whoami {
        /// Print the answer as JSON
        #[arg(long)]
        json: bool,
    },

    /// List your sites with their version and who is online where
    Sites {
        /// Print the answer as JSON
        #[arg(long)]
        json: bool,
    },

    /// Follow presence and saves live (all your sites unless some are named)
    Watch {
        /// Site ids to watch
        #[arg(value_name = "SITE")]
        sites: Vec<String>,

        /// Print one JSON object per line: the protocol's events, and status lines
        #[arg(long)]
        json: bool,

        /// Attach one of your sessions: it stays present while the watch runs
        #[arg(long, value_name = "ID")]
        session: Option<String>,
    },

    /// Join a site on a page and stay present until Ctrl-C (a page the site does not have yet is
    /// added to it, when the site takes pages from its editors)
    Join {
        /// Site id
        site: String,

        /// Page path, e.g. /products
        page: String,

        /// Session id [default: cli-<random>]
        #[arg(long, value_name = "ID")]
        session: Option<String>,

        /// Client name shown to others
        #[arg(long, value_name = "NAME", default_value = "cli")]
        client: String,

        /// The page's title, should the site not have the page yet: a site that takes pages
        /// from its editors adds it under this title [default: none, named by its path]
        #[arg(long, value_name = "TITLE")]
        title: Option<String>,

        /// The address of the web editor's tab on the page, kept with the session (where
        /// "Open" on your card goes) when one of the site's editors reads the page from it
        #[arg(long, value_name = "ADDRESS")]
        url: Option<String>,

        /// Publish once and exit without leaving (the session then expires by itself)
        #[arg(long)]
        once: bool,
    },

    /// Close a session at once
    Leave {
        /// Site id
        site: String,

        /// The session to close
        #[arg(long, value_name = "ID")]
        session: String,
    },

    /// Record a save of a page
    Save {
        /// Site id
        site: String,

        /// Page path, e.g. /pricing
        page: String,

        /// The version your change is based on [default: the site's current version]
        #[arg(long, value_name = "N")]
        base_version: Option<i64>,

        /// Save even if someone saved a newer version meanwhile (overwrites it)
        #[arg(long)]
        force: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_parse_anywhere() {
        let cli = Cli::try_parse_from([
            "copresence",
            "save",
            "contoso",
            "/pricing",
            "--base-version",
            "6",
            "--server",
            "http://h.test",
        ])
        .unwrap();
        assert_eq!(cli.server.as_deref(), Some("http://h.test"));
        match cli.command {
            Command::Save {
                site,
                page,
                base_version,
                force,
            } => {
                assert_eq!((site.as_str(), page.as_str()), ("contoso", "/pricing"));
                assert_eq!(base_version, Some(6));
                assert!(!force);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn join_defaults_to_the_cli_client() {
        let cli = Cli::try_parse_from(["copresence", "join", "s", "/"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Join { ref client, once: false, session: None, title: None, .. } if client == "cli"
        ));
        let addressed = Cli::try_parse_from([
            "copresence",
            "join",
            "s",
            "/p",
            "--url",
            "https://studio.example/edit/p",
        ])
        .unwrap();
        assert!(matches!(
            addressed.command,
            Command::Join { url: Some(ref url), .. } if url == "https://studio.example/edit/p"
        ));
        let titled =
            Cli::try_parse_from(["copresence", "join", "s", "/new", "--title", "New page"])
                .unwrap();
        assert!(matches!(
            titled.command,
            Command::Join { title: Some(ref title), .. } if title == "New page"
        ));
    }
}
