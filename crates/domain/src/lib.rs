//! ClinicDesk domain: typed ids, statuses and their transitions, validation and roles.
//!
//! This crate is pure: it performs no IO, reads no clock other than `Uuid::now_v7` for new ids,
//! and knows nothing about storage.

#[macro_use]
mod macros;

pub mod access;
pub mod credential;
pub mod error;
pub mod ids;
pub mod kinds;
pub mod locale;
pub mod recurrence;
pub mod schedule;
pub mod status;
pub mod validate;

pub use access::*;
pub use credential::*;
pub use error::*;
pub use ids::*;
pub use kinds::*;
pub use locale::*;
pub use recurrence::*;
pub use schedule::*;
pub use status::*;
pub use validate::*;
