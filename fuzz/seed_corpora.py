#!/usr/bin/env python3
"""Writes the seed inputs of fuzz/corpus/<target>/ from the test fixtures; run from the repo root.

Seeds are named by their SHA-1, as libFuzzer names what it adds, so rerunning this only adds
files. The html and csv seeds are the shared hostile strings (tests/fixtures/hostile-strings.json)
as fields joined by 0xFF bytes, the separator csp_alert_digest::fuzzing::fields splits on.
"""
import hashlib
import json
from pathlib import Path

root = Path("fuzz/corpus")
hostile = json.loads(Path("tests/fixtures/hostile-strings.json").read_text())
quirks = Path("tests/fixtures/quirks-page.json").read_bytes()


def write(target, data):
    folder = root / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def fields(strings):
    return b"\xff".join(s.encode("utf-8") for s in strings)


# page: the quirks fixture, the hostile strings as records, and the shapes the parser knows.
write("page", quirks)
records = [{"id": f"h{i}", "displayName": s, "description": s, "alertType": s,
            "customerTenantId": s, "detectedDateTime": "2026-11-28T00:00:00Z"}
           for i, s in enumerate(hostile)]
write("page", json.dumps({"value": records}).encode())
write("page", b'\xef\xbb\xbf [{"id":"a","detectedDateTime":"2026-01-01T00:00:00Z"}]')
write("page", b'{"value":[{"id":7,"detectedDateTime":"2026-01-01T00:00:00Z"},{"id":"b",'
              b'"detectedDateTime":"not-a-date"}],"@odata.nextLink":"https://graph.example/n"}')
write("page", b'{"value": [\n  {"id": "a",, }\n]}')
write("page", b'{"value":[{"id":"\\ud800","detectedDateTime":"2026-01-01T00:00:00Z"}],'
              b'"@odata.nextLink":null}')
write("page", b'{"error":{"code":"InvalidAuthenticationToken"}}')

# csv and html: all hostile strings, and each alone in every field of one alert.
for target in ("csv", "html"):
    write(target, fields(hostile))
    for s in hostile:
        write(target, fields([s] * 13))

# retry_after: first byte the attempt number, then the header value.
for attempt, value in [(1, "7"), (2, " 0 "), (1, "Sun, 29 Nov 2026 07:00:42 GMT"),
                       (3, "Sun, 29 Nov 2026 06:00:00 GMT"), (1, "Sunday, 29-Nov-26 07:05:00 GMT"),
                       (1, "Sun Nov 29 07:05:00 2026"), (1, "soon"), (1, "-5"), (1, "+5"),
                       (5, "301"), (6, "1"), (0, "18446744073709551616")]:
    write("retry_after", bytes([attempt]) + value.encode())

# next_link: first byte picks the origin (even: https://graph.microsoft.com, odd:
# http://127.0.0.1:8080), then the link.
base = "https://graph.microsoft.com/beta/security/partner/securityAlerts"
for choice, link in [
    (0, base + "?$skiptoken=a%2Bb+c%3D%3D"),
    (0, base + "?$filter=status%20ne%20'resolved'&$skiptoken=x"),
    (0, base + "?$skiptoken=" + "x" * 8192),
    (0, "https://graph.microsoft.com:443/beta/x"),
    (0, "https://evil.example/beta/security/partner/securityAlerts?$skiptoken=x"),
    (0, "http://graph.microsoft.com/beta/x"),
    (0, "https://user:s3cret-pass@graph.microsoft.com/beta/x"),
    (0, "https://graph.microsoft.com:8443/beta/x"),
    (0, "https://graph.microsoft.com.evil.example/beta/x"),
    (0, "https://graph.microsoft.com@evil.example/beta/x"),
    (0, "/beta/relative"),
    (1, "http://127.0.0.1:8080/beta/x?$skiptoken=%2B"),
    (1, "http://localhost:8080/beta/x"),
    (1, "http://[::1]:8080/beta/x"),
]:
    write("next_link", bytes([choice]) + link.encode())
