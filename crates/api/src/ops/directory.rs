//! A clinic's directory: the names the schedule grid shows for the ids in its entries
//! (providers, rooms, appointment types). Small lists, read once per clinic by a screen, so the
//! day view itself carries ids only and stays one index range scan.

use clinicdesk_domain::{AppointmentTypeId, Capability, ClinicId, RoomId, StaffId};
use rusqlite::params;
use serde::Serialize;

use crate::access::Scope;
use crate::error::ApiResult;
use crate::{App, Session};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct DirectoryProvider {
    pub id: StaffId,
    pub name: String,
    /// Clinical staff get a column in the schedule grid.
    pub is_clinical: bool,
    pub is_active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct DirectoryRoom {
    pub id: RoomId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct DirectoryType {
    pub id: AppointmentTypeId,
    pub name: String,
    pub duration_minutes: i64,
    /// As the clinic set it, e.g. "#2a9d8f".
    pub color: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ClinicDirectory {
    pub clinic_id: ClinicId,
    /// The clinic's staff (not deleted), by last name. A visiting provider (another clinic's
    /// staff member booked here) is not listed: `get_staff` reads one by id.
    pub providers: Vec<DirectoryProvider>,
    pub rooms: Vec<DirectoryRoom>,
    /// The clinic's types and the organisation-wide ones.
    pub types: Vec<DirectoryType>,
}

impl App {
    pub fn clinic_directory(&self, s: &Session, clinic: ClinicId) -> ApiResult<ClinicDirectory> {
        self.require(
            s,
            Capability::ReadClinicData,
            Scope::Clinic(clinic),
            "see the clinic's providers and rooms",
        )?;
        let id = clinic.to_string();
        self.store.read(|c| {
            let snapshot = c.unchecked_transaction()?;
            let providers = snapshot
                .prepare_cached(
                    "SELECT id, first_name || ' ' || last_name, is_clinical, is_active FROM staff_profiles
                     WHERE primary_clinic_id = ?1 AND deleted_at IS NULL ORDER BY last_name, first_name",
                )?
                .query_map(params![id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<rusqlite::Result<Vec<(String, String, bool, bool)>>>()?
                .into_iter()
                .map(|(i, name, is_clinical, is_active)| {
                    Ok(DirectoryProvider { id: StaffId::parse(&i)?, name, is_clinical, is_active })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            let rooms = snapshot
                .prepare_cached(
                    "SELECT id, name FROM ops_treatment_rooms WHERE clinic_id = ?1 AND deleted_at IS NULL ORDER BY name",
                )?
                .query_map(params![id], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<(String, String)>>>()?
                .into_iter()
                .map(|(i, name)| Ok(DirectoryRoom { id: RoomId::parse(&i)?, name }))
                .collect::<ApiResult<Vec<_>>>()?;
            let types = snapshot
                .prepare_cached(
                    "SELECT id, name, duration_minutes, color FROM appointment_types
                     WHERE (clinic_id = ?1 OR clinic_id IS NULL) AND deleted_at IS NULL ORDER BY name",
                )?
                .query_map(params![id], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<Vec<(String, String, i64, Option<String>)>>>()?
                .into_iter()
                .map(|(i, name, duration_minutes, color)| {
                    Ok(DirectoryType { id: AppointmentTypeId::parse(&i)?, name, duration_minutes, color })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(ClinicDirectory { clinic_id: clinic, providers, rooms, types })
        })
    }
}
