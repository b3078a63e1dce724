//! The operations of the app API, grouped by area.

mod admin;
mod catalog;
mod org;
mod people;
mod reminders;
mod scheduling;
mod series;
mod waitlist;

pub use org::{InitResult, UserView};
pub use reminders::PendingReminder;
pub use scheduling::{parse_when, DaySchedule, ScheduleEntry, Slot};
pub use series::{OccurrenceCheck, SeriesResult};
pub use waitlist::{WaitlistView, OFFER_HOLD_MINUTES};

use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::{App, Session};
use clinicdesk_store::WriteTx;

/// Paging and filters common to list operations.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListQuery {
    /// Restrict to one clinic (otherwise: every clinic the caller may read).
    pub clinic_id: Option<clinicdesk_domain::ClinicId>,
    /// Text filter (name/code), case-insensitive substring.
    pub q: Option<String>,
    pub include_deleted: bool,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

impl ListQuery {
    pub(crate) fn limit(&self) -> i64 {
        self.limit.unwrap_or(200).clamp(1, 5000) as i64
    }
    pub(crate) fn offset(&self) -> i64 {
        self.offset.unwrap_or(0) as i64
    }
    pub(crate) fn like(&self) -> String {
        format!(
            "%{}%",
            self.q
                .as_deref()
                .unwrap_or("")
                .trim()
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    }
}

impl App {
    /// A local write on behalf of the signed-in user.
    pub(crate) fn tx<T>(
        &self,
        s: &Session,
        f: impl FnOnce(&WriteTx<'_>) -> ApiResult<T>,
    ) -> ApiResult<T> {
        self.store.write(Some(&s.user_id.to_string()), f)
    }
}

/// `a IN (...)` over clinic ids for SQL (ids are validated UUIDs, so inlining is safe).
pub(crate) fn clinic_list(ids: &[clinicdesk_domain::ClinicId]) -> String {
    if ids.is_empty() {
        "''".to_string()
    } else {
        ids.iter()
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(",")
    }
}
