//! Booking in three parts, each its own file:
//! - `rules`: what a candidate appointment must satisfy — reads only, returns the problems;
//! - `effects`: what a booking change sets off — status history, KPI events, reminders, the
//!   waitlist offer of a freed slot;
//! - `flows`: the rules, the write and the effects combined (book one, move one).
//!
//! Imports point one way: flows → effects → rules → `time`; nothing here imports an area
//! module (scheduling, waitlist, series, …), which all use these.

pub(crate) mod effects;
pub(crate) mod flows;
pub(crate) mod rules;
