#!/usr/bin/env python3
"""A real SMTP server for csp-alert-digest's interoperability test (tests/e2e/smtp_interop.rs).

aiosmtpd on 127.0.0.1 (an ephemeral port unless --port is given) that requires STARTTLS and
AUTH (PLAIN or LOGIN, only after TLS) and accepts exactly one username and password. The TLS
certificate, for "localhost" and "127.0.0.1", comes from a throwaway CA made by trustme at start;
the CA's PEM is written to --ca-out for the client to trust.

Each accepted message is stored in --out-dir as <n>.eml (the DATA bytes exactly as received,
after SMTP dot-unstuffing: aiosmtpd's envelope.original_content) and <n>.json (mail_from,
rcpt_tos, tls, tls_version, authenticated, login, peer), n counting from 1. Both are written
before the server answers 250, so a client that saw its message accepted finds them on disk.

A hostile relay, for the secrets canary test (tests/e2e/canary.rs): --echo-credentials makes the
AUTH refusal quote the credentials it was sent (as they arrived in base64, and decoded), and
--refuse-data makes the end of DATA answer 554 quoting the password it accepted.

Prints one line "READY <port>" to stdout once it listens, then runs until its stdin is closed
or it gets SIGTERM (or SIGINT). Run it with stdin on a pipe: from /dev/null it stops at once.
Logs go to stderr.

Needs PyPI aiosmtpd and trustme (.ci/run installs both into target/ci-venv).
"""

import argparse
import base64
import hmac
import json
import logging
import os
import signal
import ssl
import sys
import tempfile
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    """Writes each accepted message and its envelope to the output folder."""

    def __init__(self, folder: Path, refuse_with: str | None = None):
        self.folder = folder
        self.count = 0
        self.refuse_with = refuse_with

    @staticmethod
    def _write_atomically(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.refuse_with is not None:
            logging.info("refused a message at the end of DATA")
            return self.refuse_with
        # One event loop thread runs every session, so the counter needs no lock.
        self.count += 1
        n = self.count
        tls = session.ssl is not None
        ssl_object = session.ssl.get("ssl_object") if tls else None
        auth = session.auth_data if isinstance(session.auth_data, dict) else {}
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "tls": tls,
            "tls_version": ssl_object.version() if ssl_object is not None else None,
            "authenticated": bool(session.authenticated),
            "login": auth.get("login"),
            "auth_mechanism": auth.get("mechanism"),
            "peer": list(session.peer) if session.peer else None,
            "size": len(envelope.original_content),
        }
        # The .json first: whoever sees <n>.eml also finds its envelope.
        self._write_atomically(
            self.folder / f"{n}.json", json.dumps(meta, indent=2).encode("utf-8") + b"\n"
        )
        self._write_atomically(self.folder / f"{n}.eml", envelope.original_content)
        logging.info("stored message %d (%d bytes, %d recipients)", n, meta["size"], len(meta["rcpt_tos"]))
        return "250 OK stored"


def make_authenticator(username: bytes, password: bytes, echo: bool = False):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = hmac.compare_digest(auth_data.login, username) and hmac.compare_digest(
            auth_data.password, password
        )
        logging.info("AUTH %s for %r: %s", mechanism, auth_data.login, "accepted" if ok else "refused")
        if not ok:
            if echo:
                plain = base64.b64encode(b"\0" + auth_data.login + b"\0" + auth_data.password)
                sent = auth_data.password.decode("utf-8", "replace")
                return AuthResult(
                    success=False, handled=False, message=f"535 5.7.8 refused {plain.decode()} ({sent})"
                )
            # handled=False: aiosmtpd answers "535 5.7.8 Authentication credentials invalid".
            return AuthResult(success=False, handled=False)
        # Becomes session.auth_data: the login and mechanism, never the password.
        login = auth_data.login.decode("utf-8", "replace")
        return AuthResult(success=True, auth_data={"login": login, "mechanism": mechanism})

    return authenticator


class EphemeralPortController(Controller):
    """A Controller that may listen on port 0: learns the real port before its self-check."""

    def _trigger_server(self):
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", required=True, type=Path, help="where <n>.eml and <n>.json go")
    parser.add_argument("--ca-out", required=True, type=Path, help="where the CA certificate (PEM) goes")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--port", type=int, default=0, help="default: an ephemeral port")
    parser.add_argument("--echo-credentials", action="store_true", help="quote them in the AUTH refusal")
    parser.add_argument("--refuse-data", action="store_true", help="554 at the end of DATA, quoting the password")
    args = parser.parse_args()

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    # aiosmtpd warns about its own use of a deprecated attribute on every AUTH: noise.
    logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())
    args.out_dir.mkdir(parents=True, exist_ok=True)

    ca = trustme.CA()
    server_cert = ca.issue_cert("localhost", "127.0.0.1")
    tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(tls_context)
    ca.cert_pem.write_to_path(str(args.ca_out))

    controller = EphemeralPortController(
        Store(args.out_dir, f"554 5.7.1 refused for {args.password}" if args.refuse_data else None),
        hostname="127.0.0.1",
        port=args.port,
        server_hostname="localhost",
        tls_context=tls_context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=make_authenticator(
            args.username.encode("utf-8"), args.password.encode("utf-8"), args.echo_credentials
        ),
    )

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    # Only this thread takes SIGTERM/SIGINT: the server's threads inherit a mask that blocks
    # them, so a signal interrupts the stdin read below instead of waiting for it to return.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        controller.start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
    try:
        print(f"READY {controller.port}", flush=True)
        # Blocks until the parent closes our stdin (or dies); SIGTERM interrupts it.
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        controller.stop()
    logging.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
