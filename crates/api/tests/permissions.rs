//! Permission matrix: each API operation × each role, allowed or refused as SPEC.md says; a
//! refusal is audited and changes nothing; a role at another clinic grants nothing here.

mod common;

use clinicdesk_api::{ApiError, ApiResult, App, Fields, ListQuery, Session};
use clinicdesk_domain::{Role, UserId};
use clinicdesk_store::tables::{
    credential_types::CredentialType, credentials::Credential, employers::Employer,
    patient_insurance::PatientInsurance, patients::Patient, payers::Payer, rooms::Room,
    shifts::ShiftTemplate, staff::Staff,
};
use common::*;

/// Records created by the admin before each operation is tried.
struct Fx {
    staff: Staff,
    patient: Patient,
    ctype: CredentialType,
    credential: Credential,
    employer: Employer,
    payer: Payer,
    insurance: PatientInsurance,
    room: Room,
    shift: ShiftTemplate,
    other_user: UserId,
}

fn fixtures(w: &World, n: usize) -> Fx {
    let (app, a, c) = (&w.app, &w.admin, w.clinic_a);
    let staff = app
        .create_staff(
            a,
            c,
            &Fields::new()
                .with("first_name", "Pat")
                .with("last_name", format!("Provider{n}"))
                .with("discipline", "physiotherapy"),
        )
        .unwrap();
    let patient = app
        .create_patient(
            a,
            c,
            &Fields::new()
                .with("first_name", "Ann")
                .with("last_name", format!("Lee{n}"))
                .with("phone", "403 555 0101"),
        )
        .unwrap();
    let ctype = app
        .create_credential_type(
            a,
            &Fields::new()
                .with("name", format!("Licence {n}"))
                .with("code", format!("LIC{n}")),
        )
        .unwrap();
    let credential = app
        .create_credential(
            a,
            staff.id,
            &Fields::new()
                .with("credential_type_id", ctype.id.to_string())
                .with("expiry_date", "2030-01-31"),
        )
        .unwrap();
    let employer = app
        .create_employer(a, &Fields::new().with("employer_name", format!("Acme {n}")))
        .unwrap();
    let payer = app
        .create_payer(
            a,
            &Fields::new()
                .with("payer_name", format!("Blue {n}"))
                .with("payer_type", "commercial"),
        )
        .unwrap();
    let insurance = app
        .add_patient_insurance(
            a,
            patient.id,
            &Fields::new()
                .with("payer_id", payer.id.to_string())
                .with("policy_number", "P-1"),
        )
        .unwrap();
    let room = app
        .create_room(a, c, &Fields::new().with("name", format!("Room {n}")))
        .unwrap();
    let shift = app
        .create_shift_template(
            a,
            c,
            &Fields::new()
                .with("name", format!("Day {n}"))
                .with("start_time", "08:00")
                .with("end_time", "16:00"),
        )
        .unwrap();
    let other_user = app
        .create_user(a, &Fields::new().with("username", format!("other{n}")), PW)
        .unwrap()
        .id;
    app.grant_role(a, other_user, c, Role::Viewer).unwrap();
    // The provider works 08:00–17:00 on 2027-05-03, so the booking operations can succeed.
    app.create_availability_block(
        a,
        c,
        &Fields::new()
            .with("provider_id", staff.id.to_string())
            .with("start", "2027-05-03 08:00")
            .with("end", "2027-05-03 17:00")
            .with("is_available", "yes"),
    )
    .unwrap();
    Fx {
        staff,
        patient,
        ctype,
        credential,
        employer,
        payer,
        insurance,
        room,
        shift,
        other_user,
    }
}

type Op = fn(&App, &Session, &Fx, &World) -> ApiResult<()>;

const ALL: &[Role] = &[
    Role::Admin,
    Role::Manager,
    Role::FrontDesk,
    Role::Clinician,
    Role::Viewer,
];
const ADMIN: &[Role] = &[Role::Admin];
const NOBODY_AT_ONE_CLINIC: &[Role] = &[];
const MGMT: &[Role] = &[Role::Admin, Role::Manager];
const DESK: &[Role] = &[Role::Admin, Role::Manager, Role::FrontDesk];
const PHI: &[Role] = &[Role::Admin, Role::Manager, Role::FrontDesk, Role::Clinician];

fn set(k: &str, v: &str) -> Fields {
    Fields::new().with(k, v)
}

#[allow(clippy::type_complexity)]
fn matrix() -> Vec<(&'static str, &'static [Role], Op)> {
    vec![
        ("create clinic", ADMIN, |a, s, _, _| {
            a.create_clinic(
                s,
                &set("name", "X").with("code", "XYZ").with("timezone", "UTC"),
            )
            .map(drop)
        }),
        ("get clinic", ALL, |a, s, _, w| {
            a.get_clinic(s, w.clinic_a).map(drop)
        }),
        ("update clinic", ADMIN, |a, s, _, w| {
            a.update_clinic(s, w.clinic_a, &set("phone", "403 555 0000"))
                .map(drop)
        }),
        ("create user", ADMIN, |a, s, _, _| {
            a.create_user(s, &set("username", &format!("n{}", rand_suffix())), PW)
                .map(drop)
        }),
        ("list users", ADMIN, |a, s, _, _| {
            a.list_users(s, &ListQuery::default()).map(drop)
        }),
        ("update user", ADMIN, |a, s, f, _| {
            a.update_user(s, f.other_user, &set("display_name", "Renamed"))
                .map(drop)
        }),
        ("delete user", ADMIN, |a, s, f, _| {
            a.delete_user(s, f.other_user)
        }),
        ("grant role", ADMIN, |a, s, f, w| {
            a.grant_role(s, f.other_user, w.clinic_a, Role::Clinician)
                .map(drop)
        }),
        ("list roles", ADMIN, |a, s, _, w| {
            a.list_roles(s, w.clinic_a).map(drop)
        }),
        ("create staff", MGMT, |a, s, _, w| {
            a.create_staff(
                s,
                w.clinic_a,
                &set("first_name", "New").with("last_name", "Hire"),
            )
            .map(drop)
        }),
        ("get staff", ALL, |a, s, f, _| {
            a.get_staff(s, f.staff.id).map(drop)
        }),
        ("update staff", MGMT, |a, s, f, _| {
            a.update_staff(s, f.staff.id, &set("title", "Senior"))
                .map(drop)
        }),
        ("delete staff", MGMT, |a, s, f, _| {
            a.delete_staff(s, f.staff.id)
        }),
        ("create credential type", MGMT, |a, s, _, _| {
            a.create_credential_type(
                s,
                &set("name", "CPR").with("code", format!("CPR{}", rand_suffix())),
            )
            .map(drop)
        }),
        ("update credential type", MGMT, |a, s, f, _| {
            a.update_credential_type(s, f.ctype.id, &set("renewal_period_months", "24"))
                .map(drop)
        }),
        ("delete credential type", MGMT, |a, s, f, _| {
            a.delete_credential_type(s, f.ctype.id)
        }),
        ("list credential types", ALL, |a, s, _, _| {
            a.list_credential_types(s, &ListQuery::default()).map(drop)
        }),
        ("create credential", MGMT, |a, s, f, _| {
            a.create_credential(
                s,
                f.staff.id,
                &set("credential_type_id", &f.ctype.id.to_string()),
            )
            .map(drop)
        }),
        ("get credential", ALL, |a, s, f, _| {
            a.get_credential(s, f.credential.id).map(drop)
        }),
        ("update credential", MGMT, |a, s, f, _| {
            a.update_credential(s, f.credential.id, &set("status", "suspended"))
                .map(drop)
        }),
        ("delete credential", MGMT, |a, s, f, _| {
            a.delete_credential(s, f.credential.id)
        }),
        ("create patient", DESK, |a, s, _, w| {
            a.create_patient(
                s,
                w.clinic_a,
                &set("first_name", "Bo").with("last_name", "Chan"),
            )
            .map(drop)
        }),
        ("get patient", PHI, |a, s, f, _| {
            a.get_patient(s, f.patient.id).map(drop)
        }),
        ("search patients", PHI, |a, s, _, _| {
            a.search_patients(s, "lee", 10).map(drop)
        }),
        ("update patient", DESK, |a, s, f, _| {
            a.update_patient(s, f.patient.id, &set("city", "Calgary"))
                .map(drop)
        }),
        ("delete patient", MGMT, |a, s, f, _| {
            a.delete_patient(s, f.patient.id)
        }),
        ("import patients", MGMT, |a, s, _, w| {
            let csv = format!(
                "legacy_id,first_name,last_name\nL-{},Bo,Chan\n",
                rand_suffix()
            );
            a.import_patients(s, w.clinic_a, &csv, &mut |_, _, _| true)
                .map(drop)
        }),
        ("import records from another system", MGMT, |a, s, _, w| {
            let record = clinicdesk_api::MigrationRecord {
                line: 1,
                path: "Patient".into(),
                record: clinicdesk_api::Migrated::Patient {
                    id: None,
                    fields: set("first_name", "Mo")
                        .with("last_name", "Grant")
                        .with("legacy_id", format!("M-{}", rand_suffix())),
                },
                field_paths: Vec::new(),
            };
            let r = a.import_migration(s, w.clinic_a, vec![record], &mut |_, _, _| true)?;
            assert_eq!((r.invalid, r.patients), (0, 1), "{:?}", r.errors);
            Ok(())
        }),
        ("add insurance", DESK, |a, s, f, _| {
            a.add_patient_insurance(
                s,
                f.patient.id,
                &set("payer_id", &f.payer.id.to_string()).with("policy_number", "Z"),
            )
            .map(drop)
        }),
        ("list insurance", PHI, |a, s, f, _| {
            a.list_patient_insurance(s, f.patient.id).map(drop)
        }),
        ("update insurance", DESK, |a, s, f, _| {
            a.update_patient_insurance(s, f.insurance.id, &set("group_number", "G7"))
                .map(drop)
        }),
        ("delete insurance", DESK, |a, s, f, _| {
            a.delete_patient_insurance(s, f.insurance.id)
        }),
        ("create employer", MGMT, |a, s, _, _| {
            a.create_employer(s, &set("employer_name", "Globex"))
                .map(drop)
        }),
        ("get employer", ALL, |a, s, f, _| {
            a.get_employer(s, f.employer.id).map(drop)
        }),
        ("update employer", MGMT, |a, s, f, _| {
            a.update_employer(s, f.employer.id, &set("industry", "oil"))
                .map(drop)
        }),
        ("delete employer", MGMT, |a, s, f, _| {
            a.delete_employer(s, f.employer.id)
        }),
        ("create payer", MGMT, |a, s, _, _| {
            a.create_payer(s, &set("payer_name", "Sun Life")).map(drop)
        }),
        ("list payers", ALL, |a, s, _, _| {
            a.list_payers(s, &ListQuery::default()).map(drop)
        }),
        ("update payer", MGMT, |a, s, f, _| {
            a.update_payer(s, f.payer.id, &set("phone", "800 555 0100"))
                .map(drop)
        }),
        ("delete payer", MGMT, |a, s, f, _| {
            a.delete_payer(s, f.payer.id)
        }),
        ("create room", MGMT, |a, s, _, w| {
            a.create_room(s, w.clinic_a, &set("name", &format!("R{}", rand_suffix())))
                .map(drop)
        }),
        ("list rooms", ALL, |a, s, _, _| {
            a.list_rooms(s, &ListQuery::default()).map(drop)
        }),
        ("update room", MGMT, |a, s, f, _| {
            a.update_room(s, f.room.id, &set("status", "maintenance"))
                .map(drop)
        }),
        ("delete room", MGMT, |a, s, f, _| {
            a.delete_room(s, f.room.id)
        }),
        ("create shift template", MGMT, |a, s, _, w| {
            a.create_shift_template(
                s,
                w.clinic_a,
                &set("name", &format!("N{}", rand_suffix()))
                    .with("start_time", "22:00")
                    .with("end_time", "06:00"),
            )
            .map(drop)
        }),
        ("get shift template", ALL, |a, s, f, _| {
            a.get_shift_template(s, f.shift.id).map(drop)
        }),
        ("update shift template", MGMT, |a, s, f, _| {
            a.update_shift_template(s, f.shift.id, &set("color", "#336699"))
                .map(drop)
        }),
        ("delete shift template", MGMT, |a, s, f, _| {
            a.delete_shift_template(s, f.shift.id)
        }),
        ("verify audit", MGMT, |a, s, _, _| {
            a.verify_audit(s).map(drop)
        }),
        ("backup", NOBODY_AT_ONE_CLINIC, |a, s, _, w| {
            a.backup(
                s,
                &w.dir.path().join(format!("b{}.db", rand_suffix())),
                |_, _| true,
            )
        }),
        ("list clinics", ALL, |a, s, _, _| {
            a.list_clinics(s, &ListQuery::default()).map(drop)
        }),
        ("get other user", ADMIN, |a, s, f, _| {
            a.get_user(s, f.other_user).map(drop)
        }),
        ("set other's password", ADMIN, |a, s, f, _| {
            a.set_password(s, f.other_user, "a brand new password")
        }),
        ("revoke role", ADMIN, |a, s, f, w| {
            a.revoke_role(s, f.other_user, w.clinic_a, Role::Viewer)
        }),
        ("list staff", ALL, |a, s, _, _| {
            a.list_staff(s, &ListQuery::default()).map(drop)
        }),
        ("list credentials", ALL, |a, s, f, _| {
            a.list_credentials(s, Some(f.staff.id), &ListQuery::default())
                .map(drop)
        }),
        ("get credential type", ALL, |a, s, f, _| {
            a.get_credential_type(s, f.ctype.id).map(drop)
        }),
        ("list employers", ALL, |a, s, _, _| {
            a.list_employers(s, &ListQuery::default()).map(drop)
        }),
        ("get payer", ALL, |a, s, f, _| {
            a.get_payer(s, f.payer.id).map(drop)
        }),
        ("get room", ALL, |a, s, f, _| {
            a.get_room(s, f.room.id).map(drop)
        }),
        ("list shift templates", ALL, |a, s, _, _| {
            a.list_shift_templates(s, &ListQuery::default()).map(drop)
        }),
        // Backup and restore reach every clinic's data: an admin of clinic A alone may not
        // (the world has clinic B too); the organisation's owner may
        // (`admins_and_managers_stop_at_their_clinics_door`).
        // The recovery kit replaces the key that restores every clinic's backups.
        ("recovery kit", NOBODY_AT_ONE_CLINIC, |a, s, _, _| {
            a.recovery_kit(s).map(drop)
        }),
        ("restore", NOBODY_AT_ONE_CLINIC, |a, s, _, w| {
            let b = w.dir.path().join(format!("r{}.db", rand_suffix()));
            w.app.backup(&w.admin, &b, |_, _| true)?;
            a.restore(s, &b, |_, _| true)
        }),
        ("book appointment", DESK, |a, s, f, w| {
            a.book_appointment(
                s,
                w.clinic_a,
                &set("patient_id", &f.patient.id.to_string())
                    .with("provider_id", f.staff.id.to_string())
                    .with("start", "2027-05-03 09:00")
                    .with("duration_minutes", "30"),
            )
            .map(drop)
        }),
        ("day schedule", ALL, |a, s, _, w| {
            a.day_schedule(s, w.clinic_a, "2027-05-03", None).map(drop)
        }),
        ("free slots", ALL, |a, s, f, w| {
            a.available_slots(
                s,
                w.clinic_a,
                Some(f.staff.id),
                30,
                "2027-05-03",
                "2027-05-04",
            )
            .map(drop)
        }),
        ("create availability block", MGMT, |a, s, _, w| {
            a.create_availability_block(
                s,
                w.clinic_a,
                &set("start", "2027-05-04 12:00")
                    .with("end", "2027-05-04 13:00")
                    .with("reason", "Staff meeting"),
            )
            .map(drop)
        }),
        ("generate closures", MGMT, |a, s, _, w| {
            a.generate_closures(
                s,
                w.clinic_a,
                &set("from", "2027-05-08").with("to", "2027-05-09"),
            )
            .map(drop)
        }),
    ]
}

fn rand_suffix() -> String {
    uuid::Uuid::now_v7().simple().to_string()[20..].to_string()
}

#[test]
fn every_operation_for_every_role() {
    let w = world();
    let sessions: Vec<(Role, Session)> = ALL
        .iter()
        .map(|r| {
            (
                *r,
                w.user_with(
                    &format!("u_{}", r.as_str().replace('_', "")),
                    *r,
                    w.clinic_a,
                ),
            )
        })
        .collect();
    // The same roles held at clinic B only: nothing clinic-A-scoped is allowed except org-wide reads.
    let mut checked = 0;
    for (n, (name, allowed, op)) in matrix().into_iter().enumerate() {
        for (role, s) in &sessions {
            let fx = fixtures(&w, n * 10 + ALL.iter().position(|r| r == role).unwrap());
            let before = w.fingerprint();
            let denied_before = w.audit_actions().iter().filter(|a| *a == "denied").count();
            let r = op(&w.app, s, &fx, &w);
            let expect = allowed.contains(role);
            match (&r, expect) {
                (Ok(()), true) => {}
                (Err(ApiError::Denied(msg)), false) => {
                    assert!(msg.starts_with("you are not allowed to"), "{name}: {msg}");
                    assert_eq!(
                        before,
                        w.fingerprint(),
                        "{name} as {role}: a refusal changed data"
                    );
                    let denied_after = w.audit_actions().iter().filter(|a| *a == "denied").count();
                    assert_eq!(
                        denied_after,
                        denied_before + 1,
                        "{name} as {role}: refusal not audited"
                    );
                }
                (other, _) => panic!(
                    "{name} as {role}: expected {}, got {other:?}",
                    if expect { "allowed" } else { "refused" }
                ),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, matrix().len() * ALL.len());
    assert!(w.app.store().verify_audit().unwrap().ok);
}

#[test]
fn a_role_at_another_clinic_grants_nothing_here() {
    let w = world();
    let b_admin = w.user_with("badmin", Role::Admin, w.clinic_b);
    let fx = fixtures(&w, 1);
    let before = w.fingerprint();
    for r in [
        w.app.get_patient(&b_admin, fx.patient.id).map(drop),
        w.app
            .update_clinic(&b_admin, w.clinic_a, &set("phone", "403 555 1111"))
            .map(drop),
        w.app
            .create_staff(
                &b_admin,
                w.clinic_a,
                &set("first_name", "A").with("last_name", "B"),
            )
            .map(drop),
        w.app
            .update_room(&b_admin, fx.room.id, &set("status", "closed"))
            .map(drop),
        w.app
            .grant_role(&b_admin, fx.other_user, w.clinic_a, Role::Admin)
            .map(drop),
    ] {
        assert!(matches!(r, Err(ApiError::Denied(_))), "{r:?}");
    }
    assert_eq!(before, w.fingerprint());
    // Search only returns patients of clinics the caller may read.
    assert!(w
        .app
        .search_patients(&b_admin, &fx.patient.last_name, 10)
        .unwrap()
        .is_empty());
    assert_eq!(
        w.app
            .search_patients(&w.admin, &fx.patient.last_name, 10)
            .unwrap()
            .len(),
        1
    );
    // A revoked role takes effect at once.
    let desk = w.user_with("desk", Role::FrontDesk, w.clinic_a);
    assert!(w.app.get_patient(&desk, fx.patient.id).is_ok());
    w.app
        .revoke_role(&w.admin, desk.user_id, w.clinic_a, Role::FrontDesk)
        .unwrap();
    assert!(matches!(
        w.app.get_patient(&desk, fx.patient.id),
        Err(ApiError::Denied(_))
    ));
}

#[test]
fn admins_and_managers_stop_at_their_clinics_door() {
    let w = world();
    let (owner, a, b) = (&w.admin, w.clinic_a, w.clinic_b);
    let b_admin = w.user_with("badmin", Role::Admin, b);
    let b_manager = w.user_with("bmanager", Role::Manager, b);
    let a_admin = w.user_with("aadmin", Role::Admin, a);
    let a_desk = w.user_with("adesk", Role::FrontDesk, a);
    let b_desk = w.user_with("bdesk", Role::FrontDesk, b);
    let both = w.user_with("both", Role::Viewer, a);
    w.app
        .grant_role(owner, both.user_id, b, Role::Viewer)
        .unwrap();

    // Clinic B's admin cannot see, change, lock out, re-password or delete clinic A's staff,
    // nor anyone who also works at clinic A.
    let before = w.fingerprint();
    let denied_before = w.audit_actions().iter().filter(|a| *a == "denied").count();
    for target in [a_desk.user_id, both.user_id] {
        for r in [
            w.app
                .set_password(&b_admin, target, "a-new-password-42")
                .map(drop),
            w.app
                .update_user(&b_admin, target, &set("is_active", "false"))
                .map(drop),
            w.app.delete_user(&b_admin, target).map(drop),
        ] {
            match r {
                Err(ApiError::Denied(m)) => {
                    assert!(m.contains("a clinic you do not administer"), "{m}")
                }
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
    }
    assert!(matches!(
        w.app.get_user(&b_admin, a_desk.user_id),
        Err(ApiError::Denied(_))
    ));
    let listed: Vec<String> = w
        .app
        .list_users(&b_admin, &ListQuery::default())
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert!(listed.contains(&"bdesk".to_string()), "{listed:?}");
    assert!(listed.contains(&"both".to_string()), "{listed:?}");
    assert!(!listed.contains(&"adesk".to_string()), "{listed:?}");
    assert!(!listed.contains(&"aadmin".to_string()), "{listed:?}");
    assert_eq!(before, w.fingerprint(), "a refusal changed data");
    assert_eq!(
        w.audit_actions().iter().filter(|a| *a == "denied").count(),
        denied_before + 7,
        "every refusal is audited"
    );
    // … while their own clinic's staff are theirs to manage, and the owner manages everyone.
    w.app
        .set_password(&b_admin, b_desk.user_id, "a-new-password-42")
        .unwrap();
    w.app
        .update_user(
            &b_admin,
            b_desk.user_id,
            &set("display_name", "Front desk B"),
        )
        .unwrap();
    w.app
        .set_password(owner, both.user_id, "a-new-password-42")
        .unwrap();
    w.app
        .set_password(&a_admin, a_desk.user_id, "a-new-password-42")
        .unwrap();

    // Backup and restore copy every clinic: only for whoever administers them all.
    let file = w.dir.path().join("scoped.backup");
    for s in [&b_admin, &a_admin] {
        match w.app.backup(s, &file, |_, _| true) {
            Err(ApiError::Denied(m)) => assert!(m.contains("every clinic"), "{m}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(!file.exists());
        assert!(matches!(
            w.app.restore(s, &file, |_, _| true),
            Err(ApiError::Denied(_))
        ));
    }
    w.app.backup(owner, &file, |_, _| true).unwrap();
    w.app.restore(owner, &file, |_, _| true).unwrap();

    // Clinic B's manager reads the audit log of clinic B only: not clinic A's patients, not
    // organisation-wide entries; the owner reads everything.
    let pa = w
        .app
        .create_patient(
            owner,
            a,
            &set("first_name", "Alma").with("last_name", "Westbrook"),
        )
        .unwrap();
    let pb = w
        .app
        .create_patient(
            owner,
            b,
            &set("first_name", "Bea").with("last_name", "Eastgate"),
        )
        .unwrap();
    let q = clinicdesk_api::AuditQuery {
        limit: Some(1000),
        ..Default::default()
    };
    let seen = w.app.list_audit(&b_manager, &q).unwrap();
    let text = serde_json::to_string(&seen).unwrap();
    assert!(
        text.contains("Eastgate"),
        "clinic B's own patient is in B's log"
    );
    assert!(
        !text.contains("Westbrook"),
        "clinic A's patient leaked into B's log"
    );
    assert!(seen
        .iter()
        .all(|e| e.row_id.as_deref() != Some(&pa.id.to_string())));
    assert!(
        seen.iter().all(|e| e.table_name != "users"),
        "organisation-wide entries are the owner's"
    );
    let all = w.app.list_audit(owner, &q).unwrap();
    let all_text = serde_json::to_string(&all).unwrap();
    assert!(all_text.contains("Westbrook") && all_text.contains("Eastgate"));
    assert!(all
        .iter()
        .any(|e| e.row_id.as_deref() == Some(&pb.id.to_string())));
    assert!(all.len() > seen.len());
}
