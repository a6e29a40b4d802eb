//! Headless Chromium as a subprocess, for the real-browser tests: Debian's `chromium`
//! (installed by `make setup`), the flags that work on this closed network, a fresh profile
//! per run, a time limit; [`RequestTrap`], a local "proxy" that records every request the
//! browser tries to make; and [`netlog_requests`], which tells from Chromium's NetLog who
//! asked for each one (a page, or the browser itself).
//!
//! Why both: even with `--disable-background-networking` and friends, full headless Chromium
//! (148 here) still contacts Google on its own at start (network time, `ListAccounts`, search
//! preconnects). The trap sees every request but not who made it; the NetLog's
//! `URL_REQUEST_START_JOB` events name the initiator: the page's origin (`file://` for a local
//! page) or `not an origin` for the browser's own requests.
//!
//! A missing browser is an error that names the fix (`make setup`), never a skip.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where Debian's `chromium` package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Flags for every run: headless, no sandbox (root in a container), no GPU, and none of
/// Chromium's own background traffic (which this machine's closed network refuses).
pub const BASE_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// One finished browser run.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Debian's Chromium, or an error saying how to install it.
#[derive(Debug, Clone)]
pub struct Chromium {
    bin: PathBuf,
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

impl Chromium {
    /// The installed browser. `Err` carries the fix: `make setup` installs it.
    pub fn find() -> Result<Chromium, String> {
        let bin = PathBuf::from(CHROMIUM);
        if !bin.is_file() {
            return Err(format!(
                "{CHROMIUM} is missing: the real-browser tests need Debian's chromium; \
                 run `make setup` (scripts/setup.sh installs it with apt-get)"
            ));
        }
        Ok(Chromium { bin })
    }

    /// `chromium --version`.
    pub fn version(&self) -> Result<String, String> {
        let out = Command::new(&self.bin)
            .arg("--version")
            .output()
            .map_err(|e| format!("{}: {e}", self.bin.display()))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Runs the browser once on `url` with [`BASE_FLAGS`], a fresh `--user-data-dir` under
    /// `scratch`, and `flags`; stdout and stderr go through files (no pipe can fill up).
    /// The process is killed after `limit`.
    pub fn run(
        &self,
        scratch: &Path,
        flags: &[String],
        url: &str,
        limit: Duration,
    ) -> Result<Run, String> {
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let profile = scratch.join(format!("profile-{n}"));
        let (out_path, err_path) = (
            scratch.join(format!("run-{n}.stdout")),
            scratch.join(format!("run-{n}.stderr")),
        );
        let file = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
        let start = Instant::now();
        let mut child = Command::new(&self.bin)
            .args(BASE_FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(flags)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(file(&out_path)?)
            .stderr(file(&err_path)?)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.bin.display()))?;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() > limit => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "chromium did not finish within {limit:?} on {url}; stderr: {}",
                        std::fs::read_to_string(&err_path).unwrap_or_default()
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(25)),
                Err(e) => return Err(format!("waiting for chromium: {e}")),
            }
        };
        let read = |p: &Path| {
            std::fs::read(p)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| format!("{}: {e}", p.display()))
        };
        let _ = std::fs::remove_dir_all(&profile);
        Ok(Run {
            status,
            stdout: read(&out_path)?,
            stderr: read(&err_path)?,
            elapsed: start.elapsed(),
        })
    }
}

/// A loopback listener that Chromium is told to use as its proxy for every URL, loopback
/// included: any HTTP(S) or WebSocket request the browser makes arrives here first (as
/// `GET http://host/path` or `CONNECT host:443`) and is recorded, then answered 502. DNS is
/// switched off as well, so nothing can leave by another way. See [`RequestTrap::flags`].
pub struct RequestTrap {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RequestTrap {
    pub fn start() -> Result<RequestTrap, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("local_addr: {e}"))?
            .port();
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("set_nonblocking: {e}"))?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (Arc::clone(&seen), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let line = first_line(conn);
                        if let Ok(mut s) = seen2.lock() {
                            s.push(line);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(RequestTrap {
            port,
            seen,
            stop,
            thread: Some(thread),
        })
    }

    /// Chromium flags: every URL (loopback too: `<-loopback>`) through this proxy, and every
    /// host name resolves to nothing, so a request can only be made through the trap.
    pub fn flags(&self) -> Vec<String> {
        vec![
            format!("--proxy-server=http://127.0.0.1:{}", self.port),
            "--proxy-bypass-list=<-loopback>".to_string(),
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".to_string(),
        ]
    }

    /// The first line of every request seen so far (`GET http://… HTTP/1.1`, `CONNECT …`).
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The host of every request seen so far (`GET http://host/…` or `CONNECT host:443`).
    /// A connection that closed without a request line ([`NO_REQUEST_LINE`]: a socket the
    /// browser opened to its proxy ahead of time and dropped, e.g. when it exits right after
    /// a screenshot) asked for nothing and names no host, so it is left out.
    pub fn hosts(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|line| line.as_str() != NO_REQUEST_LINE)
            .map(|line| {
                let target = line.split_whitespace().nth(1).unwrap_or("");
                match url::Url::parse(target) {
                    Ok(u) if u.has_host() => u.host_str().unwrap_or("").to_string(),
                    _ => target
                        .rsplit_once(':')
                        .map_or(target, |(h, _)| h)
                        .to_string(),
                }
            })
            .collect()
    }

    /// Forgets the requests seen so far.
    pub fn clear(&self) {
        if let Ok(mut s) = self.seen.lock() {
            s.clear();
        }
    }
}

impl Drop for RequestTrap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What [`RequestTrap::requests`] lists for a connection that sent no request line.
pub const NO_REQUEST_LINE: &str = "(a connection without a request line)";

/// Reads the request line of one proxied connection, answers 502 and closes.
fn first_line(mut conn: TcpStream) -> String {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.contains(&b'\n') && buf.len() < 8192 {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let _ = conn
        .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = conn.shutdown(Shutdown::Both);
    let text = String::from_utf8_lossy(&buf);
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        NO_REQUEST_LINE.to_string()
    } else {
        line
    }
}

/// What Chromium's network service was asked for, from a NetLog (`--log-net-log=FILE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetRequest {
    pub url: String,
    /// The origin of the document that asked (`file://` for a local page), or `None` when
    /// the browser asked on its own (NetLog: `"not an origin"`) or for a preconnect.
    pub initiator: Option<String>,
    /// A socket opened ahead of a request (`HTTP_STREAM_JOB_CONTROLLER` with
    /// `is_preconnect`), which carries no initiator.
    pub preconnect: bool,
}

impl NetRequest {
    pub fn host(&self) -> String {
        url::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Every request (`URL_REQUEST_START_JOB`) and preconnect of a NetLog file.
pub fn netlog_requests(path: &Path) -> Result<Vec<NetRequest>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let log: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not a finished NetLog: {e}", path.display()))?;
    let id = |name: &str| log["constants"]["logEventTypes"][name].as_u64();
    let (start, controller) = (
        id("URL_REQUEST_START_JOB"),
        id("HTTP_STREAM_JOB_CONTROLLER"),
    );
    if start.is_none() || controller.is_none() {
        return Err(format!(
            "{}: NetLog without the event types",
            path.display()
        ));
    }
    let events = log["events"].as_array().cloned().unwrap_or_default();
    Ok(events
        .iter()
        .filter_map(|e| {
            let (kind, p) = (e["type"].as_u64(), &e["params"]);
            let url = p["url"].as_str()?.to_string();
            if kind == start {
                let initiator = p["initiator"]
                    .as_str()
                    .filter(|i| *i != "not an origin")
                    .map(str::to_string);
                Some(NetRequest {
                    url,
                    initiator,
                    preconnect: false,
                })
            } else if kind == controller && p["is_preconnect"].as_bool() == Some(true) {
                Some(NetRequest {
                    url,
                    initiator: None,
                    preconnect: true,
                })
            } else {
                None
            }
        })
        .collect())
}

/// A scratch directory under the system temp dir, removed on drop unless the thread is
/// panicking (a failed test keeps its pages, PDFs and browser logs for a look).
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Result<Scratch, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Scratch { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for a look: {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// `file://` URL of an absolute path (the test's file names need no escaping).
pub fn file_url(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// Every page box of a PDF as `[x0, y0, x1, y1]` in points: the `/MediaBox` arrays, which
/// Chromium writes once per page object, uncompressed.
pub fn pdf_media_boxes(pdf: &[u8]) -> Vec<[f64; 4]> {
    let text = String::from_utf8_lossy(pdf);
    text.split("/MediaBox")
        .skip(1)
        .filter_map(|rest| {
            let rest = rest.trim_start().strip_prefix('[')?;
            let inner = &rest[..rest.find(']')?];
            let v: Vec<f64> = inner
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            <[f64; 4]>::try_from(v).ok()
        })
        .collect()
}

/// The number of page objects of a PDF (`/Type /Page`, not `/Pages`).
pub fn pdf_page_count(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let compact = text.replace("/Type /Page", "/Type/Page");
    compact
        .match_indices("/Type/Page")
        .filter(|(i, _)| !compact[i + "/Type/Page".len()..].starts_with('s'))
        .count()
}

/// Where the real-browser tests save their screenshots for a look: `.local/screenshots/` at
/// the workspace root (`.local/` is git-ignored), created if missing.
pub fn screenshots_dir() -> Result<PathBuf, String> {
    let dir = crate::harness::workspace_root().join(".local/screenshots");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// `(width, height)` in pixels of a PNG, from its signature and `IHDR` chunk (bytes 16..24,
/// big-endian); `None` when the bytes are not a PNG.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.len() < 24 || !png.starts_with(SIGNATURE) || &png[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&png[16..20]), be(&png[20..24])))
}

#[cfg(test)]
mod tests {
    use super::png_size;

    #[test]
    fn png_size_reads_the_ihdr_header() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&375u32.to_be_bytes());
        png.extend_from_slice(&9_876u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0]);
        assert_eq!(png_size(&png), Some((375, 9_876)));
        assert_eq!(png_size(&png[..20]), None);
        assert_eq!(png_size(b"GIF89a and some more bytes than that"), None);
        png[12] = b'X';
        assert_eq!(png_size(&png), None);
    }
}
