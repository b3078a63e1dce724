//! The front desk's day (seed 001's `v_todays_appointments`): today's appointments at a clinic,
//! on the clinic's own date, with who is waiting and for how long.

use chrono::NaiveDate;
use clinicdesk_domain::{
    local_date, local_day_bounds, AppointmentStatus, Capability, ClinicId, StaffId,
};
use serde::Serialize;

use super::scheduling::{day_entries, ScheduleEntry};
use super::time::{clinic_tz, ms};
use crate::access::Scope;
use crate::error::{ApiError, ApiResult};
use crate::read_audit::{PatientRead, Shown};
use crate::{App, Session};

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct TodayEntry {
    #[serde(flatten)]
    pub entry: ScheduleEntry,
    /// Local wall-clock start, "09:30".
    pub local_time: String,
    /// Checked in and not yet started: minutes waited so far.
    pub waiting_minutes: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct TodayCounts {
    pub booked: usize,
    pub checked_in: usize,
    pub in_progress: usize,
    pub completed: usize,
    pub no_show: usize,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Today {
    pub clinic_id: ClinicId,
    /// The clinic's local date.
    pub date: NaiveDate,
    pub entries: Vec<TodayEntry>,
    pub counts: TodayCounts,
}

impl App {
    /// Today's scheduled appointments at `clinic` (optionally one provider), in start order.
    /// "Today" is the clinic's local date; cancelled and rescheduled appointments are left out.
    pub fn todays_appointments(
        &self,
        s: &Session,
        clinic: ClinicId,
        provider: Option<StaffId>,
    ) -> ApiResult<Today> {
        let roles = self.require_roles(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "see the schedule",
        )?;
        let now = clinicdesk_store::now_ms();
        let names = crate::access::allowed(&roles, Capability::ReadPatients, Scope::Clinic(clinic));
        let today = self.store.read(|c| {
            let (_, tz) = clinic_tz(c, clinic)?;
            let now_utc = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
            let date = local_date(tz, now_utc);
            let (from, to) = local_day_bounds(tz, date);
            let mut counts = TodayCounts::default();
            let entries = day_entries(c, clinic, ms(from), ms(to), provider)?
                .into_iter()
                .filter(|e| {
                    !matches!(
                        e.appointment.status,
                        AppointmentStatus::Cancelled | AppointmentStatus::Rescheduled
                    )
                })
                .map(|mut e| {
                    if !names {
                        e.patient_name = super::scheduling::UNNAMED_PATIENT.to_string();
                        super::scheduling::redact_appointment(&mut e.appointment);
                    }
                    let a = &e.appointment;
                    match a.status {
                        AppointmentStatus::Pending
                        | AppointmentStatus::Confirmed
                        | AppointmentStatus::Reminded => counts.booked += 1,
                        AppointmentStatus::CheckedIn => counts.checked_in += 1,
                        AppointmentStatus::InProgress => counts.in_progress += 1,
                        AppointmentStatus::Completed => counts.completed += 1,
                        AppointmentStatus::NoShow => counts.no_show += 1,
                        AppointmentStatus::Cancelled | AppointmentStatus::Rescheduled => {}
                    }
                    let waiting_minutes = match (a.status, a.checked_in_at) {
                        (AppointmentStatus::CheckedIn, Some(t)) => Some((now - t).max(0) / 60_000),
                        _ => None,
                    };
                    let local_time = chrono::DateTime::from_timestamp_millis(a.start_at)
                        .map(|t| t.with_timezone(&tz).format("%H:%M").to_string())
                        .unwrap_or_default();
                    TodayEntry {
                        entry: e,
                        local_time,
                        waiting_minutes,
                    }
                })
                .collect();
            Ok::<_, ApiError>(Today {
                clinic_id: clinic,
                date,
                entries,
                counts,
            })
        })?;
        if names {
            let patients = today.entries.iter();
            self.audit_read(
                s,
                PatientRead::new(
                    "todays_appointments",
                    Some(clinic),
                    Shown::Patients(patients.map(|e| e.entry.appointment.patient_id).collect()),
                )
                .with("date", today.date)
                .with("provider_id", provider),
            )?;
        }
        Ok(today)
    }
}
