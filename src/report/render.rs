//! The annual report as text, CSV or HTML. The HTML is one self-contained page — no
//! scripts, no external resources — with an inline SVG chart of on-time against late
//! for each clock.

use super::{ClockYear, YearFigures};

/// A figure's name in words.
fn label(name: &str) -> String {
    let words = [
        ("notifications_", "Notifications: "),
        ("panel_responses_", "Panel responses: "),
        ("decisions_", "Decisions: "),
        ("consideration_", "Requests for consideration: "),
    ];
    let (head, rest) = words
        .iter()
        .find_map(|(prefix, words)| name.strip_prefix(prefix).map(|rest| (*words, rest)))
        .unwrap_or(("", name));
    let rest = match rest {
        "cspr" => "CSPR".to_owned(),
        "no_cspr" => "no CSPR".to_owned(),
        "requests" => "received".to_owned(),
        other => other.replace('_', " "),
    };
    let text = format!("{head}{rest}");
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// As text, CSV or HTML.
pub fn render_annual(rows: &[ClockYear], figures: &YearFigures, year: i32, format: &str) -> String {
    match format {
        "csv" => csv(rows, figures),
        "html" => html(rows, figures, year),
        _ => text(rows, figures, year),
    }
}

fn csv(rows: &[ClockYear], figures: &YearFigures) -> String {
    let mut out = String::from("clock,title,due,on_time,late,late_working_days,open,stopped\n");
    for r in rows {
        out.push_str(&format!(
            "{},\"{}\",{},{},{},{},{},{}\n",
            r.clock,
            r.title.replace('"', "\"\""),
            r.due,
            r.on_time,
            r.late,
            r.late_working_days,
            r.open,
            r.stopped
        ));
    }
    // The year's other figures, after a blank line: a table of their own.
    out.push_str("\nfigure,value\n");
    for (name, value) in figures.rows() {
        out.push_str(&format!("{name},{value}\n"));
    }
    out
}

fn text(rows: &[ClockYear], figures: &YearFigures, year: i32) -> String {
    let mut out = format!(
        "Clocks due in {year}\n\n{:<5} {:>4} {:>8} {:>5} {:>10} {:>5} {:>8}  what\n",
        "clock", "due", "on time", "late", "days late", "open", "stopped"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<5} {:>4} {:>8} {:>5} {:>10} {:>5} {:>8}  {}\n",
            r.clock, r.due, r.on_time, r.late, r.late_working_days, r.open, r.stopped, r.title
        ));
    }
    out.push_str(&format!("\nThe year {year} in figures\n\n"));
    for (name, value) in figures.rows() {
        out.push_str(&format!("{:>6}  {}\n", value, label(&name)));
    }
    out
}

/// Bars of on-time (green) and late (red) per clock, scaled to the largest count.
fn chart(rows: &[ClockYear]) -> String {
    let (bar, gap, height, top) = (14, 18, 160, 20);
    let width = 60 + rows.len() * (2 * bar + gap);
    let most = rows.iter().map(|r| r.on_time.max(r.late)).max().unwrap_or(0).max(1);
    let scale = |n: usize| n * height / most;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"chart-title\" \
         width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\">\n<title id=\"chart-title\">On time and late, by clock</title>\n",
        height + top + 40,
        height + top + 40
    );
    for (i, r) in rows.iter().enumerate() {
        let x = 40 + i * (2 * bar + gap);
        for (j, (n, colour, what)) in
            [(r.on_time, "#00703c", "on time"), (r.late, "#d4351c", "late")].iter().enumerate()
        {
            let h = scale(*n);
            svg.push_str(&format!(
                "<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{bar}\" height=\"{h}\" fill=\"{colour}\"><title>{} {what}: {n}</title></rect>\n",
                what.replace(' ', "-"),
                x + j * bar,
                top + height - h,
                r.clock
            ));
        }
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
            x + bar,
            top + height + 16,
            r.clock
        ));
    }
    svg.push_str(&format!(
        "<text x=\"40\" y=\"{}\" font-size=\"11\" fill=\"#00703c\">on time</text>\
         <text x=\"100\" y=\"{}\" font-size=\"11\" fill=\"#d4351c\">late</text>\n</svg>\n",
        top + height + 34,
        top + height + 34
    ));
    svg
}

fn html(rows: &[ClockYear], figures: &YearFigures, year: i32) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Annual report {year}</title></head><body>\n\
         <h1>Annual report {year}</h1>\n<h2>Clocks due in {year}</h2>\n<table border=\"1\" id=\"clocks\">\n\
         <tr><th>Clock</th><th>What</th><th>Due</th><th>On time</th><th>Late</th><th>Working days late</th><th>Open</th><th>Stopped</th></tr>\n"
    );
    for r in rows {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            r.clock,
            escape(&r.title),
            r.due,
            r.on_time,
            r.late,
            r.late_working_days,
            r.open,
            r.stopped
        ));
    }
    out.push_str("</table>\n<h2>On time and late</h2>\n");
    out.push_str(&chart(rows));
    out.push_str(&format!("<h2>The year {year} in figures</h2>\n<table border=\"1\" id=\"figures\">\n"));
    out.push_str("<tr><th>Figure</th><th>Count</th></tr>\n");
    for (name, value) in figures.rows() {
        out.push_str(&format!("<tr id=\"{name}\"><td>{}</td><td>{value}</td></tr>\n", escape(&label(&name))));
    }
    out.push_str("</table>\n</body></html>\n");
    out
}
