//! Reports from case state, pure: the open deadlines (as a list or an iCalendar feed)
//! and the year's figures: each clock's, and the partnership's yearly report (10.1).

mod annual;
mod deadlines;
mod render;
mod year;

pub use annual::{ClockYear, annual};
pub use deadlines::{DeadlineRow, deadlines, ics};
pub use render::render_annual;
pub use year::{YearFigures, year_figures};
