//! A Server-Sent-Events reader: bytes in, whole events out (`id:`,
//! `event:`, `data:` lines up to a blank line), whatever the chunking.
//! Comments (keep-alives) and `retry:` are skipped; a frame cut off by a
//! dropped connection is never emitted.

/// One complete event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// `id:`, when numeric.
    pub id: Option<u64>,
    /// `event:` (`message` when absent).
    pub event: String,
    /// `data:` lines joined with newlines.
    pub data: String,
}

/// Longest line kept (a frame's JSON is far smaller); longer lines are
/// dropped with their frame.
const MAX_LINE: usize = 1024 * 1024;

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    id: Option<u64>,
    event: Option<String>,
    data: Vec<String>,
    /// Bytes in `data` (each line counted with its newline).
    data_len: usize,
    overflow: bool,
}

impl Parser {
    /// Feeds a chunk; returns the events it completes.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        for &byte in chunk {
            if byte != b'\n' {
                if self.line.len() < MAX_LINE {
                    self.line.push(byte);
                } else {
                    self.overflow = true;
                }
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(frame) = self.line_done(&line) {
                frames.push(frame);
            }
        }
        frames
    }

    fn line_done(&mut self, line: &[u8]) -> Option<Frame> {
        if line.is_empty() {
            let frame = (!self.data.is_empty() && !self.overflow).then(|| Frame {
                id: self.id,
                event: self.event.take().unwrap_or_else(|| "message".to_owned()),
                data: self.data.join("\n"),
            });
            self.id = None;
            self.event = None;
            self.data.clear();
            self.data_len = 0;
            self.overflow = false;
            return frame;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = text.split_once(':').unwrap_or((&text, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => self.id = value.trim().parse().ok(),
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                self.data_len += value.len() + 1;
                if self.data_len > MAX_LINE * 4 {
                    self.overflow = true;
                } else if !self.overflow {
                    self.data.push(value.to_owned());
                }
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_any_chunking_and_cut_frames_are_dropped() {
        let stream = b": revaer events\nretry: 3000\n\nid: 7\nevent: progress\ndata: {\"id\":7}\n\nid: 8\r\nevent: completed\r\ndata: {\"id\":8}\r\n\r\nid: 9\nevent: cut\ndata: {";
        for size in [1, 2, 3, 5, 64, stream.len()] {
            let mut parser = Parser::default();
            let frames: Vec<Frame> = stream.chunks(size).flat_map(|c| parser.feed(c)).collect();
            assert_eq!(frames.len(), 2, "chunks of {size}");
            assert_eq!(
                frames[0],
                Frame { id: Some(7), event: "progress".into(), data: "{\"id\":7}".into() }
            );
            assert_eq!(frames[1].id, Some(8));
            assert_eq!(frames[1].event, "completed");
        }
    }
}
