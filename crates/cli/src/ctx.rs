//! What every command needs: where the database is, where its key is, who signs in and how
//! to print. The database is opened once and the user signed in once, on first use.

use std::cell::OnceCell;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use clinicdesk_api::keys::{KeySource, KEY_ENV};
use clinicdesk_api::{App, Session, Store};

use crate::cli::Cli;
use crate::output::Out;

pub struct Ctx {
    db: Option<PathBuf>,
    key_file: Option<PathBuf>,
    user: Option<String>,
    pub out: Out,
    app: OnceCell<App>,
    session: OnceCell<Session>,
    password: OnceCell<String>,
}

impl Ctx {
    pub fn new(args: &Cli) -> Self {
        Ctx {
            db: args.db.clone(),
            key_file: args.key_file.clone(),
            user: args.user.clone(),
            out: Out { json: args.json },
            app: OnceCell::new(),
            session: OnceCell::new(),
            password: OnceCell::new(),
        }
    }

    pub fn db_path(&self) -> Result<PathBuf> {
        self.db
            .clone()
            .ok_or_else(|| anyhow!("no database given: pass --db PATH or set CLINICDESK_DB"))
    }

    /// The key source of --key-file / CLINICDESK_DB_KEY_FILE, CLINICDESK_DB_KEY or the keyring
    /// (the desktop reads the same settings with the same parser).
    pub fn key_source(&self) -> Result<KeySource> {
        let literal = std::env::var_os(KEY_ENV).map(|v| v.to_string_lossy().into_owned());
        Ok(KeySource::from_settings(self.key_file.clone(), literal)?)
    }

    /// The app on the existing database, opened on first use.
    pub fn app(&self) -> Result<&App> {
        if let Some(app) = self.app.get() {
            return Ok(app);
        }
        let store = Store::open(&self.db_path()?, &self.key_source()?)?;
        Ok(self.app.get_or_init(|| App::new(Arc::new(store))))
    }

    /// The signed-in session (--user and the password), signing in on first use.
    pub fn session(&self) -> Result<&Session> {
        let app = self.app()?;
        if let Some(s) = self.session.get() {
            return Ok(s);
        }
        let user = self.user.clone().ok_or_else(|| {
            anyhow!("this command needs a user: pass --user NAME or set CLINICDESK_USER")
        })?;
        let pw = read_password()?;
        let s = app.login(&user, &pw)?;
        let _ = self.password.set(pw);
        Ok(self.session.get_or_init(|| s))
    }

    /// The password the user signed in with (a change of one's own password checks it again).
    pub fn current_password(&self) -> Result<&str> {
        self.session()?;
        self.password
            .get()
            .map(String::as_str)
            .ok_or_else(|| anyhow!("not signed in"))
    }

    /// Refuse an export's destination that is the database, one of its files
    /// (`App::check_destination`) or the key file named by --key-file. Checked before the
    /// export is made, so a refused destination exports (and audits) nothing.
    pub fn check_destination(&self, path: &std::path::Path) -> Result<()> {
        if let Some(key) = &self.key_file {
            let same = |a: &std::path::Path| std::fs::canonicalize(a).ok();
            if path == key || (same(path).is_some() && same(path) == same(key)) {
                bail!(
                    "{} is the database's key file: choose another file name",
                    path.display()
                );
            }
        }
        Ok(self.app()?.check_destination(path)?)
    }

    /// Write an export to `path` (`App::write_export`: 0600, whole or not at all).
    pub fn write_export(&self, path: &std::path::Path, bytes: &[u8]) -> Result<()> {
        self.check_destination(path)?;
        Ok(self.app()?.write_export(path, bytes)?)
    }

    /// Both, for the commands that act as a user.
    pub fn signed_in(&self) -> Result<(&App, &Session)> {
        let s = self.session()?;
        Ok((self.app()?, s))
    }
}

/// The password: CLINICDESK_PASSWORD, else the first line of standard input. Never an argument.
pub fn read_password() -> Result<String> {
    if let Ok(p) = std::env::var("CLINICDESK_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let p = line.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        bail!("no password given: set CLINICDESK_PASSWORD or pass it on standard input");
    }
    Ok(p)
}
