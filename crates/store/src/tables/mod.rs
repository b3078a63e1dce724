//! One file per table: the row struct (its serde field names are the column names) and the
//! queries that map its rows.

pub mod adverse_actions;
pub mod appointment_types;
pub mod appointments;
pub mod availability_blocks;
pub mod capacity_snapshots;
pub mod cases;
pub mod clinics;
pub mod coverage_needs;
pub mod credential_alerts;
pub mod credential_types;
pub mod credentials;
pub mod employers;
pub mod goals;
pub mod kpi_events;
pub mod patient_insurance;
pub mod patients;
pub mod payers;
pub mod reminders;
pub mod rooms;
pub mod series;
pub mod shift_swaps;
pub mod shifts;
pub mod staff;
pub mod staff_schedules;
pub mod time_off;
pub mod user_clinic_roles;
pub mod users;
pub mod verifications;
pub mod waitlist;
