//! The hand-written HTTP/1.1 server under the fake Graph service, so that faults can act on the
//! socket: requests read with keep-alive, `Connection: close`, `Content-Length` and chunked
//! bodies; responses always carry a `Content-Length`, and can be cut short, slowed or held.

use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

pub(crate) const JSON: &str = "application/json; charset=utf-8";
pub(crate) const HTML: &str = "text/html; charset=utf-8";
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// Accepts connections on `listener` and serves each with `serve` on a task of its own, until
/// this future is dropped (its task aborted), which aborts every connection task too. A failed
/// accept is tried again 10 ms later.
pub async fn serve_connections<F, S>(listener: TcpListener, mut serve: F)
where
    F: FnMut(TcpStream) -> S,
    S: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let connection = serve(stream);
        while connections.try_join_next().is_some() {}
        connections.spawn(connection);
    }
}

/// A request as read from the socket.
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    http10: bool,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.header(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    pub(crate) fn wants_close(&self) -> bool {
        self.has_token("connection", "close")
            || (self.http10 && !self.has_token("connection", "keep-alive"))
    }
}

/// A response: status line and headers, then `body` followed by `tail`.
pub(crate) struct Reply<'a> {
    status: u16,
    content_type: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) tail: &'a [u8],
}

impl Reply<'_> {
    pub(crate) fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type: content_type.to_owned(),
            headers: Vec::new(),
            body,
            tail: &[],
        }
    }

    pub(crate) fn json(status: u16, value: &Value) -> Self {
        Self::new(status, JSON, serde_json::to_vec(value).expect("JSON"))
    }

    fn len(&self) -> usize {
        self.body.len() + self.tail.len()
    }

    /// The status line, headers and the blank line.
    pub(crate) fn head(&self, close: bool) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.len()
        );
        for (name, value) in &self.headers {
            write!(head, "{name}: {value}\r\n").expect("write to a String");
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    pub(crate) fn whole_body(&self) -> Vec<u8> {
        [self.body.as_slice(), self.tail].concat()
    }
}

pub(crate) enum Next {
    KeepAlive,
    Close,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        507 => "Insufficient Storage",
        _ => "Status",
    }
}

pub(crate) async fn send(
    stream: &mut TcpStream,
    reply: &Reply<'_>,
    close: bool,
) -> io::Result<Next> {
    let mut head = reply.head(close);
    head.extend_from_slice(&reply.body);
    stream.write_all(&head).await?;
    stream.write_all(reply.tail).await?;
    stream.flush().await?;
    if close {
        stream.shutdown().await.ok();
        return Ok(Next::Close);
    }
    Ok(Next::KeepAlive)
}

/// Writes `body` at about `bytes_per_second`, in ticks of 100 ms (or one byte per tick below
/// 10 bytes per second).
pub(crate) async fn write_slowly(
    stream: &mut TcpStream,
    body: &[u8],
    bytes_per_second: u32,
) -> io::Result<()> {
    if bytes_per_second == 0 {
        drain_until_closed(stream).await;
        return Err(io::ErrorKind::ConnectionAborted.into());
    }
    let (chunk, tick) = if bytes_per_second >= 10 {
        (
            usize::try_from(bytes_per_second / 10).expect("u32 fits in usize"),
            Duration::from_millis(100),
        )
    } else {
        (1, Duration::from_secs(1) / bytes_per_second)
    };
    for (i, piece) in body.chunks(chunk).enumerate() {
        if i > 0 {
            tokio::time::sleep(tick).await;
        }
        stream.write_all(piece).await?;
        stream.flush().await?;
    }
    Ok(())
}

/// Reads and discards until the client closes the connection (or it fails).
pub(crate) async fn drain_until_closed(stream: &mut TcpStream) {
    let mut sink = Vec::with_capacity(4096);
    loop {
        sink.clear();
        match stream.read_buf(&mut sink).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Reads more bytes into `buf`; 0 at end of stream.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    buf.reserve(8192);
    stream.read_buf(buf).await
}

fn invalid(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request from the connection; `None` when the client closed it between requests.
/// Bytes after the request stay in `buf` for the next one.
pub(crate) async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            break end + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(invalid("request head too long"));
        }
        if fill(stream, buf).await? == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end - 4]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version)) = (
        request_line.next(),
        request_line.next(),
        request_line.next(),
    ) else {
        return Err(invalid("bad request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(invalid("not HTTP/1.x"));
    }
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let mut request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        http10: version == "HTTP/1.0",
        headers,
        body: Vec::new(),
    };

    if request.has_token("transfer-encoding", "chunked") {
        loop {
            if let Some((body, used)) = decode_chunked(&buf[head_end..])? {
                request.body = body;
                buf.drain(..head_end + used);
                return Ok(Some(request));
            }
            if buf.len() - head_end > 2 * MAX_BODY {
                return Err(invalid("request body too large"));
            }
            if fill(stream, buf).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
    let length = match request.header("content-length") {
        Some(value) => value
            .parse::<usize>()
            .map_err(|_| invalid("bad Content-Length"))?,
        None => 0,
    };
    if length > MAX_BODY {
        return Err(invalid("request body too large"));
    }
    while buf.len() < head_end + length {
        if fill(stream, buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    request.body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Ok(Some(request))
}

/// Decodes a chunked body: the body and the bytes used, or `None` when more bytes are needed.
fn decode_chunked(data: &[u8]) -> io::Result<Option<(Vec<u8>, usize)>> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let Some(eol) = find(&data[pos..], b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&data[pos..pos + eol]).map_err(|_| invalid("chunk size"))?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or_default().trim(), 16)
            .map_err(|_| invalid("chunk size"))?;
        pos += eol + 2;
        if size == 0 {
            // Trailers, up to an empty line.
            loop {
                let Some(eol) = find(&data[pos..], b"\r\n") else {
                    return Ok(None);
                };
                pos += eol + 2;
                if eol == 0 {
                    return Ok(Some((body, pos)));
                }
            }
        }
        if data.len() < pos + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&data[pos..pos + size]);
        pos += size + 2;
    }
}

/// `application/x-www-form-urlencoded` pairs: `+` is a space, `%XX` a byte, UTF-8 (lossy).
pub(crate) fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.iter().position(|&b| b == b'=') {
            Some(i) => (form_decode(&pair[..i]), form_decode(&pair[i + 1..])),
            None => (form_decode(pair), String::new()),
        })
        .collect()
}

pub(crate) fn form_decode(text: &[u8]) -> String {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .map(|d| u8::try_from(d).expect("a hex digit"))
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < text.len() => {
                if let (Some(hi), Some(lo)) = (hex(text[i + 1]), hex(text[i + 2])) {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
