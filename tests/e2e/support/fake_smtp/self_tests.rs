//! The fake SMTP server's self-tests, against lettre: what each scripted reply does to a real
//! client.

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::*;

fn client(smtp: &FakeSmtp) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(smtp.port())
        .tls(Tls::None)
        .timeout(Some(Duration::from_secs(5)))
        .build()
}

fn envelope(from: &str, to: &str) -> Envelope {
    Envelope::new(Some(from.parse().unwrap()), vec![to.parse().unwrap()]).unwrap()
}

/// Sends `body` from [`FROM`] to `to` through `client`: the error it must end with.
async fn refused(
    client: &AsyncSmtpTransport<Tokio1Executor>,
    to: &str,
    body: &[u8],
) -> lettre::transport::smtp::Error {
    client
        .send_raw(&envelope(FROM, to), body)
        .await
        .unwrap_err()
}

const FROM: &str = "digest@partner.example";
const TO: &str = "secops@partner.example";

#[tokio::test]
async fn receives_a_message_with_its_envelope() {
    let smtp = FakeSmtp::start(Script::default()).await;
    let body = "Subject: r\u{e4}k\r\n\r\nhello\r\nworld".as_bytes();
    let answer = client(&smtp)
        .send_raw(&envelope(FROM, TO), body)
        .await
        .unwrap();
    assert_eq!(answer.code().to_string(), "250");

    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].mail_from, FROM);
    assert_eq!(messages[0].rcpt_to, [TO]);
    assert_eq!(messages[0].data, [body, b"\r\n"].concat());
    assert_eq!(messages[0].raw_data, [body, b"\r\n.\r\n"].concat());
    assert_eq!((smtp.connections(), smtp.data_ends()), (1, 1));

    let transcript = smtp.transcript();
    assert!(transcript[0].starts_with("EHLO "), "{transcript:?}");
    // Non-ASCII content: lettre adds BODY=8BITMIME, which the fake ignores. Without a
    // connection pool lettre then says QUIT.
    assert_eq!(transcript.last().map(String::as_str), Some("QUIT"));
    assert_eq!(
        transcript[1..transcript.len() - 1],
        [
            format!("MAIL FROM:<{FROM}> BODY=8BITMIME"),
            format!("RCPT TO:<{TO}>"),
            "DATA".to_owned()
        ]
    );
}

#[tokio::test]
async fn dot_stuffing_is_undone_and_long_lines_survive() {
    let smtp = FakeSmtp::start(Script::default()).await;
    let long = "x".repeat(2000);
    let big = "y".repeat(76);
    let mut body = format!("Subject: dots\r\n\r\n.\r\n..\r\n.leading dot\r\n{long}\r\n");
    // About 3 MB more, in short lines.
    for _ in 0..40_000 {
        body.push_str(&big);
        body.push_str("\r\n");
    }
    body.push_str(".last line, no CRLF");
    client(&smtp)
        .send_raw(&envelope(FROM, TO), body.as_bytes())
        .await
        .unwrap();

    let received = &smtp.messages()[0];
    // lettre ends the content with CRLF . CRLF whatever the body ends with.
    assert_eq!(received.data, [body.as_bytes(), b"\r\n"].concat());
    let raw = String::from_utf8(received.raw_data.clone()).unwrap();
    assert!(
        raw.starts_with(&format!(
            "Subject: dots\r\n\r\n..\r\n...\r\n..leading dot\r\n{long}\r\n"
        )),
        "{}",
        &raw[..100]
    );
    assert!(raw.ends_with("\r\n..last line, no CRLF\r\n.\r\n"));
    assert_eq!(smtp.data_ends(), 1);
    assert!(!smtp.transcript().iter().any(|line| line.contains("dot")));
}

#[tokio::test]
async fn rcpt_550_is_permanent_for_that_recipient_only() {
    let smtp = FakeSmtp::start(Script::rcpt(
        "Gone@Partner.example",
        [Reply::code(550, "5.1.1 No such user")],
    ))
    .await;
    let client = client(&smtp);
    let error = refused(&client, "gone@partner.example", b"one").await;
    assert!(error.is_permanent(), "{error:?}");
    client.send_raw(&envelope(FROM, TO), b"two").await.unwrap();
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].rcpt_to, [TO]);
    assert_eq!(smtp.data_ends(), 1);
}

#[tokio::test]
async fn end_of_data_451_is_transient() {
    let smtp = FakeSmtp::start(Script::end_of_data([Reply::code(
        451,
        "4.3.0 Try again later",
    )]))
    .await;
    let client = client(&smtp);
    let error = refused(&client, TO, b"first").await;
    assert!(error.is_transient(), "{error:?}");
    assert_eq!((smtp.data_ends(), smtp.messages().len()), (1, 0));

    client
        .send_raw(&envelope(FROM, TO), b"again")
        .await
        .unwrap();
    assert_eq!(smtp.data_ends(), 2);
    assert_eq!(smtp.messages()[0].data, b"again\r\n");
}

#[tokio::test]
async fn hang_up_after_data_is_neither_permanent_nor_transient() {
    let smtp = FakeSmtp::start(Script::end_of_data([Reply::HangUp])).await;
    let error = refused(&client(&smtp), TO, b"lost").await;
    assert!(!error.is_permanent() && !error.is_transient(), "{error:?}");
    assert_eq!((smtp.data_ends(), smtp.messages().len()), (1, 0));
}

#[tokio::test]
async fn stall_needs_the_callers_own_timeout() {
    // lettre 0.11's async transport applies its timeout to the TCP connect only.
    let smtp = FakeSmtp::start(Script {
        data: vec![Reply::Stall],
        ..Script::default()
    })
    .await;
    let client = client(&smtp);
    let sent = tokio::time::timeout(
        Duration::from_millis(200),
        client.send_raw(&envelope(FROM, TO), b"stalled"),
    )
    .await;
    assert!(sent.is_err(), "{sent:?}");
    assert_eq!(smtp.transcript().last().unwrap(), "DATA");
    assert_eq!(smtp.data_ends(), 0);
}

#[tokio::test]
async fn hold_waits_for_release() {
    let smtp = FakeSmtp::start(Script::end_of_data([Reply::hold(250, "2.0.0 OK: held")])).await;
    let client = client(&smtp);
    let sending = tokio::spawn(async move { client.send_raw(&envelope(FROM, TO), b"held").await });

    assert!(smtp.wait_for_data_end(1, Duration::from_secs(1)).await);
    assert!(!smtp.wait_for_data_end(2, Duration::from_millis(20)).await);
    assert!(smtp.messages().is_empty());
    assert!(!sending.is_finished());

    smtp.release();
    let answer = sending.await.unwrap().unwrap();
    assert_eq!(answer.message().collect::<Vec<_>>(), ["2.0.0 OK: held"]);
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test]
async fn auth_only_when_advertised() {
    let credentials = Credentials::new("user".to_owned(), "secret".to_owned());

    // Not advertised: lettre gives up before sending AUTH.
    let smtp = FakeSmtp::start(Script::default()).await;
    let client = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(smtp.port())
        .tls(Tls::None)
        .credentials(credentials.clone())
        .build();
    let error = refused(&client, TO, b"x").await;
    assert!(error.is_client(), "{error:?}");
    let transcript = smtp.transcript();
    assert!(!transcript.is_empty());
    assert!(
        !transcript
            .iter()
            .any(|line| line.to_ascii_uppercase().starts_with("AUTH")),
        "{transcript:?}"
    );

    // Advertised, LOGIN: the prompts and both base64 lines are answered and recorded.
    let smtp = FakeSmtp::start(Script::extensions(&["AUTH PLAIN LOGIN"])).await;
    let client = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(smtp.port())
        .tls(Tls::None)
        .credentials(credentials)
        .authentication(vec![Mechanism::Login])
        .build();
    client.send_raw(&envelope(FROM, TO), b"x").await.unwrap();
    assert_eq!(
        smtp.transcript()[1..4],
        ["AUTH LOGIN", "dXNlcg==", "c2VjcmV0"]
    );
}

#[tokio::test]
async fn starttls_is_refused() {
    let smtp = FakeSmtp::start(Script::extensions(&["STARTTLS", "AUTH PLAIN LOGIN"])).await;
    let client = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(smtp.port())
        .tls(Tls::Required(
            TlsParameters::new("fake.test".to_owned()).unwrap(),
        ))
        .credentials(Credentials::new("user".to_owned(), "secret".to_owned()))
        .build();
    let error = refused(&client, TO, b"x").await;
    assert_eq!(error.status().map(|c| c.to_string()), Some("454".into()));
    let transcript = smtp.transcript();
    assert_eq!(transcript[1], "STARTTLS");
    assert!(!transcript.iter().any(|line| line.starts_with("AUTH")));
}

#[tokio::test]
async fn scripted_greeting_and_sequence_errors() {
    let smtp = FakeSmtp::start(Script::greeting([Reply::code(421, "4.3.2 Not now")])).await;
    let client = client(&smtp);
    let error = refused(&client, TO, b"x").await;
    assert!(error.is_transient(), "{error:?}");
    client.send_raw(&envelope(FROM, TO), b"y").await.unwrap();
    assert_eq!(smtp.connections(), 2);

    // By hand: bare LF, pipelining, sequence errors, an empty message, QUIT.
    let stream = TcpStream::connect(("127.0.0.1", smtp.port()))
        .await
        .unwrap();
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer
        .write_all(
            b"HELO me\nRCPT TO:<a@b>\r\nMAIL FROM:<>\r\nDATA\r\nRCPT TO:<a@b>\r\n\
              DATA\r\n.\r\nVRFY x\r\nQUIT\r\n",
        )
        .await
        .unwrap();
    let mut answers = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut reader, &mut answers)
        .await
        .unwrap();
    let codes: Vec<&str> = answers.lines().map(|l| &l[..3]).collect();
    assert_eq!(
        codes,
        [
            "220", "250", "503", "250", "554", "250", "354", "250", "500", "221"
        ]
    );
    let last = smtp.messages().pop().unwrap();
    assert_eq!((last.mail_from.as_str(), last.data.len()), ("", 0));
    assert_eq!(last.raw_data, b".\r\n");
}
