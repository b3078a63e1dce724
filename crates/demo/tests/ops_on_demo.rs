//! Checks of the API's internals against each other on the small demo (moved here from the
//! API's unit tests, which no longer generate demo data).

use chrono::{Duration, NaiveDate};
use clinicdesk_api::internals::{compliance, day_entries, missing_credentials};
use clinicdesk_api::{ApiResult, ScheduleEntry};
use clinicdesk_domain::{ClinicId, StaffId};
use clinicdesk_store::{table, KeySource, Store, StoreError};
use rusqlite::params;

/// A new encrypted database with the small demo in it (and the folder that holds it).
fn small_demo() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeySource::File(dir.path().join("k"));
    let store = Store::create(&dir.path().join("d.db"), &keys).unwrap();
    clinicdesk_demo::generate_demo(
        &store,
        clinicdesk_demo::DemoSize::Small,
        "demo-password-1",
        &mut |_, _, _| true,
    )
    .unwrap();
    (dir, store)
}

/// The batched compliance rule agrees with `missing_credentials` (the booking rule) for
/// every clinical staff member of the small demo (expired, expiring, missing credentials)
/// on dates around today.
#[test]
fn compliance_agrees_with_missing_credentials_on_the_demo() {
    let (_dir, store) = small_demo();
    store
        .read(|c| -> ApiResult<()> {
            let clinic: String = c.query_row("SELECT id FROM clinics LIMIT 1", [], |r| r.get(0))?;
            let clinic = ClinicId::parse(&clinic)?;
            let staff: Vec<String> = c
                .prepare(
                    "SELECT id FROM staff_profiles WHERE primary_clinic_id = ?1 AND is_clinical = 1
                     AND is_active = 1 AND deleted_at IS NULL",
                )?
                .query_map([clinic.to_string()], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let today = chrono::Utc::now().date_naive();
            let dates: Vec<NaiveDate> = (-60..=400)
                .step_by(20)
                .map(|d| today + Duration::days(d))
                .collect();
            let batched = compliance(c, clinic, &dates)?;
            let mut some_missing = false;
            for (date, (ok, all)) in dates.iter().zip(batched) {
                let mut expected = 0.0;
                for s in &staff {
                    let id = StaffId::parse(s)?;
                    if missing_credentials(c, id, None, *date)?.is_empty() {
                        expected += 1.0;
                    } else {
                        some_missing = true;
                    }
                }
                assert_eq!((ok, all), (expected, staff.len() as f64), "on {date}");
            }
            assert!(
                some_missing,
                "the demo should have staff lacking credentials"
            );
            Ok(())
        })
        .unwrap();
}

/// The day view reads the appointment column by column and looks names up by id: it must
/// give exactly what the all-joins query mapped with `table::map_row` gives, in order.
#[test]
fn day_entries_match_the_joined_query() {
    let (_dir, store) = small_demo();
    let joined = "SELECT a.*, p.first_name || ' ' || p.last_name AS patient_name,
            s.first_name || ' ' || s.last_name AS provider_name, r.name AS room_name, t.name AS type_name
         FROM appointments a
         JOIN patients p ON p.id = a.patient_id
         JOIN staff_profiles s ON s.id = a.provider_id
         LEFT JOIN ops_treatment_rooms r ON r.id = a.room_id
         LEFT JOIN appointment_types t ON t.id = a.appointment_type_id
         WHERE a.clinic_id = ?1 AND a.start_at >= ?2 AND a.start_at < ?3 AND a.deleted_at IS NULL
           AND (?4 IS NULL OR a.provider_id = ?4)
         ORDER BY a.start_at, provider_name, a.id";
    store
        .read(|c| {
            let clinic: String =
                c.query_row("SELECT id FROM clinics LIMIT 1", [], |r| r.get(0))?;
            let provider: String = c.query_row(
                "SELECT provider_id FROM appointments GROUP BY provider_id ORDER BY count(*) DESC LIMIT 1",
                [],
                |r| r.get(0),
            )?;
            let clinic = ClinicId::parse(&clinic).unwrap();
            let provider = StaffId::parse(&provider).unwrap();
            for who in [None, Some(provider)] {
                let mut ours = day_entries(c, clinic, i64::MIN, i64::MAX, who).unwrap();
                assert!(ours.len() > 100, "{}", ours.len());
                assert!(ours.windows(2).all(|w| {
                    (w[0].appointment.start_at, &w[0].provider_name)
                        <= (w[1].appointment.start_at, &w[1].provider_name)
                }));
                assert!(ours.iter().any(|e| e.room_name.is_some()));
                assert!(ours.iter().any(|e| e.type_name.is_some()));
                // Exact ties (same start, same provider: cancelled and rebooked) in id order.
                ours.sort_by(|a, b| {
                    (a.appointment.start_at, &a.provider_name, a.appointment.id).cmp(&(
                        b.appointment.start_at,
                        &b.provider_name,
                        b.appointment.id,
                    ))
                });
                let theirs = c
                    .prepare(joined)?
                    .query_map(
                        params![clinic.to_string(), i64::MIN, i64::MAX, who.map(|p| p.to_string())],
                        |r| {
                            Ok(ScheduleEntry {
                                appointment: table::map_row(r)?,
                                patient_name: r.get("patient_name")?,
                                provider_name: r.get("provider_name")?,
                                room_name: r.get("room_name")?,
                                type_name: r.get("type_name")?,
                            })
                        },
                    )?
                    .collect::<Result<Vec<_>, _>>()?;
                assert_eq!(
                    serde_json::to_value(&ours).unwrap(),
                    serde_json::to_value(&theirs).unwrap()
                );
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
}
