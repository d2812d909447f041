#!/usr/bin/env python3
"""Reads every <name>.eml in a folder with Python's email package and prints a JSON report.

Usage: check_messages.py FOLDER

For each message, in natural name order (2.eml before 10.eml):
- "tree": the MIME structure as one line, e.g.
  "multipart/mixed[multipart/alternative[text/plain, text/html], text/csv, text/csv]";
- "parts": every part in walk order: content_type, depth, charset, transfer_encoding,
  disposition, filename, and for text parts whether the body decodes strictly with its declared
  charset ("decodes", "decode_error", "chars");
- "attachments": content type, filename and size of each part with a Content-Disposition of
  attachment;
- "charsets": the distinct charsets of the text parts;
- "headers": From, To, Subject, Date, Message-ID, MIME-Version, Auto-Submitted as decoded by
  policy.default (null when absent), and "header_counts" (how often each appears);
- "all_text_parts_decode", "defects" (the email package's complaints, by part);
- "envelope": the matching <name>.json written by smtp_server.py, or null.

Always exits 0 when the folder can be read: the caller judges the report.
"""

import email.parser
import email.policy
import json
import re
import sys
from pathlib import Path

HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Auto-Submitted"]


def natural_key(path: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def tree(part) -> str:
    ctype = part.get_content_type()
    if part.is_multipart():
        return f"{ctype}[{', '.join(tree(p) for p in part.iter_parts())}]"
    return ctype


def walk(part, depth=0):
    yield part, depth
    if part.is_multipart():
        for child in part.iter_parts():
            yield from walk(child, depth + 1)


def describe_part(part, depth: int, defects: list) -> dict:
    info = {
        "content_type": part.get_content_type(),
        "depth": depth,
        "charset": part.get_content_charset(),
        "transfer_encoding": part.get("Content-Transfer-Encoding"),
        "disposition": part.get_content_disposition(),
        "filename": part.get_filename(),
    }
    if not part.is_multipart():
        payload = part.get_payload(decode=True) or b""
        info["size"] = len(payload)
        if part.get_content_maintype() == "text":
            charset = part.get_content_charset() or "us-ascii"
            try:
                text = payload.decode(charset, errors="strict")
                info.update(decodes=True, decode_error=None, chars=len(text))
            except (UnicodeDecodeError, LookupError) as e:
                info.update(decodes=False, decode_error=str(e), chars=None)
    for defect in part.defects:
        defects.append({"content_type": part.get_content_type(), "depth": depth, "defect": repr(defect)})
    return info


def describe(path: Path) -> dict:
    raw = path.read_bytes()
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    defects: list = []
    parts = [describe_part(p, d, defects) for p, d in walk(msg)]
    text_parts = [p for p in parts if p["content_type"].startswith("text/")]
    envelope_file = path.with_suffix(".json")
    return {
        "file": path.name,
        "bytes": len(raw),
        "crlf_only": b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b""),
        "tree": tree(msg),
        "content_types": [p["content_type"] for p in parts],
        "parts": parts,
        "attachments": [
            {"content_type": p["content_type"], "filename": p["filename"], "size": p.get("size")}
            for p in parts
            if p["disposition"] == "attachment"
        ],
        "charsets": sorted({p["charset"] for p in text_parts if p["charset"]}),
        "all_text_parts_decode": all(p.get("decodes") for p in text_parts if "decodes" in p),
        "headers": {h: (str(msg[h]) if msg[h] is not None else None) for h in HEADERS},
        "header_counts": {h: len(msg.get_all(h) or []) for h in HEADERS},
        "defects": defects,
        "envelope": json.loads(envelope_file.read_text("utf-8")) if envelope_file.exists() else None,
    }


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    messages = [describe(p) for p in sorted(folder.glob("*.eml"), key=natural_key)]
    json.dump({"count": len(messages), "messages": messages}, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
