//! A bare HTTP/1.1 request reader for the tests' own loopback endpoints (the fake Lambda
//! Runtime API of the cold-start harness, the SNS subscriber of the report-schedule test).

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Reads one request: its head (request line and headers) and its body (`content-length`
/// bytes). `None` when the connection closes first.
pub async fn read_request(conn: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let length = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if buf.len() >= end + 4 + length {
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
            return Some((head, body));
        }
    }
}
