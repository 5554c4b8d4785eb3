//! Document readers on worker threads: at most a few at once across all messages, each
//! given up on after the document's time limit (a reader that overran is left to finish
//! on its own — its input is bounded — but holds its place until then).

use std::sync::{Condvar, Mutex, mpsc};
use std::time::Duration;

use crate::understand::documents::{DocKind, Limits, Reader, Unread, read};

/// Reader threads running at once at most, across all messages: a reader that overran
/// is left to finish on its own (its input is bounded), but holds its place until then.
pub const MAX_READERS: usize = 4;

/// Places for reader threads.
struct Readers {
    running: Mutex<usize>,
    freed: Condvar,
}

static READERS: Readers = Readers { running: Mutex::new(0), freed: Condvar::new() };

/// A reader thread's place, given back when it is dropped (when the thread ends).
struct Place;

impl Place {
    /// Waits up to `wait` for a place.
    fn take(wait: Duration) -> Option<Place> {
        let running = READERS.running.lock().unwrap_or_else(|e| e.into_inner());
        let (mut running, _) =
            READERS.freed.wait_timeout_while(running, wait, |n| *n >= MAX_READERS).unwrap_or_else(|e| e.into_inner());
        if *running >= MAX_READERS {
            return None;
        }
        *running += 1;
        Some(Place)
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut running = READERS.running.lock().unwrap_or_else(|e| e.into_inner());
        *running = running.saturating_sub(1);
        READERS.freed.notify_one();
    }
}

/// Reader threads running now.
pub fn readers_running() -> usize {
    *READERS.running.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads each document on a worker thread of its own, within its time limit.
pub struct Threaded;

impl Reader for Threaded {
    fn run(&self, kind: DocKind, bytes: &[u8], limits: &Limits) -> Result<String, Unread> {
        let Some(place) = Place::take(limits.time) else {
            return Err(Unread::Busy(MAX_READERS));
        };
        // The worker owns its copy: if it overruns the time limit it is left to finish on
        // its own (its input is bounded) and its answer is ignored.
        let owned = bytes.to_vec();
        let limits_copy = *limits;
        let (sender, receiver) = mpsc::sync_channel(1);
        let spawned =
            std::thread::Builder::new().name("cspr-document".into()).stack_size(8 * 1024 * 1024).spawn(move || {
                let _place = place;
                let _ = sender.send(read(kind, &owned, &limits_copy));
            });
        if let Err(e) = spawned {
            return Err(Unread::CannotStart(e.to_string()));
        }
        match receiver.recv_timeout(limits.time) {
            Ok(Ok(text)) => Ok(text),
            Ok(Err(reason)) => Err(Unread::Unreadable(reason)),
            Err(_) => Err(Unread::TooSlow(limits.time)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understand::documents::extract;

    #[test]
    fn a_document_over_its_time_is_abandoned_with_that_reason() {
        let limits = Limits { time: Duration::ZERO, ..Limits::default() };
        let xml = format!(
            "<w:document xmlns:w=\"w\"><w:body>{}</w:body></w:document>",
            "<w:p><w:r><w:t>x</w:t></w:r></w:p>".repeat(20_000)
        );
        let mut buffer = std::io::Cursor::new(Vec::new());
        {
            use std::io::Write;
            let mut zip = zip::ZipWriter::new(&mut buffer);
            zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).expect("zip");
            zip.write_all(xml.as_bytes()).expect("zip");
            zip.finish().expect("zip");
        }
        let error = extract(DocKind::Docx, buffer.get_ref(), &limits, &Threaded).expect_err("abandoned");
        assert_eq!(error, "An attached Word document took longer than 0 s to read");
    }

    #[test]
    fn reader_threads_are_capped_and_their_places_given_back() {
        let wait = Duration::from_secs(10);
        let places: Vec<Place> = (0..MAX_READERS).map(|_| Place::take(wait).expect("a place")).collect();
        assert!(Place::take(Duration::ZERO).is_none(), "no fifth reader");
        assert_eq!(readers_running(), MAX_READERS);
        drop(places);
        assert!(Place::take(Duration::ZERO).is_some(), "places are given back");
    }
}
