//! Standard output, one line at a time, flushed at once: tests and scripts read it through a
//! pipe and must see each line as it happens.

use std::io::{self, Write};

use serde::Serialize;

pub struct Out {
    stdout: io::Stdout,
}

impl Out {
    pub fn new() -> Out {
        Out {
            stdout: io::stdout(),
        }
    }

    /// Print one line and flush.
    pub fn line(&mut self, text: impl AsRef<str>) -> io::Result<()> {
        let mut lock = self.stdout.lock();
        lock.write_all(text.as_ref().as_bytes())?;
        lock.write_all(b"\n")?;
        lock.flush()
    }

    /// Print a value as one line of JSON and flush.
    pub fn json<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        let text = serde_json::to_string(value).map_err(io::Error::other)?;
        self.line(text)
    }
}
