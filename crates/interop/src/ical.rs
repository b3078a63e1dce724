//! iCalendar (RFC 5545).
