//! The protocol's clocks: what starts each one, how its due date is found, who is
//! reminded and escalated to when, and the deadline arithmetic. Pure.

mod deadline;
mod defaults;
mod definition;
mod schedule;
mod window;

pub use deadline::{Deadline, DeadlineError, DeadlineStatus, StepDate, StepKind, deadline, due_date, status_on};
pub use defaults::default_clocks;
pub use definition::{ClockDef, ClockId, DueRule, NotAClock, Owner, StartEvent, Step};
pub use schedule::{CronSchedule, NotASchedule};
pub use window::SendingWindow;
