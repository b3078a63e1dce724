//! The system's periodic job: at every clinic, lapsed waitlist offers close and pass their
//! slots on, the hourly capacity snapshot, and the credential evaluator. It depends on those
//! areas; none of them depends on it.

use clinicdesk_domain::{Capability, ClinicId};
use serde::Serialize;

use super::waitlist::sweep;
use crate::access::Scope;
use crate::error::{ApiError, ApiResult};
use crate::{App, Session};

/// What one housekeeping run did.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct Housekeeping {
    pub clinics: usize,
    pub offers_expired: usize,
    /// The credential evaluator's run (expiries, suspensions, alerts, coverage needs).
    pub credentials: super::credentials::CredentialEvaluation,
    /// Capacity snapshots taken (at most one per clinic and local clock hour).
    pub capacity_snapshots: usize,
}

impl App {
    /// The system's periodic job (the desktop app runs it at start-up and every minute; the
    /// CLI's `housekeeping` runs it once): lapsed waitlist offers close and their slots pass to
    /// the next entry, at every clinic, and each clinic gets its capacity snapshot once per
    /// local clock hour. Recorded as the system (no user). Idempotent.
    pub fn run_housekeeping(&self) -> ApiResult<Housekeeping> {
        self.housekeeping()
    }

    /// `run_housekeeping` on behalf of a signed-in user (the CLI's `housekeeping`, e.g. from
    /// cron): admins only; a refusal is audited and runs nothing. The desktop's periodic
    /// thread runs it as the system.
    pub fn run_housekeeping_as(&self, s: &Session) -> ApiResult<Housekeeping> {
        self.require(
            s,
            Capability::ManageClinics,
            Scope::AnyClinic,
            "run housekeeping",
        )?;
        self.housekeeping()
    }

    fn housekeeping(&self) -> ApiResult<Housekeeping> {
        let clinics: Vec<String> = self.store.read(|c| {
            let mut q =
                c.prepare_cached("SELECT id FROM clinics WHERE deleted_at IS NULL ORDER BY id")?;
            let ids = q
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok::<_, ApiError>(ids)
        })?;
        let mut report = Housekeeping::default();
        for id in clinics {
            let clinic = ClinicId::parse(&id)?;
            report.offers_expired += self.store.write(None, |tx| sweep(tx, clinic))?;
            report.capacity_snapshots += usize::from(self.hourly_capacity_snapshot(clinic)?);
            report.clinics += 1;
        }
        report.credentials = self.evaluate_credentials()?;
        Ok(report)
    }
}
