//! A fake SMTP server on 127.0.0.1, scriptable reply by reply, for the SMTP delivery's tests.
//!
//! [`FakeSmtp::start`] binds a loopback port and serves plain-text SMTP (RFC 5321) in a spawned
//! tokio task until the [`FakeSmtp`] is dropped. It understands `EHLO`/`HELO`, `MAIL FROM`
//! (`SIZE=`, `BODY=` and other parameters are ignored), `RCPT TO`, `DATA`, `RSET`, `NOOP`,
//! `QUIT`, `AUTH` and `STARTTLS`; anything else gets `500`. Command lines end in CRLF; a bare LF
//! is tolerated. Commands may be pipelined: they are answered one by one, in order.
//!
//! What the server answers is scripted ([`Script`]): each stage (greeting, `EHLO`, `AUTH`,
//! `MAIL`, `RCPT` per address, `DATA`, end of data) has a list of [`Reply`]s consumed in order
//! over the server's whole life, across connections; when a list is used up, the stage's normal
//! answer applies. A reply is a code and text, a hang-up, a stall or a hold until
//! [`FakeSmtp::release`]. Whatever the reply, a `421` closes the connection after it is sent, as
//! a real server does.
//!
//! Not scripted, and consuming no reply: sequence and syntax errors (`RCPT` before `MAIL` or a
//! second `MAIL` gets `503`, `DATA` without an accepted recipient gets `554`, a `MAIL`/`RCPT`
//! without a path gets `501`), `RSET` and `NOOP` (`250`), `QUIT` (`221`, then close).
//!
//! `AUTH`: `AUTH LOGIN` gets the prompts `334 VXNlcm5hbWU6` ("Username:") and `334 UGFzc3dvcmQ6`
//! ("Password:"), the password prompt only if the user name came with the command; any other
//! mechanism (`PLAIN`, `XOAUTH2`…) with an initial response is one line, without one it gets
//! `334 ` and one more line. The lines the client sends are recorded in the transcript verbatim
//! (base64 and all), so that a test can look for credentials; `*` cancels with `501`. Then the
//! [`Script::auth`] reply (default `235`). `AUTH` is answered whether or not it was advertised:
//! a test that checks a client keeps its credentials to itself looks at the transcript.
//!
//! `STARTTLS`: the fake has no TLS. If `STARTTLS` is among [`Script::extensions`] the command
//! gets `454 4.7.0 TLS not available`, otherwise `502`; the connection stays in plain text either
//! way. A test that needs a TLS handshake needs another peer.
//!
//! `DATA` content: only CRLF `.` CRLF ends it (the very first line counts as following a CRLF);
//! a bare LF is content, and a `.` after a bare LF is not un-stuffed, so a test can see what a
//! client sent around bare line feeds. Content lines are not in the transcript and may be of any
//! length; a message is held in memory whole (twice: as sent and un-stuffed).
//!
//! A reply's text may hold `\n`: it is then sent as a multi-line reply (`250-…` lines, `250 …`
//! last).

#![allow(
    dead_code,
    reason = "a toolkit for the SMTP delivery's tests; not every test uses all of it"
)]

use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::io;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use testkit::serve_connections;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

/// The host name the fake calls itself in its greeting and `EHLO` answer.
pub const HOST: &str = "fake.test";

/// One scripted answer of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Answer with this code and text (`\n` in the text makes a multi-line reply).
    Code(u16, String),
    /// Close the connection without answering.
    HangUp,
    /// Never answer: read and discard whatever the client sends until it closes the connection
    /// (only the client's own timeout ends this).
    Stall,
    /// Wait until [`FakeSmtp::release`] lets this reply go, then answer with this code and text.
    Hold(u16, String),
}

impl Reply {
    /// `Reply::Code(code, text.to_owned())`.
    pub fn code(code: u16, text: &str) -> Self {
        Self::Code(code, text.to_owned())
    }

    /// `Reply::Hold(code, text.to_owned())`.
    pub fn hold(code: u16, text: &str) -> Self {
        Self::Hold(code, text.to_owned())
    }
}

/// What the server answers at each stage. Every list is consumed in order over the server's
/// whole life, across connections (the first use takes element 0, and so on); when it is used
/// up, the stage's default applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The greeting of each new connection. Default `220 fake.test ESMTP`.
    pub greeting: Vec<Reply>,
    /// The answer to `EHLO` and `HELO`, sent as given. Default: `250` with
    /// [`Script::extensions`] (after `EHLO`; `HELO` gets a one-line `250`).
    pub ehlo: Vec<Reply>,
    /// The extensions the default `EHLO` answer advertises, one per line, e.g. `"STARTTLS"` or
    /// `"AUTH PLAIN LOGIN"`. Default `PIPELINING`, `8BITMIME`, `SMTPUTF8`, `SIZE 10485760`.
    /// Only `STARTTLS` changes the server's behaviour (see the module documentation).
    pub extensions: Vec<String>,
    /// The answer to `AUTH`, after the client's credential lines. Default `235`.
    pub auth: Vec<Reply>,
    /// The answer to `MAIL FROM`. Default `250`.
    pub mail: Vec<Reply>,
    /// Per recipient address (compared case-insensitively), the answers to its `RCPT TO`s in
    /// order of attempts. An address listed twice takes the replies of its first entry that
    /// still has some. Default `250`.
    pub rcpt: Vec<(String, Vec<Reply>)>,
    /// The answer to `DATA`. Default `354`. Only a `3xx` answer makes the server read content.
    pub data: Vec<Reply>,
    /// The answer to the end of the content (CRLF `.` CRLF), per message in order. Default `250`.
    pub end_of_data: Vec<Reply>,
}

impl Script {
    /// The default script, but with these first answers to the end of the content.
    pub fn end_of_data(replies: impl IntoIterator<Item = Reply>) -> Self {
        Self {
            end_of_data: replies.into_iter().collect(),
            ..Self::default()
        }
    }

    /// The default script, but with these first greetings.
    pub fn greeting(replies: impl IntoIterator<Item = Reply>) -> Self {
        Self {
            greeting: replies.into_iter().collect(),
            ..Self::default()
        }
    }

    /// The default script, but with these first answers to `RCPT TO` for `address`.
    pub fn rcpt(address: &str, replies: impl IntoIterator<Item = Reply>) -> Self {
        Self {
            rcpt: vec![(address.to_owned(), replies.into_iter().collect())],
            ..Self::default()
        }
    }

    /// The default script, but advertising only these extensions.
    pub fn extensions(extensions: &[&str]) -> Self {
        Self {
            extensions: extensions.iter().map(|e| (*e).to_owned()).collect(),
            ..Self::default()
        }
    }
}

impl Default for Script {
    /// No scripted replies; the extensions `PIPELINING`, `8BITMIME`, `SMTPUTF8`, `SIZE 10485760`.
    fn default() -> Self {
        Self {
            greeting: Vec::new(),
            ehlo: Vec::new(),
            extensions: ["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 10485760"]
                .map(str::to_owned)
                .to_vec(),
            auth: Vec::new(),
            mail: Vec::new(),
            rcpt: Vec::new(),
            data: Vec::new(),
            end_of_data: Vec::new(),
        }
    }
}

/// A message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The `MAIL FROM` path without its angle brackets (`""` for the null sender `<>`).
    pub mail_from: String,
    /// The `RCPT TO` paths the server answered with `2xx`, without angle brackets, in order.
    pub rcpt_to: Vec<String>,
    /// The content with dot-stuffing removed and without the final `.` CRLF line: it ends with
    /// the CRLF before the dot. (lettre's `send_raw` always sends CRLF `.` CRLF after the bytes it
    /// is given, so for a body that does not end in CRLF, `data` is the body plus CRLF.)
    pub data: Vec<u8>,
    /// The content exactly as it came on the wire: dot-stuffed, including the final `.` CRLF.
    pub raw_data: Vec<u8>,
}

/// The running fake server. Serves until dropped.
pub struct FakeSmtp {
    port: u16,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl fmt::Debug for FakeSmtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeSmtp")
            .field("port", &self.port)
            .field("connections", &self.connections())
            .field("data_ends", &self.data_ends())
            .finish_non_exhaustive()
    }
}

impl FakeSmtp {
    /// Binds 127.0.0.1:0 and serves `script` in a spawned tokio task until dropped.
    pub async fn start(script: Script) -> FakeSmtp {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let Script {
            greeting,
            ehlo,
            extensions,
            auth,
            mail,
            rcpt,
            data,
            end_of_data,
        } = script;
        let queues = Queues {
            greeting: greeting.into(),
            ehlo: ehlo.into(),
            auth: auth.into(),
            mail: mail.into(),
            rcpt: rcpt
                .into_iter()
                .map(|(address, replies)| (address, replies.into()))
                .collect(),
            data: data.into(),
            end_of_data: end_of_data.into(),
        };
        let shared = Arc::new(Shared {
            extensions,
            state: Mutex::new(State {
                queues,
                messages: Vec::new(),
                transcript: Vec::new(),
                connections: 0,
            }),
            data_ends: watch::channel(0).0,
            releases: Semaphore::new(0),
        });
        let task = tokio::spawn(serve_connections(listener, {
            let shared = Arc::clone(&shared);
            move |stream| {
                shared.state().connections += 1;
                serve_connection(stream, Arc::clone(&shared))
            }
        }));
        FakeSmtp { port, shared, task }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The messages the server accepted, in order: those it answered `2xx` at the end of the
    /// content (recorded just before the answer is written, so a client that has its answer
    /// finds its message here; a client that gave up during a [`Reply::Hold`] never saw the
    /// answer but its message is here all the same). See also [`Self::data_ends`].
    pub fn messages(&self) -> Vec<Received> {
        self.shared.state().messages.clone()
    }

    /// Every command line the client sent, in order of arrival across connections, without its
    /// line ending; `AUTH` commands and the credential lines that follow them included verbatim,
    /// `DATA` content excluded. Non-UTF-8 bytes are replaced by U+FFFD.
    pub fn transcript(&self) -> Vec<String> {
        self.shared.state().transcript.clone()
    }

    /// How many connections the server has accepted.
    pub fn connections(&self) -> usize {
        self.shared.state().connections
    }

    /// How many times complete content (up to CRLF `.` CRLF) arrived, whatever the answer to it
    /// (counted before the answer: a `HangUp` or `Stall` at the end of data counts).
    pub fn data_ends(&self) -> usize {
        *self.shared.data_ends.borrow()
    }

    /// Lets one [`Reply::Hold`] answer: the one waiting, or, if none is, the next one to come.
    pub fn release(&self) {
        self.shared.releases.add_permits(1);
    }

    /// Waits until [`Self::data_ends`] is at least `n`; false if `timeout` passed first.
    pub async fn wait_for_data_end(&self, n: usize, timeout: Duration) -> bool {
        let mut ends = self.shared.data_ends.subscribe();
        tokio::time::timeout(timeout, ends.wait_for(|&count| count >= n))
            .await
            .is_ok_and(|waited| waited.is_ok())
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

struct Shared {
    extensions: Vec<String>,
    state: Mutex<State>,
    data_ends: watch::Sender<usize>,
    /// One permit per [`FakeSmtp::release`]; a [`Reply::Hold`] takes one.
    releases: Semaphore,
}

struct State {
    queues: Queues,
    messages: Vec<Received>,
    transcript: Vec<String>,
    connections: usize,
}

struct Queues {
    greeting: VecDeque<Reply>,
    ehlo: VecDeque<Reply>,
    auth: VecDeque<Reply>,
    mail: VecDeque<Reply>,
    rcpt: Vec<(String, VecDeque<Reply>)>,
    data: VecDeque<Reply>,
    end_of_data: VecDeque<Reply>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next scripted reply of a stage, or `default`.
    fn next(&self, stage: fn(&mut Queues) -> &mut VecDeque<Reply>, default: Reply) -> Reply {
        stage(&mut self.state().queues)
            .pop_front()
            .unwrap_or(default)
    }

    /// The next scripted reply for a `RCPT TO` this address, or `default`.
    fn next_rcpt(&self, address: &str, default: Reply) -> Reply {
        self.state()
            .queues
            .rcpt
            .iter_mut()
            .find(|(a, replies)| a.eq_ignore_ascii_case(address) && !replies.is_empty())
            .and_then(|(_, replies)| replies.pop_front())
            .unwrap_or(default)
    }

    fn record(&self, line: &str) {
        self.state().transcript.push(line.to_owned());
    }

    fn advertises(&self, keyword: &str) -> bool {
        self.extensions.iter().any(|extension| {
            extension
                .split_whitespace()
                .next()
                .is_some_and(|word| word.eq_ignore_ascii_case(keyword))
        })
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    stream.set_nodelay(true).ok();
    let (reader, writer) = stream.into_split();
    let mut session = Session {
        reader: BufReader::new(reader),
        writer,
        shared,
        mail_from: None,
        rcpt_to: Vec::new(),
    };
    // An I/O error ends the connection like a close does.
    session.run().await.ok();
}

/// Whether the connection goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
}

/// One connection and its mail transaction.
struct Session {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    shared: Arc<Shared>,
    /// `Some` once `MAIL FROM` was accepted.
    mail_from: Option<String>,
    /// The accepted recipients.
    rcpt_to: Vec<String>,
}

fn positive(code: u16) -> bool {
    (200..300).contains(&code)
}

impl Session {
    async fn run(&mut self) -> io::Result<()> {
        let greeting = self.shared.next(
            |q| &mut q.greeting,
            Reply::code(220, &format!("{HOST} ESMTP")),
        );
        if self.answer(greeting).await?.is_none() {
            return Ok(());
        }
        while let Some(line) = self.read_line().await? {
            self.shared.record(&line);
            if self.command(&line).await? == Flow::Close {
                break;
            }
        }
        Ok(())
    }

    async fn command(&mut self, line: &str) -> io::Result<Flow> {
        let (verb, argument) = line.split_once(' ').unwrap_or((line, ""));
        let argument = argument.trim();
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => self.hello(true, argument).await,
            "HELO" => self.hello(false, argument).await,
            "MAIL" => self.mail(argument).await,
            "RCPT" => self.rcpt(argument).await,
            "DATA" => self.data().await,
            "RSET" => {
                self.reset();
                self.fixed(250, "2.0.0 OK").await
            }
            "NOOP" => self.fixed(250, "2.0.0 OK").await,
            "QUIT" => {
                self.write_reply(221, "2.0.0 Bye").await?;
                Ok(Flow::Close)
            }
            "AUTH" => self.auth(argument).await,
            "STARTTLS" if self.shared.advertises("STARTTLS") => {
                self.fixed(454, "4.7.0 TLS not available").await
            }
            "STARTTLS" => self.fixed(502, "5.5.1 STARTTLS not advertised").await,
            _ => self.fixed(500, "5.5.2 Command unrecognized").await,
        }
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
    }

    async fn hello(&mut self, extended: bool, argument: &str) -> io::Result<Flow> {
        self.reset();
        let mut text = if argument.is_empty() {
            HOST.to_owned()
        } else {
            format!("{HOST} greets {argument}")
        };
        if extended {
            for extension in &self.shared.extensions {
                text.push('\n');
                text.push_str(extension);
            }
        }
        let reply = self.shared.next(|q| &mut q.ehlo, Reply::Code(250, text));
        self.respond(reply).await
    }

    async fn mail(&mut self, argument: &str) -> io::Result<Flow> {
        let Some(address) = path_argument(argument, "FROM:") else {
            return self.fixed(501, "5.5.4 Syntax: MAIL FROM:<address>").await;
        };
        if self.mail_from.is_some() {
            return self.fixed(503, "5.5.1 Sender already given").await;
        }
        let reply = self
            .shared
            .next(|q| &mut q.mail, Reply::code(250, "2.1.0 OK"));
        let Some(code) = self.answer(reply).await? else {
            return Ok(Flow::Close);
        };
        if positive(code) {
            self.mail_from = Some(address);
        }
        Ok(Flow::Continue)
    }

    async fn rcpt(&mut self, argument: &str) -> io::Result<Flow> {
        let Some(address) = path_argument(argument, "TO:") else {
            return self.fixed(501, "5.5.4 Syntax: RCPT TO:<address>").await;
        };
        if self.mail_from.is_none() {
            return self.fixed(503, "5.5.1 Need MAIL first").await;
        }
        let reply = self
            .shared
            .next_rcpt(&address, Reply::code(250, "2.1.5 OK"));
        let Some(code) = self.answer(reply).await? else {
            return Ok(Flow::Close);
        };
        if positive(code) {
            self.rcpt_to.push(address);
        }
        Ok(Flow::Continue)
    }

    async fn data(&mut self) -> io::Result<Flow> {
        if self.mail_from.is_none() {
            return self.fixed(503, "5.5.1 Need MAIL first").await;
        }
        if self.rcpt_to.is_empty() {
            return self.fixed(554, "5.5.1 No valid recipients").await;
        }
        let reply = self.shared.next(
            |q| &mut q.data,
            Reply::code(354, "End data with <CR><LF>.<CR><LF>"),
        );
        let Some(code) = self.answer(reply).await? else {
            return Ok(Flow::Close);
        };
        if !(300..400).contains(&code) {
            return Ok(Flow::Continue);
        }
        let Some((raw_data, data)) = self.read_data().await? else {
            return Ok(Flow::Close);
        };
        self.shared.data_ends.send_modify(|count| *count += 1);
        let mail_from = self.mail_from.take().unwrap_or_default();
        let rcpt_to = std::mem::take(&mut self.rcpt_to);
        let reply = self
            .shared
            .next(|q| &mut q.end_of_data, Reply::code(250, "2.0.0 OK: queued"));
        let Some((code, text)) = self.resolve(reply).await else {
            return Ok(Flow::Close);
        };
        if positive(code) {
            self.shared.state().messages.push(Received {
                mail_from,
                rcpt_to,
                data,
                raw_data,
            });
        }
        self.write_reply(code, &text).await?;
        Ok(if code == 421 {
            Flow::Close
        } else {
            Flow::Continue
        })
    }

    async fn auth(&mut self, argument: &str) -> io::Result<Flow> {
        let mut words = argument.split_whitespace();
        let Some(mechanism) = words.next() else {
            return self.fixed(501, "5.5.4 Syntax: AUTH mechanism").await;
        };
        let initial_response = words.next().is_some();
        let prompts: &[&str] = match (mechanism.eq_ignore_ascii_case("LOGIN"), initial_response) {
            (true, false) => &["VXNlcm5hbWU6", "UGFzc3dvcmQ6"],
            (true, true) => &["UGFzc3dvcmQ6"],
            (false, false) => &[""],
            (false, true) => &[],
        };
        for prompt in prompts {
            self.write_reply(334, prompt).await?;
            let Some(line) = self.read_line().await? else {
                return Ok(Flow::Close);
            };
            self.shared.record(&line);
            if line.trim() == "*" {
                return self.fixed(501, "5.0.0 Authentication cancelled").await;
            }
        }
        let reply = self.shared.next(
            |q| &mut q.auth,
            Reply::code(235, "2.7.0 Authentication successful"),
        );
        self.respond(reply).await
    }

    /// Sends an unscripted answer.
    async fn fixed(&mut self, code: u16, text: &str) -> io::Result<Flow> {
        self.write_reply(code, text).await?;
        Ok(Flow::Continue)
    }

    /// Answers with `reply`; whether the connection goes on.
    async fn respond(&mut self, reply: Reply) -> io::Result<Flow> {
        Ok(match self.answer(reply).await? {
            Some(_) => Flow::Continue,
            None => Flow::Close,
        })
    }

    /// Answers with `reply`: the code sent, or `None` when the connection is to be closed (a
    /// hang-up, a stall the client ended, a `421`).
    async fn answer(&mut self, reply: Reply) -> io::Result<Option<u16>> {
        let Some((code, text)) = self.resolve(reply).await else {
            return Ok(None);
        };
        self.write_reply(code, &text).await?;
        Ok((code != 421).then_some(code))
    }

    /// Carries out the waiting part of a reply: the code and text to send, or `None` for no
    /// answer at all (the connection is then to be closed).
    async fn resolve(&mut self, reply: Reply) -> Option<(u16, String)> {
        match reply {
            Reply::Code(code, text) => Some((code, text)),
            Reply::HangUp => None,
            Reply::Stall => {
                tokio::io::copy(&mut self.reader, &mut tokio::io::sink())
                    .await
                    .ok();
                None
            }
            Reply::Hold(code, text) => {
                self.shared
                    .releases
                    .acquire()
                    .await
                    .expect("the semaphore is never closed")
                    .forget();
                Some((code, text))
            }
        }
    }

    async fn write_reply(&mut self, code: u16, text: &str) -> io::Result<()> {
        let lines: Vec<&str> = text
            .split('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .collect();
        let mut out = String::new();
        for (i, line) in lines.iter().enumerate() {
            let separator = if i + 1 == lines.len() { ' ' } else { '-' };
            write!(out, "{code}{separator}{line}\r\n").expect("write to a String");
        }
        self.writer.write_all(out.as_bytes()).await?;
        self.writer.flush().await
    }

    /// The next command line without its CRLF (or bare LF); `None` at the end of the stream.
    async fn read_line(&mut self) -> io::Result<Option<String>> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).await?;
        let Some(line) = line.strip_suffix(b"\n") else {
            // The end of the stream, possibly after a line cut short.
            return Ok(None);
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Ok(Some(String::from_utf8_lossy(line).into_owned()))
    }

    /// Reads content up to CRLF `.` CRLF: `(as on the wire, un-stuffed)`, or `None` if the
    /// stream ended first.
    async fn read_data(&mut self) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
        let mut raw = Vec::new();
        let mut data = Vec::new();
        let mut line = Vec::new();
        // The CRLF of the DATA command precedes the first line.
        let mut after_crlf = true;
        loop {
            line.clear();
            if self.reader.read_until(b'\n', &mut line).await? == 0 {
                return Ok(None);
            }
            raw.extend_from_slice(&line);
            if after_crlf && line == b".\r\n" {
                return Ok(Some((raw, data)));
            }
            let content = match line.split_first() {
                Some((b'.', rest)) if after_crlf => rest,
                _ => &line[..],
            };
            data.extend_from_slice(content);
            after_crlf = line.ends_with(b"\r\n");
        }
    }
}

/// The address in `FROM:<address> PARAMS` or `TO:<address>` (keyword any case), without angle
/// brackets; a path without brackets is taken up to the first space.
fn path_argument(argument: &str, keyword: &str) -> Option<String> {
    let rest = argument
        .get(..keyword.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(keyword))
        .and_then(|_| argument.get(keyword.len()..))?
        .trim_start();
    match rest.strip_prefix('<') {
        Some(bracketed) => bracketed.split_once('>').map(|(path, _)| path.to_owned()),
        None => rest.split_whitespace().next().map(str::to_owned),
    }
}

// ---------------------------------------------------------------------------------------------
// Self-tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod self_tests;
