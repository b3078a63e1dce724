//! `clinicdesk`: the command-line front door for administrators and scripts. Every command is one
//! call into the app API; errors print one line on stderr and exit non-zero.

mod cli;
mod output;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use clinicdesk_api::{App, Fields, ListQuery, Session};
use clinicdesk_domain::*;
use clinicdesk_store::{DbKey, KeySource, Store, KEY_ENV};

use cli::*;
use output::Out;

fn main() -> ExitCode {
    let args = match Cli::try_parse() {
        Ok(a) => a,
        Err(e) => return usage_error(e),
    };
    let out = Out { json: args.json };
    match run(args, &out) {
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

fn key_source(args: &Cli) -> Result<KeySource> {
    if let Some(f) = &args.key_file {
        return Ok(KeySource::File(f.clone()));
    }
    if let Ok(hex) = std::env::var(KEY_ENV) {
        return Ok(KeySource::Literal(
            DbKey::from_hex(&hex).with_context(|| format!("{KEY_ENV} is malformed"))?,
        ));
    }
    Ok(KeySource::Keyring)
}

fn db_path(args: &Cli) -> Result<PathBuf> {
    args.db
        .clone()
        .ok_or_else(|| anyhow!("no database given: pass --db PATH or set CLINICDESK_DB"))
}

/// The password: CLINICDESK_PASSWORD, else the first line of standard input. Never an argument.
fn read_password() -> Result<String> {
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

fn open(args: &Cli) -> Result<App> {
    let path = db_path(args)?;
    let store = Store::open(&path, &key_source(args)?)?;
    Ok(App::new(Arc::new(store)))
}

fn login(args: &Cli, app: &App) -> Result<Session> {
    let user = args.user.clone().ok_or_else(|| {
        anyhow!("this command needs a user: pass --user NAME or set CLINICDESK_USER")
    })?;
    let pw = read_password()?;
    Ok(app.login(&user, &pw)?)
}

fn fields(set: &[String], json: &Option<String>) -> Result<Fields> {
    let mut f = Fields::from_pairs(set)?;
    if let Some(j) = json {
        let text = if j == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
            s
        } else if let Some(path) = j.strip_prefix('@') {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?
        } else {
            j.clone()
        };
        let v: serde_json::Value =
            serde_json::from_str(&text).context("--data is not valid JSON")?;
        for (k, val) in Fields::from_json(&v)?.into_map() {
            f.set(&k, val);
        }
    }
    Ok(f)
}

fn list_query(l: &ListArgs) -> Result<ListQuery> {
    Ok(ListQuery {
        clinic_id: l.clinic.as_deref().map(ClinicId::parse).transpose()?,
        q: l.q.clone(),
        include_deleted: l.include_deleted,
        limit: l.limit,
        offset: l.offset,
    })
}

fn need<'a>(v: &'a Option<String>, flag: &str) -> Result<&'a str> {
    v.as_deref()
        .ok_or_else(|| anyhow!("{flag} is required for this command"))
}

fn run(args: Cli, out: &Out) -> Result<()> {
    match &args.command {
        Command::Init {
            clinic_name,
            clinic_code,
            timezone,
            admin,
        } => {
            let path = db_path(&args)?;
            // Validate everything before creating any file.
            let f = Fields::new()
                .with("name", clinic_name)
                .with("code", clinic_code)
                .with("timezone", timezone);
            ClinicCode::parse(clinic_code)?;
            TimeZoneName::parse(timezone)?;
            Name::parse("clinic name", clinic_name)?;
            Username::parse(admin)?;
            let pw = read_password()?;
            validate_password(&pw)?;
            let store = Store::create(&path, &key_source(&args)?)?;
            let app = App::new(Arc::new(store));
            match app.initialise(&f, admin, &pw) {
                Ok(r) => out.value(
                    &r,
                    &format!(
                        "created {} with clinic {} ({}) and admin {}",
                        path.display(),
                        r.clinic.name,
                        r.clinic.code,
                        r.admin.username
                    ),
                ),
                Err(e) => {
                    drop(app);
                    remove_db(&path);
                    Err(e.into())
                }
            }
        }
        Command::Demo { size } => {
            let size = clinicdesk_demo::DemoSize::parse(size)?;
            let path = db_path(&args)?;
            let pw = read_password()?;
            validate_password(&pw)?;
            let created = !path.exists();
            let store = if created {
                Store::create(&path, &key_source(&args)?)?
            } else {
                Store::open(&path, &key_source(&args)?)?
            };
            let mut last = std::time::Instant::now();
            let r = clinicdesk_demo::generate_demo(&store, size, &pw, &mut |stage, done, total| {
                if !out.json && last.elapsed().as_millis() > 1000 {
                    eprintln!("  {stage}: {done}/{total}");
                    last = std::time::Instant::now();
                }
                true
            });
            match r {
                Ok(r) => out.value(
                    &r,
                    &format!(
                        "generated {} rows in {:.1} s ({:.0} rows/s); sign in as {}",
                        r.rows_total, r.seconds, r.rows_per_second, r.admin_username
                    ),
                ),
                Err(e) => {
                    drop(store);
                    if created {
                        remove_db(&path);
                    }
                    Err(e.into())
                }
            }
        }
        Command::Backup { file } => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            app.backup(&s, file, |_, _| true)?;
            out.ok(&format!("backup written to {}", file.display()))
        }
        Command::Restore { file } => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            app.restore(&s, file, |_, _| true)?;
            out.ok(&format!("restored from {}", file.display()))
        }
        Command::Housekeeping => {
            let app = open(&args)?;
            login(&args, &app)?;
            let r = app.run_housekeeping()?;
            let c = &r.credentials;
            out.value(
                &r,
                &format!(
                    "{} clinics: {} lapsed offers passed on; credentials: {} expired, {} alerts, {} coverage needs raised; {} capacity snapshots",
                    r.clinics, r.offers_expired, c.expired, c.alerts_raised, c.coverage_needs_raised, r.capacity_snapshots
                ),
            )
        }
        Command::Audit {
            action: AuditCmd::Verify,
        } => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            let r = app.verify_audit(&s)?;
            if !r.ok {
                out.value(&r, &format!("{} entries checked", r.entries))?;
                bail!(
                    "the audit chain is broken at entry {}: {}",
                    r.first_broken_seq.unwrap_or_default(),
                    r.reason.clone().unwrap_or_default()
                );
            }
            out.value(
                &r,
                &format!("audit chain intact: {} entries verified", r.entries),
            )
        }
        Command::Audit {
            action:
                AuditCmd::List {
                    table,
                    row,
                    action,
                    limit,
                },
        } => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            let q = clinicdesk_api::AuditQuery {
                table_name: table.clone(),
                row_id: row.clone(),
                action: action.clone(),
                limit: *limit,
                ..Default::default()
            };
            out.rows(&app.list_audit(&s, &q)?)
        }
        Command::IdleTimeout { minutes } => {
            let app = open(&args)?;
            let m = match minutes {
                Some(m) => {
                    let s = login(&args, &app)?;
                    app.set_idle_timeout(&s, *m)?
                }
                None => app.get_idle_timeout()?,
            };
            out.value(
                &serde_json::json!({ "idle_timeout_minutes": m }),
                &format!("idle lock after {m} minutes"),
            )
        }
        Command::Bench {
            iterations,
            report,
            no_postgres,
        } => {
            let path = db_path(&args)?;
            let options = clinicdesk_bench::BenchOptions {
                iterations: *iterations,
                postgres: !*no_postgres,
            };
            let r = clinicdesk_bench::run_bench_with(&path, &key_source(&args)?, &options)?;
            let text = r.render();
            std::fs::write(report, serde_json::to_string_pretty(&r)?)
                .with_context(|| format!("cannot write {}", report.display()))?;
            out.value(
                &r,
                &format!("{text}\nreport written to {}", report.display()),
            )
        }
        Command::Clinic(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                Crud::Create(a) => out.row(&app.create_clinic(&s, &fields(&a.set, &a.data)?)?),
                Crud::Get { id } => out.row(&app.get_clinic(&s, ClinicId::parse(id)?)?),
                Crud::Update(a) => out.row(&app.update_clinic(
                    &s,
                    ClinicId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Delete { id } => out.done(
                    app.delete_clinic(&s, ClinicId::parse(id)?)?,
                    "clinic deleted",
                ),
                Crud::List(l) => out.rows(&app.list_clinics(&s, &list_query(l)?)?),
            }
        }
        Command::User(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                UserCmd::Create(a) => {
                    let pw = std::env::var("CLINICDESK_NEW_PASSWORD").map_err(|_| {
                        anyhow!("set CLINICDESK_NEW_PASSWORD to the new user's password")
                    })?;
                    out.row(&app.create_user(&s, &fields(&a.set, &a.data)?, &pw)?)
                }
                UserCmd::Get { id } => out.row(&app.get_user(&s, UserId::parse(id)?)?),
                UserCmd::Update(a) => out.row(&app.update_user(
                    &s,
                    UserId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                UserCmd::Delete { id } => {
                    out.done(app.delete_user(&s, UserId::parse(id)?)?, "user deleted")
                }
                UserCmd::List(l) => out.rows(&app.list_users(&s, &list_query(l)?)?),
                UserCmd::SetPassword { id } => {
                    let pw = std::env::var("CLINICDESK_NEW_PASSWORD")
                        .map_err(|_| anyhow!("set CLINICDESK_NEW_PASSWORD to the new password"))?;
                    out.done(
                        app.set_password(&s, UserId::parse(id)?, &pw)?,
                        "password changed",
                    )
                }
            }
        }
        Command::Role(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                RoleCmd::Grant {
                    user_id: user,
                    clinic,
                    role,
                } => out.row(&app.grant_role(
                    &s,
                    UserId::parse(user)?,
                    ClinicId::parse(clinic)?,
                    Role::parse(role)?,
                )?),
                RoleCmd::Revoke {
                    user_id: user,
                    clinic,
                    role,
                } => out.done(
                    app.revoke_role(
                        &s,
                        UserId::parse(user)?,
                        ClinicId::parse(clinic)?,
                        Role::parse(role)?,
                    )?,
                    "role removed",
                ),
                RoleCmd::List { clinic } => {
                    out.rows(&app.list_roles(&s, ClinicId::parse(clinic)?)?)
                }
            }
        }
        Command::Staff(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                Crud::Create(a) => out.row(&app.create_staff(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Get { id } => out.row(&app.get_staff(&s, StaffId::parse(id)?)?),
                Crud::Update(a) => out.row(&app.update_staff(
                    &s,
                    StaffId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Delete { id } => out.done(
                    app.delete_staff(&s, StaffId::parse(id)?)?,
                    "staff member removed",
                ),
                Crud::List(l) => out.rows(&app.list_staff(&s, &list_query(l)?)?),
            }
        }
        Command::CredentialType(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                Crud::Create(a) => {
                    out.row(&app.create_credential_type(&s, &fields(&a.set, &a.data)?)?)
                }
                Crud::Get { id } => {
                    out.row(&app.get_credential_type(&s, CredentialTypeId::parse(id)?)?)
                }
                Crud::Update(a) => out.row(&app.update_credential_type(
                    &s,
                    CredentialTypeId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Delete { id } => out.done(
                    app.delete_credential_type(&s, CredentialTypeId::parse(id)?)?,
                    "credential type deleted",
                ),
                Crud::List(l) => out.rows(&app.list_credential_types(&s, &list_query(l)?)?),
            }
        }
        Command::Credential(CredentialCmd::Crud(c)) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                Crud::Create(a) => out.row(&app.create_credential(
                    &s,
                    StaffId::parse(need(&a.staff, "--staff")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Get { id } => out.row(&app.get_credential(&s, CredentialId::parse(id)?)?),
                Crud::Update(a) => out.row(&app.update_credential(
                    &s,
                    CredentialId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Delete { id } => out.done(
                    app.delete_credential(&s, CredentialId::parse(id)?)?,
                    "credential removed",
                ),
                Crud::List(l) => out.rows(&app.list_credentials(
                    &s,
                    l.staff.as_deref().map(StaffId::parse).transpose()?,
                    &list_query(l)?,
                )?),
            }
        }
        Command::Credential(c) => credential_command(&args, out, c),
        Command::Patient(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                PatientCmd::Create(a) => out.row(&app.create_patient(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                PatientCmd::Get { id } => out.row(&app.get_patient(&s, PatientId::parse(id)?)?),
                PatientCmd::Update(a) => out.row(&app.update_patient(
                    &s,
                    PatientId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                PatientCmd::Delete { id } => out.done(
                    app.delete_patient(&s, PatientId::parse(id)?)?,
                    "patient record deleted",
                ),
                PatientCmd::Search { query, limit } => {
                    out.rows(&app.search_patients(&s, query, *limit)?)
                }
                PatientCmd::Import { file, clinic } => {
                    let clinic = ClinicId::parse(clinic)?;
                    let text = std::fs::read_to_string(file)
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    let mut last = std::time::Instant::now();
                    let r = app.import_patients(&s, clinic, &text, &mut |stage, done, total| {
                        if !out.json && last.elapsed().as_millis() > 1000 {
                            eprintln!("  {stage}: {done}/{total}");
                            last = std::time::Instant::now();
                        }
                        true
                    })?;
                    if r.invalid > 0 {
                        let listed: Vec<String> = r
                            .errors
                            .iter()
                            .map(|e| format!("line {}: {}", e.line, e.message))
                            .collect();
                        let unlisted = r.invalid - r.errors.len() as u64;
                        bail!(
                            "{} of {} rows are invalid, nothing was imported — {}{}",
                            r.invalid,
                            r.rows,
                            listed.join("; "),
                            if unlisted > 0 {
                                format!("; and {unlisted} more")
                            } else {
                                String::new()
                            }
                        );
                    }
                    out.value(
                        &r,
                        &format!(
                            "imported {} patients; {} skipped (legacy_id imported before)",
                            r.imported, r.skipped
                        ),
                    )
                }
            }
        }
        Command::Insurance(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                InsuranceCmd::Add(a) => out.row(&app.add_patient_insurance(
                    &s,
                    PatientId::parse(need(&a.patient, "--patient")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                InsuranceCmd::Update(a) => out.row(&app.update_patient_insurance(
                    &s,
                    PatientInsuranceId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                InsuranceCmd::Delete { id } => out.done(
                    app.delete_patient_insurance(&s, PatientInsuranceId::parse(id)?)?,
                    "policy removed",
                ),
                InsuranceCmd::List { patient } => {
                    out.rows(&app.list_patient_insurance(&s, PatientId::parse(patient)?)?)
                }
            }
        }
        Command::Employer(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                Crud::Create(a) => out.row(&app.create_employer(&s, &fields(&a.set, &a.data)?)?),
                Crud::Get { id } => out.row(&app.get_employer(&s, EmployerId::parse(id)?)?),
                Crud::Update(a) => out.row(&app.update_employer(
                    &s,
                    EmployerId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Delete { id } => out.done(
                    app.delete_employer(&s, EmployerId::parse(id)?)?,
                    "employer deleted",
                ),
                Crud::List(l) => out.rows(&app.list_employers(&s, &list_query(l)?)?),
            }
        }
        Command::Payer(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                Crud::Create(a) => out.row(&app.create_payer(&s, &fields(&a.set, &a.data)?)?),
                Crud::Get { id } => out.row(&app.get_payer(&s, PayerId::parse(id)?)?),
                Crud::Update(a) => out.row(&app.update_payer(
                    &s,
                    PayerId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Delete { id } => {
                    out.done(app.delete_payer(&s, PayerId::parse(id)?)?, "payer deleted")
                }
                Crud::List(l) => out.rows(&app.list_payers(&s, &list_query(l)?)?),
            }
        }
        Command::Room(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                Crud::Create(a) => out.row(&app.create_room(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Get { id } => out.row(&app.get_room(&s, RoomId::parse(id)?)?),
                Crud::Update(a) => out.row(&app.update_room(
                    &s,
                    RoomId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Delete { id } => {
                    out.done(app.delete_room(&s, RoomId::parse(id)?)?, "room deleted")
                }
                Crud::List(l) => out.rows(&app.list_rooms(&s, &list_query(l)?)?),
            }
        }
        Command::Appointment(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                AppointmentCmd::Book(a) => out.row(&app.book_appointment(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                AppointmentCmd::Get { id } => {
                    out.row(&app.get_appointment(&s, AppointmentId::parse(id)?)?)
                }
                AppointmentCmd::Move(a) => out.row(&app.reschedule_appointment(
                    &s,
                    AppointmentId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                AppointmentCmd::Status { id, action, reason } => {
                    out.row(&app.set_appointment_status(
                        &s,
                        AppointmentId::parse(id)?,
                        action,
                        reason.as_deref(),
                    )?)
                }
                AppointmentCmd::Today { clinic, provider } => {
                    let t = app.todays_appointments(
                        &s,
                        ClinicId::parse(clinic)?,
                        provider.as_deref().map(StaffId::parse).transpose()?,
                    )?;
                    if !out.json {
                        for e in &t.entries {
                            let waiting = e
                                .waiting_minutes
                                .map(|m| format!("  waiting {m} min"))
                                .unwrap_or_default();
                            output::line(&format!(
                                "{}  {}  {}  {}  {}{waiting}",
                                e.local_time,
                                e.entry.appointment.status,
                                e.entry.provider_name,
                                e.entry.patient_name,
                                e.entry.appointment.id,
                            ));
                        }
                    }
                    let c = &t.counts;
                    out.value(
                        &t,
                        &format!(
                            "{}: {} booked, {} checked in, {} in progress, {} completed, {} no-show",
                            t.date, c.booked, c.checked_in, c.in_progress, c.completed, c.no_show
                        ),
                    )
                }
                AppointmentCmd::Day {
                    clinic,
                    date,
                    provider,
                } => {
                    let day = app.day_schedule(
                        &s,
                        ClinicId::parse(clinic)?,
                        date,
                        provider.as_deref().map(StaffId::parse).transpose()?,
                    )?;
                    if out.json {
                        out.value(&day, "")
                    } else {
                        let dir = app.clinic_directory(&s, day.clinic_id)?;
                        let provider = |id: StaffId| {
                            dir.providers
                                .iter()
                                .find(|p| p.id == id)
                                .map_or_else(|| id.to_string(), |p| p.name.clone())
                        };
                        let room = |id: Option<RoomId>| {
                            id.and_then(|id| dir.rooms.iter().find(|r| r.id == id))
                                .map_or("-", |r| r.name.as_str())
                        };
                        for e in &day.entries {
                            output::line(&format!(
                                "{}  {}  {}  {}  {}",
                                e.id,
                                e.status,
                                provider(e.provider_id),
                                e.patient_name,
                                room(e.room_id)
                            ));
                        }
                        out.ok(&format!(
                            "{} appointments on {} ({} hours)",
                            day.entries.len(),
                            day.date,
                            day.hours
                        ))
                    }
                }
                AppointmentCmd::Week {
                    clinic,
                    start,
                    provider,
                } => {
                    let days = app.week_schedule(
                        &s,
                        ClinicId::parse(clinic)?,
                        start,
                        provider.as_deref().map(StaffId::parse).transpose()?,
                    )?;
                    let text = days
                        .iter()
                        .map(|d| format!("{}  {} appointments", d.date, d.entries.len()))
                        .collect::<Vec<_>>()
                        .join("\n");
                    out.value(&days, &text)
                }
                AppointmentCmd::Slots {
                    clinic,
                    provider,
                    duration,
                    from,
                    to,
                } => {
                    let slots = app.available_slots(
                        &s,
                        ClinicId::parse(clinic)?,
                        provider.as_deref().map(StaffId::parse).transpose()?,
                        *duration,
                        from,
                        to,
                    )?;
                    if !out.json {
                        for sl in &slots {
                            output::line(&format!("{}  {}", sl.local_start, sl.provider_id));
                        }
                    }
                    out.value(&slots, &format!("{} free slots", slots.len()))
                }
            }
        }
        Command::AppointmentType(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                AppointmentTypeCmd::Create(a) => out.row(&app.create_appointment_type(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                AppointmentTypeCmd::List { clinic } => {
                    out.rows(&app.list_appointment_types(&s, ClinicId::parse(clinic)?)?)
                }
            }
        }
        Command::Availability(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                AvailabilityCmd::Create(a) => out.row(&app.create_availability_block(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                AvailabilityCmd::Delete { id } => out.done(
                    app.delete_availability_block(&s, AvailabilityBlockId::parse(id)?)?,
                    "block removed",
                ),
                AvailabilityCmd::Closures(a) => {
                    let r = app.generate_closures(
                        &s,
                        ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                        &fields(&a.set, &a.data)?,
                    )?;
                    if !out.json {
                        for a in &r.affected {
                            output::line(&format!(
                                "needs moving: appointment {} at {}",
                                a.id,
                                chrono::DateTime::from_timestamp_millis(a.start_at)
                                    .map(|t| t.to_rfc3339())
                                    .unwrap_or_default()
                            ));
                        }
                    }
                    out.value(
                        &r,
                        &format!(
                            "{} days closed, {} already closed, {} appointments need moving",
                            r.created.len(),
                            r.already_closed.len(),
                            r.affected.len()
                        ),
                    )
                }
            }
        }
        Command::Reminder(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                ReminderCmd::Queue { clinic, until } => {
                    let until = until
                        .as_deref()
                        .map(|u| parse_instant("until", u))
                        .transpose()?
                        .map(|t| t.timestamp_millis());
                    let q = app.pending_reminders(&s, ClinicId::parse(clinic)?, until)?;
                    if !out.json {
                        for r in &q {
                            output::line(&format!(
                                "{}  {}  {}  {}",
                                r.reminder.id,
                                r.reminder.channel,
                                r.patient_name,
                                r.phone.as_deref().or(r.email.as_deref()).unwrap_or("-")
                            ));
                        }
                    }
                    out.value(&q, &format!("{} reminders due", q.len()))
                }
                ReminderCmd::Export {
                    clinic,
                    until,
                    output: file,
                } => {
                    let until = until
                        .as_deref()
                        .map(|u| parse_instant("until", u))
                        .transpose()?
                        .map(|t| t.timestamp_millis());
                    let csv =
                        app.export_pending_reminders_csv(&s, ClinicId::parse(clinic)?, until)?;
                    let rows = csv.lines().count().saturating_sub(1);
                    match file {
                        Some(path) => {
                            std::fs::write(path, &csv)
                                .with_context(|| format!("cannot write {}", path.display()))?;
                            out.ok(&format!("{rows} reminders written to {}", path.display()))
                        }
                        None => {
                            print!("{csv}");
                            Ok(())
                        }
                    }
                }
                ReminderCmd::Mark {
                    id,
                    outcome,
                    reason,
                } => out.row(&app.mark_reminder(
                    &s,
                    ReminderId::parse(id)?,
                    outcome,
                    reason.as_deref(),
                )?),
            }
        }
        Command::Series(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                SeriesCmd::Preview(a) => {
                    let checks = app.preview_series(
                        &s,
                        ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                        &fields(&a.set, &a.data)?,
                    )?;
                    if !out.json {
                        for o in &checks {
                            output::line(&format!(
                                "{}  {}",
                                o.local_start,
                                o.problem.as_deref().unwrap_or("free")
                            ));
                        }
                    }
                    let conflicts = checks.iter().filter(|o| o.problem.is_some()).count();
                    out.value(
                        &checks,
                        &format!("{} occurrences, {conflicts} with conflicts", checks.len()),
                    )
                }
                SeriesCmd::Book(a) => {
                    let r = app.book_series(
                        &s,
                        ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                        &fields(&a.set, &a.data)?,
                    )?;
                    out.value(
                        &r,
                        &format!(
                            "series {}: {} booked, {} skipped",
                            r.series_id,
                            r.booked.len(),
                            r.skipped.len()
                        ),
                    )
                }
                SeriesCmd::Edit { write, scope } => {
                    let r = app.edit_series(
                        &s,
                        AppointmentId::parse(need(&write.id, "APPOINTMENT_ID")?)?,
                        scope,
                        &fields(&write.set, &write.data)?,
                    )?;
                    out.value(
                        &r,
                        &format!(
                            "series {}: {} occurrences moved",
                            r.series_id,
                            r.booked.len()
                        ),
                    )
                }
                SeriesCmd::Cancel {
                    appointment,
                    scope,
                    reason,
                } => {
                    let r =
                        app.cancel_series(&s, AppointmentId::parse(appointment)?, scope, reason)?;
                    out.value(&r, &format!("{} appointments cancelled", r.len()))
                }
            }
        }
        Command::Roster(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                RosterCmd::Assign(a) => out.row(&app.assign_shift(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                RosterCmd::Bulk(a) => {
                    let r = app.assign_shifts_bulk(
                        &s,
                        ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                        &fields(&a.set, &a.data)?,
                    )?;
                    out.value(
                        &r,
                        &format!("{} assigned, {} skipped", r.assigned.len(), r.skipped.len()),
                    )
                }
                RosterCmd::Status { id, action } => {
                    out.row(&app.set_shift_status(&s, StaffScheduleId::parse(id)?, action)?)
                }
                RosterCmd::List {
                    clinic,
                    from,
                    to,
                    staff,
                } => {
                    let l = app.list_roster(
                        &s,
                        ClinicId::parse(clinic)?,
                        from,
                        to,
                        staff.as_deref().map(StaffId::parse).transpose()?,
                    )?;
                    if !out.json {
                        for e in &l {
                            output::line(&format!(
                                "{}  {}  {}  {}  {}",
                                e.schedule.schedule_date,
                                e.shift_name,
                                e.staff_name,
                                e.schedule.status,
                                e.schedule.id
                            ));
                        }
                    }
                    out.value(&l, &format!("{} assignments", l.len()))
                }
            }
        }
        Command::Swap(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                SwapCmd::Request(a) => out.row(&app.request_swap(&s, &fields(&a.set, &a.data)?)?),
                SwapCmd::List { clinic, status } => {
                    out.rows(&app.list_swaps(&s, ClinicId::parse(clinic)?, status.as_deref())?)
                }
                SwapCmd::Approve {
                    id,
                    note,
                    override_reason,
                } => out.row(&app.decide_swap(
                    &s,
                    ShiftSwapId::parse(id)?,
                    true,
                    note.as_deref(),
                    override_reason.as_deref(),
                )?),
                SwapCmd::Reject { id, note } => out.row(&app.decide_swap(
                    &s,
                    ShiftSwapId::parse(id)?,
                    false,
                    note.as_deref(),
                    None,
                )?),
                SwapCmd::Mine { clinic, status } => {
                    let clinic = clinic.as_deref().map(ClinicId::parse).transpose()?;
                    let mine = app.my_swaps(&s, clinic, status.as_deref())?;
                    let text = mine
                        .iter()
                        .map(|m| {
                            let e = &m.handed_over;
                            format!(
                                "{}  {} {}  {} → {}  status={}{}",
                                m.swap.id,
                                e.schedule.schedule_date,
                                e.shift_name,
                                m.requester_name,
                                m.target_name,
                                m.swap.status,
                                if m.is_requester {
                                    ""
                                } else {
                                    "  (asked of you)"
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                    out.value(
                        &mine,
                        if mine.is_empty() {
                            "no swap requests"
                        } else {
                            &text
                        },
                    )
                }
                SwapCmd::Withdraw { id } => out.row(&app.cancel_swap(&s, ShiftSwapId::parse(id)?)?),
            }
        }
        Command::TimeOff(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                TimeOffCmd::Request(a) => out.row(&app.request_time_off(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                TimeOffCmd::List { clinic, status } => {
                    out.rows(&app.list_time_off(&s, ClinicId::parse(clinic)?, status.as_deref())?)
                }
                TimeOffCmd::Approve { id, note } => {
                    let d = app.decide_time_off(
                        &s,
                        TimeOffRequestId::parse(id)?,
                        true,
                        note.as_deref(),
                    )?;
                    out.value(
                        &d,
                        &format!(
                            "approved: {} shifts released into coverage needs, {} appointments to move",
                            d.coverage_needs.len(),
                            d.affected_appointments.len()
                        ),
                    )
                }
                TimeOffCmd::Reject { id, note } => {
                    let d = app.decide_time_off(
                        &s,
                        TimeOffRequestId::parse(id)?,
                        false,
                        note.as_deref(),
                    )?;
                    out.row(&d.request)
                }
                TimeOffCmd::Cancel { id } => {
                    out.row(&app.cancel_time_off(&s, TimeOffRequestId::parse(id)?)?)
                }
                TimeOffCmd::Mine { clinic, status } => {
                    let clinic = clinic.as_deref().map(ClinicId::parse).transpose()?;
                    out.rows(&app.my_time_off(&s, clinic, status.as_deref())?)
                }
            }
        }
        Command::Coverage(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                CoverageCmd::List { clinic, status } => {
                    let l =
                        app.list_coverage_needs(&s, ClinicId::parse(clinic)?, status.as_deref())?;
                    if !out.json {
                        for n in &l {
                            output::line(&format!(
                                "{}  {}  {}  {}",
                                n.need_date, n.reason, n.status, n.id
                            ));
                        }
                    }
                    out.value(&l, &format!("{} coverage needs", l.len()))
                }
                CoverageCmd::Create(a) => out.row(&app.create_coverage_need(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                CoverageCmd::Fill {
                    id,
                    staff,
                    override_reason,
                } => {
                    let (n, row) = app.fill_coverage_need(
                        &s,
                        CoverageNeedId::parse(id)?,
                        StaffId::parse(staff)?,
                        override_reason.as_deref(),
                    )?;
                    out.value(
                        &serde_json::json!({ "need": n, "assignment": row }),
                        &format!("filled: assignment {}", row.id),
                    )
                }
                CoverageCmd::Cancel { id, reason } => {
                    out.row(&app.cancel_coverage_need(&s, CoverageNeedId::parse(id)?, reason)?)
                }
            }
        }
        Command::Case(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                CaseCmd::Create(a) => out.row(&app.create_case(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                CaseCmd::Get { id } => out.row(&app.get_case(&s, CaseId::parse(id)?)?),
                CaseCmd::List { clinic, status } => {
                    let l = app.list_cases(&s, ClinicId::parse(clinic)?, status.as_deref())?;
                    if !out.json {
                        for c in &l {
                            output::line(&format!(
                                "{}  {}  {}  {}",
                                c.case_number, c.status, c.priority, c.id
                            ));
                        }
                    }
                    out.value(&l, &format!("{} cases", l.len()))
                }
                CaseCmd::Update(a) => out.row(&app.update_case(
                    &s,
                    CaseId::parse(need(&a.id, "CASE_ID")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                CaseCmd::Status { id, status } => {
                    out.row(&app.set_case_status(&s, CaseId::parse(id)?, status)?)
                }
                CaseCmd::Priority { id, priority } => {
                    out.row(&app.set_case_priority(&s, CaseId::parse(id)?, priority)?)
                }
                CaseCmd::Link {
                    appointment,
                    case,
                    unlink,
                } => {
                    let case = match (case, unlink) {
                        (Some(c), false) => Some(CaseId::parse(c)?),
                        (None, true) => None,
                        _ => bail!("give --case CASE_ID or --unlink"),
                    };
                    out.row(&app.link_appointment_to_case(
                        &s,
                        AppointmentId::parse(appointment)?,
                        case,
                    )?)
                }
                CaseCmd::Warnings { clinic, days } => {
                    let l = app.case_warnings(&s, ClinicId::parse(clinic)?, *days)?;
                    if !out.json {
                        for w in &l {
                            output::line(&w.message);
                        }
                    }
                    out.value(&l, &format!("{} cases need attention", l.len()))
                }
                CaseCmd::GrantNumbers {
                    clinic,
                    year,
                    device,
                    size,
                } => out.row(&app.grant_case_numbers(
                    &s,
                    ClinicId::parse(clinic)?,
                    *year,
                    device,
                    *size,
                )?),
                CaseCmd::Numbering { mode } => out.done(
                    app.set_case_numbering(&s, mode)?,
                    &format!("case numbering: {mode}"),
                ),
                CaseCmd::FinalizeNumbers => {
                    let l = app.finalize_case_numbers()?;
                    out.value(
                        &l,
                        &format!("{} provisional case numbers made final", l.len()),
                    )
                }
            }
        }
        Command::Waitlist(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                WaitlistCmd::Add(a) => out.row(&app.add_to_waitlist(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                WaitlistCmd::List { clinic } => {
                    let l = app.list_waitlist(&s, ClinicId::parse(clinic)?)?;
                    if !out.json {
                        for v in &l {
                            let offer = v
                                .offer
                                .as_ref()
                                .map(|o| format!("offer {} until {}", o.id, o.expires_at))
                                .unwrap_or_default();
                            output::line(&format!(
                                "{}  p{}  {}  {}  {offer}",
                                v.entry.id, v.entry.priority, v.entry.status, v.patient_name
                            ));
                        }
                    }
                    out.value(&l, &format!("{} on the waitlist", l.len()))
                }
                WaitlistCmd::Remove { id } => {
                    out.row(&app.remove_from_waitlist(&s, WaitlistEntryId::parse(id)?)?)
                }
                WaitlistCmd::Accept { offer } => out.row(&app.accept_offer(&s, offer)?),
                WaitlistCmd::Decline { offer } => {
                    let next = app.decline_offer(&s, offer)?;
                    out.value(
                        &next,
                        &next
                            .as_ref()
                            .map(|o| format!("declined; offered to entry {}", o.waitlist_id))
                            .unwrap_or_else(|| "declined; no one else fits this slot".into()),
                    )
                }
                WaitlistCmd::Expire { clinic } => {
                    let n = app.expire_waitlist_offers(&s, ClinicId::parse(clinic)?)?;
                    out.value(
                        &serde_json::json!({ "expired": n }),
                        &format!("{n} offers expired"),
                    )
                }
            }
        }
        Command::Kpi(c) => kpi_command(&args, out, c),
        Command::Goal(c) => goal_command(&args, out, c),
        Command::Capacity(c) => capacity_command(&args, out, c),
        Command::ShiftTemplate(c) => {
            let app = open(&args)?;
            let s = login(&args, &app)?;
            match c {
                Crud::Create(a) => out.row(&app.create_shift_template(
                    &s,
                    ClinicId::parse(need(&a.clinic, "--clinic")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Get { id } => out.row(&app.get_shift_template(&s, ShiftId::parse(id)?)?),
                Crud::Update(a) => out.row(&app.update_shift_template(
                    &s,
                    ShiftId::parse(need(&a.id, "the id")?)?,
                    &fields(&a.set, &a.data)?,
                )?),
                Crud::Delete { id } => out.done(
                    app.delete_shift_template(&s, ShiftId::parse(id)?)?,
                    "shift template deleted",
                ),
                Crud::List(l) => out.rows(&app.list_shift_templates(&s, &list_query(l)?)?),
            }
        }
    }
}

fn credential_filter(f: &CredentialFilterArgs) -> Result<clinicdesk_api::CredentialFilter> {
    Ok(clinicdesk_api::CredentialFilter {
        clinic_id: f.clinic.as_deref().map(ClinicId::parse).transpose()?,
        staff_id: f.staff.as_deref().map(StaffId::parse).transpose()?,
        credential_type_id: f
            .credential_type
            .as_deref()
            .map(CredentialTypeId::parse)
            .transpose()?,
        within_days: f.within,
        horizon_days: f.horizon,
        limit: f.limit,
    })
}

/// The credential lifecycle, the evaluator, alerts and the manager's view.
fn credential_command(args: &Cli, out: &Out, c: &CredentialCmd) -> Result<()> {
    let app = open(args)?;
    let s = login(args, &app)?;
    let id = |a: &WriteArgs| -> Result<CredentialId> {
        Ok(CredentialId::parse(need(&a.id, "the credential id")?)?)
    };
    let print_expiry = |e: &clinicdesk_api::CredentialExpiry| {
        output::line(&format!(
            "{}  {}  {}  {}  {} days  {}",
            e.expiry_date, e.staff_name, e.credential_type, e.status, e.days_left, e.credential_id
        ))
    };
    let print_at_risk = |r: &clinicdesk_api::AtRiskStaff| {
        let why: Vec<&str> = r.lapses.iter().map(|l| l.reason.as_str()).collect();
        output::line(&format!(
            "{}  {}: {} shifts{}, {} appointments{}",
            r.staff_name,
            why.join("; "),
            r.shifts.len(),
            if r.more_shifts { "+" } else { "" },
            r.appointments.len(),
            if r.more_appointments { "+" } else { "" },
        ))
    };
    match c {
        CredentialCmd::Crud(_) => unreachable!("handled with the other entities"),
        CredentialCmd::Verify(a) => {
            let r = app.record_credential_verification(&s, id(a)?, &fields(&a.set, &a.data)?)?;
            out.value(
                &r,
                &format!(
                    "credential {} checked ({}): {}",
                    r.credential.id, r.verification.method, r.credential.verification_status
                ),
            )
        }
        CredentialCmd::AdverseAction(a) => {
            let r = app.record_adverse_action(&s, id(a)?, &fields(&a.set, &a.data)?)?;
            out.value(
                &r,
                &format!(
                    "{} recorded from {}; the credential is {}",
                    r.action.action_type, r.action.start_date, r.credential.status
                ),
            )
        }
        CredentialCmd::Renew(a) => {
            out.row(&app.renew_credential(&s, id(a)?, &fields(&a.set, &a.data)?)?)
        }
        CredentialCmd::History { id } => {
            let h = app.credential_history(&s, CredentialId::parse(id)?)?;
            out.value(
                &h,
                &format!(
                    "{} verifications, {} adverse actions, {} alerts",
                    h.verifications.len(),
                    h.adverse_actions.len(),
                    h.alerts.len()
                ),
            )
        }
        CredentialCmd::Evaluate => {
            let r = app.evaluate_credentials()?;
            out.value(
                &r,
                &format!(
                    "{} credentials checked: {} expired, {} suspended, {} reinstated, {} revoked; {} alerts raised; {} shifts at risk, {} coverage needs raised, {} cancelled",
                    r.credentials_checked,
                    r.expired,
                    r.suspended,
                    r.reinstated,
                    r.revoked,
                    r.alerts_raised,
                    r.shifts_at_risk,
                    r.coverage_needs_raised,
                    r.coverage_needs_cancelled
                ),
            )
        }
        CredentialCmd::Alerts { filter, all } => {
            let l = app.list_credential_alerts(&s, &credential_filter(filter)?, *all)?;
            if !out.json {
                for a in &l {
                    output::line(&format!("{}  {}", a.alert.id, a.alert.message));
                }
            }
            out.value(&l, &format!("{} alerts", l.len()))
        }
        CredentialCmd::Ack { id } => {
            out.row(&app.acknowledge_credential_alert(&s, CredentialAlertId::parse(id)?)?)
        }
        CredentialCmd::Expiring(f) => {
            let r = app.credential_expiries(&s, &credential_filter(f)?)?;
            if !out.json {
                r.expired.iter().for_each(print_expiry);
                r.expiring.iter().for_each(print_expiry);
            }
            out.value(
                &r,
                &format!(
                    "{} expired, {} expiring within {} days",
                    r.expired.len(),
                    r.expiring.len(),
                    r.within_days
                ),
            )
        }
        CredentialCmd::AtRisk(f) => {
            let r = app.credentials_at_risk(&s, &credential_filter(f)?)?;
            if !out.json {
                r.iter().for_each(print_at_risk);
            }
            out.value(&r, &format!("{} staff at risk", r.len()))
        }
        CredentialCmd::Dashboard(f) => {
            let d = app.credential_dashboard(&s, &credential_filter(f)?)?;
            if !out.json {
                d.expiries.expired.iter().for_each(print_expiry);
                d.expiries.expiring.iter().for_each(print_expiry);
                d.at_risk.iter().for_each(print_at_risk);
            }
            let n = &d.expiries.counts;
            out.value(
                &d,
                &format!(
                    "{} expired; expiring within 7/30/60/90 days: {}/{}/{}/{}; {} staff at risk",
                    n.expired,
                    n.within_7,
                    n.within_30,
                    n.within_60,
                    n.within_90,
                    d.at_risk.len()
                ),
            )
        }
    }
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn kpi_command(args: &Cli, out: &Out, c: &KpiCmd) -> Result<()> {
    let app = open(args)?;
    let s = login(args, &app)?;
    match c {
        KpiCmd::Report {
            clinic,
            period,
            from,
            to,
        } => {
            let r = app.kpi_report(&s, ClinicId::parse(clinic)?, period, from, to)?;
            if !out.json {
                let pct = |m: &clinicdesk_api::Metric| {
                    m.value
                        .map(|v| format!("{:.1}%", v * 100.0))
                        .unwrap_or_else(|| "–".into())
                };
                for row in &r.rows {
                    output::line(&format!(
                        "{}  no-show {}  cancelled {}  utilization {}  fill {}  fill time {}  compliance {}",
                        row.period_start,
                        pct(&row.no_show_rate),
                        pct(&row.cancellation_rate),
                        pct(&row.provider_utilization),
                        pct(&row.waitlist_fill_rate),
                        row.waitlist_time_to_fill_hours
                            .value
                            .map(|h| format!("{h:.1} h"))
                            .unwrap_or_else(|| "–".into()),
                        pct(&row.credential_compliance),
                    ));
                }
            }
            out.value(
                &r,
                &format!(
                    "{} {}s from {} to {}",
                    r.rows.len(),
                    r.period.as_str(),
                    r.from,
                    r.to
                ),
            )
        }
        KpiCmd::Record(a) => out.row(&app.record_kpi_event(
            &s,
            ClinicId::parse(need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
    }
}

fn goal_command(args: &Cli, out: &Out, c: &GoalCmd) -> Result<()> {
    let app = open(args)?;
    let s = login(args, &app)?;
    match c {
        GoalCmd::List { clinic } => out.rows(&app.list_goals(&s, ClinicId::parse(clinic)?)?),
        GoalCmd::Create(a) => out.row(&app.create_goal(
            &s,
            ClinicId::parse(need(&a.clinic, "--clinic")?)?,
            &fields(&a.set, &a.data)?,
        )?),
        GoalCmd::Progress { clinic, date } => {
            let p = app.goal_progress(&s, ClinicId::parse(clinic)?, date.as_deref())?;
            if !out.json {
                for g in &p {
                    output::line(&format!(
                        "{}  {} {} → {}  {}",
                        g.goal.name,
                        g.period_start,
                        g.period_end,
                        g.value
                            .map(|v| format!("{v:.3}"))
                            .unwrap_or_else(|| "no data".into()),
                        if g.met { "met" } else { "not met" }
                    ));
                }
            }
            let met = p.iter().filter(|g| g.met).count();
            out.value(&p, &format!("{met} of {} goals met", p.len()))
        }
    }
}

fn capacity_command(args: &Cli, out: &Out, c: &CapacityCmd) -> Result<()> {
    let app = open(args)?;
    let s = login(args, &app)?;
    match c {
        CapacityCmd::Snapshot { clinic } => {
            let snap = app.take_capacity_snapshot(&s, ClinicId::parse(clinic)?)?;
            out.value(
                &snap,
                &format!(
                    "{}: {} staff on duty, {}/{} rooms in use, {} waiting, {}/{} slots booked",
                    snap.capacity_status,
                    snap.total_staff_on_duty,
                    snap.rooms_in_use,
                    snap.total_rooms,
                    snap.waiting_patients,
                    snap.slots_booked,
                    snap.total_appointment_slots
                ),
            )
        }
        CapacityCmd::List {
            clinic,
            from,
            to,
            limit,
        } => out.rows(&app.list_capacity_snapshots(
            &s,
            ClinicId::parse(clinic)?,
            from.as_deref(),
            to.as_deref(),
            *limit,
        )?),
    }
}
