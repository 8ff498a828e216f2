//! Output for people (tables, summaries) and for scripts (JSON, one
//! document per command, or one object per line for streams), and errors
//! on stderr.

use std::io::Write as _;

use serde::Serialize;

use crate::error::CliError;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns and short summaries.
    Table,
    /// JSON (the API's own documents).
    Json,
}

/// The output settings.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Table or JSON.
    pub format: Format,
    /// Print nothing on success.
    pub quiet: bool,
}

impl Output {
    /// Prints a value as JSON, or through `table` for people.
    pub fn print<T: Serialize>(&self, value: &T, table: impl FnOnce(&T) -> String) {
        if self.quiet {
            return;
        }
        let text = match self.format {
            Format::Json => serde_json::to_string_pretty(value).unwrap_or_default(),
            // Server text may hold anything: each line is cleaned.
            Format::Table => table(value).lines().map(clean).collect::<Vec<_>>().join("\n"),
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", text.trim_end());
    }

    /// Prints a line on stdout as it is (stream output), unless quiet, and
    /// flushes it; fails when the reader is gone.
    pub fn line(&self, text: &str) -> Result<(), CliError> {
        if self.quiet {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}").and_then(|()| out.flush()).map_err(|_| CliError::OutputClosed)
    }

    /// Prints a line for people (nothing in JSON mode, or when quiet).
    pub fn note(&self, text: &str) {
        if !self.quiet && self.format == Format::Table {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
    }

    /// Prints an error: the problem document itself in JSON mode, a short
    /// summary for people otherwise (title, detail, each invalid parameter
    /// with its pointer, the trace id).
    pub fn error(&self, err: &CliError) {
        if matches!(err, CliError::Reported(..) | CliError::OutputClosed) {
            return;
        }
        let mut stderr = std::io::stderr().lock();
        match (err, self.format) {
            (CliError::Problem(problem), Format::Json) => {
                let _ = writeln!(stderr, "{}", serde_json::to_string(problem).unwrap_or_default());
            }
            (CliError::Problem(problem), Format::Table) => {
                let _ = write!(stderr, "error: {} ({})", clean(&problem.title), problem.status);
                if let Some(detail) = &problem.detail {
                    let _ = write!(stderr, ": {}", clean(detail));
                }
                let _ = writeln!(stderr);
                for param in &problem.invalid_params {
                    let _ =
                        writeln!(stderr, "  {}: {}", clean(&param.pointer), clean(&param.message));
                }
                if let Some(trace) = &problem.trace_id {
                    let _ = writeln!(stderr, "  trace id: {}", clean(trace));
                }
            }
            (other, Format::Json) => {
                let kind =
                    if matches!(other, CliError::Invalid(_)) { "invalid" } else { "network" };
                let doc = serde_json::json!({"error": kind, "detail": other.to_string()});
                let _ = writeln!(stderr, "{doc}");
            }
            (other, Format::Table) => {
                let _ = writeln!(stderr, "error: {}", clean(&other.to_string()));
            }
        }
    }
}

/// Text from the server or the swarm (names, paths, messages) made safe for
/// a terminal: control characters (escape sequences) become `?`.
pub fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// Aligns rows under a header (cells are [`clean`]ed).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> =
        rows.iter().map(|row| row.iter().map(|cell| clean(cell)).collect()).collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = line(header.iter().map(|h| (*h).to_owned()).collect());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.clone()));
        out.push('\n');
    }
    out
}

/// Bytes in binary units: `1.5 GiB`.
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut amount = value as f64;
    let mut unit = 0;
    while amount >= 1024.0 && unit < UNITS.len() - 1 {
        amount /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{value} B") } else { format!("{amount:.1} {}", UNITS[unit]) }
}

/// A duration in seconds, short: `3m20s`, `2h05m`.
pub fn eta(seconds: Option<u64>) -> String {
    match seconds {
        None => "-".to_owned(),
        Some(s) if s < 60 => format!("{s}s"),
        Some(s) if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        Some(s) if s < 86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        Some(s) => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_tables_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(eta(None), "-");
        assert_eq!(eta(Some(200)), "3m20s");
        assert_eq!(eta(Some(7500)), "2h05m");
        let text = table(&["NAME", "SIZE"], &[vec!["a".into(), "1 B".into()]]);
        assert_eq!(text, "NAME  SIZE\na     1 B\n");
        assert_eq!(clean("evil\u{1b}[2Jname"), "evil?[2Jname");
    }
}
