//! Reports from case state, pure: the open deadlines (as a list or an iCalendar feed)
//! and the year's figures for each clock.

mod annual;
mod deadlines;

pub use annual::{ClockYear, annual, render_annual};
pub use deadlines::{DeadlineRow, deadlines, ics};
