use clinicdesk_domain::{AppointmentId, ClinicId, ReminderChannel, ReminderId, ReminderStatus};
use serde::{Deserialize, Serialize};

use crate::table::Table;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Reminder {
    pub id: ReminderId,
    pub clinic_id: ClinicId,
    pub appointment_id: AppointmentId,
    pub channel: ReminderChannel,
    pub due_at: i64,
    pub status: ReminderStatus,
    pub sent_at: Option<i64>,
    pub failure_reason: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

impl Table for Reminder {
    const NAME: &'static str = "appointment_reminders";
    type Id = ReminderId;
    fn id(&self) -> ReminderId {
        self.id
    }
}
