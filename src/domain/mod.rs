//! The ground floor: dates, the working-day calendar, clocks, roles and addresses.
//! Pure: no I/O, no clock reads; everything above uses it and it uses nothing of ours.

pub mod calendar;
pub mod case;
pub mod case_ref;
pub mod clock;
pub mod command;
pub mod dates;
pub mod directory;
pub mod duty;
pub mod email_address;
pub mod facts;
pub mod incident;
pub mod links;
pub mod mailbox;
pub mod message;
pub mod policy;
pub mod role;
pub mod written;

pub use calendar::{Calendar, Holiday, HolidaySource, WorkingDays};
pub use clock::{ClockDef, ClockId, Deadline, DeadlineStatus, DueRule, SendingWindow, StartEvent, Step};
pub use dates::{NotADate, add_months, format_long, london_date, parse_iso_date};
pub use directory::{Directory, LocalAuthority, RoleMembers};
pub use email_address::EmailAddress;
pub use role::Role;
pub use written::{parse_loose_datetime, parse_uk_date, parse_written_date, read_written_date};
