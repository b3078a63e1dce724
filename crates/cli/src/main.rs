//! `clinicdesk`: the command-line front door for administrators and scripts. Every command is one
//! call into the app API; errors print one line on stderr and exit non-zero.

mod cli;
mod commands;
mod ctx;
mod output;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use cli::{Cli, Command};
use commands::*;
use ctx::Ctx;

fn main() -> ExitCode {
    let args = match Cli::try_parse() {
        Ok(a) => a,
        Err(e) => return usage_error(e),
    };
    let ctx = Ctx::new(&args);
    match run(&args.command, &ctx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, the message a person can act on: each cause once (a cause whose text
            // the message already contains is not repeated).
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg = format!("{msg}: {c}");
                }
            }
            let msg = msg.replace('\n', " ");
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Help and version print as usual; every usage error is one line on stderr, exit code 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("error: a command is required (see clinicdesk --help)");
            ExitCode::from(2)
        }
        _ => {
            let text = e.to_string();
            let mut lines = text.lines();
            let mut first = lines
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ")
                .trim()
                .to_string();
            // "the following required arguments were not provided:" lists them below.
            if first.ends_with(':') {
                let listed: Vec<&str> = lines
                    .take_while(|l| l.starts_with(' '))
                    .map(str::trim)
                    .collect();
                first = format!("{first} {}", listed.join(", "));
            }
            eprintln!("error: {} (see --help)", first.trim());
            ExitCode::from(2)
        }
    }
}

/// Each command to its area.
fn run(command: &Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Init(a) => setup::init(ctx, a),
        Command::Demo { size } => setup::demo(ctx, size),
        Command::Backup { file } => admin::backup(ctx, file),
        Command::Restore { file } => admin::restore(ctx, file),
        Command::RestoreNew { file } => admin::restore_new(ctx, file),
        Command::RecoveryKit { out } => admin::recovery_kit(ctx, out),
        Command::Housekeeping => admin::housekeeping(ctx),
        Command::Audit { action } => admin::audit(ctx, action),
        Command::Db(c) => admin::db(ctx, c),
        Command::IdleTimeout { minutes } => admin::idle_timeout(ctx, *minutes),
        Command::Bench(a) => admin::bench(ctx, a),
        Command::Server(c) => sync::server(ctx, c),
        Command::Sync(c) => sync::sync(ctx, c),
        Command::Clinic(c) => org::clinic(ctx, c),
        Command::User(c) => org::user(ctx, c),
        Command::Role(c) => org::role(ctx, c),
        Command::Staff(c) => people::staff(ctx, c),
        Command::Patient(c) => people::patient(ctx, c),
        Command::Insurance(c) => people::insurance(ctx, c),
        Command::CredentialType(c) => catalog::credential_type(ctx, c),
        Command::Employer(c) => catalog::employer(ctx, c),
        Command::Payer(c) => catalog::payer(ctx, c),
        Command::Room(c) => catalog::room(ctx, c),
        Command::ShiftTemplate(c) => catalog::shift_template(ctx, c),
        Command::Credential(c) => credentials::credential(ctx, c),
        Command::Appointment(c) => scheduling::appointment(ctx, c),
        Command::AppointmentType(c) => scheduling::appointment_type(ctx, c),
        Command::Availability(c) => scheduling::availability(ctx, c),
        Command::Reminder(c) => scheduling::reminder(ctx, c),
        Command::Series(c) => scheduling::series(ctx, c),
        Command::Roster(c) => staffing::roster(ctx, c),
        Command::Swap(c) => staffing::swap(ctx, c),
        Command::TimeOff(c) => staffing::time_off(ctx, c),
        Command::Coverage(c) => staffing::coverage(ctx, c),
        Command::Case(c) => cases::case(ctx, c),
        Command::Waitlist(c) => waitlist::waitlist(ctx, c),
        Command::Kpi(c) => kpis::kpi(ctx, c),
        Command::Goal(c) => kpis::goal(ctx, c),
        Command::Capacity(c) => kpis::capacity(ctx, c),
        Command::Export(c) => interop::export(ctx, c),
        Command::Import(c) => interop::import(ctx, c),
    }
}
