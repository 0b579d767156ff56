"""The Guestbook: sign it at POST /entries, read it at / (HTML) or GET /entries (JSON).

GET /healthz answers an object: {"status": "ok", "version": ..., "entries": N} while the store answers.
Python's standard library and psycopg2 only (both from apt).
"""

import html
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg2

VERSION = Path(__file__).with_name("VERSION").read_text(encoding="utf-8").strip()
MAX_MESSAGE = 500


def store():
    return psycopg2.connect(host=os.environ["STORE_HOST"], dbname=os.environ["STORE_DATABASE"],
                            user=os.environ["STORE_USER"], password=os.environ["STORE_PASSWORD"], connect_timeout=3)


def query(sql, *args):
    with store() as db, db.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchall() if cursor.description else []


def wait_for_the_store(attempts=60):
    for attempt in range(attempts):
        try:
            query("CREATE TABLE IF NOT EXISTS entries (id serial PRIMARY KEY, name text NOT NULL,"
                  " message text NOT NULL, signed timestamptz NOT NULL DEFAULT now())")
            return
        except psycopg2.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


class Guestbook(BaseHTTPRequestHandler):
    server_version = f"guestbook/{VERSION}"

    def send(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def entries(self):
        rows = query("SELECT id, name, message FROM entries ORDER BY id")
        return [{"id": i, "name": name, "message": message} for i, name, message in rows]

    def do_GET(self):
        if self.path == "/healthz":
            count = query("SELECT count(*) FROM entries")[0][0]
            self.send(200, {"status": "ok", "version": VERSION, "entries": count})
        elif self.path == "/entries":
            self.send(200, self.entries())
        elif self.path == "/":
            items = "".join(f"<li><b>{html.escape(e['name'])}</b>: {html.escape(e['message'])}</li>"
                            for e in self.entries())
            self.send(200, f"<!doctype html><title>Guestbook</title><h1>Guestbook</h1><ul>{items}</ul>",
                      "text/html; charset=utf-8")
        else:
            self.send(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/entries":
            self.send(404, {"error": "not found"})
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            name, message = str(body["name"]).strip(), str(body["message"]).strip()
        except (ValueError, KeyError, TypeError):
            self.send(400, {"error": 'send JSON like {"name": "...", "message": "..."}'})
            return
        if not (name and 0 < len(message) <= MAX_MESSAGE):
            self.send(400, {"error": f"name must be set and message 1 to {MAX_MESSAGE} characters"})
            return
        entry_id = query("INSERT INTO entries (name, message) VALUES (%s, %s) RETURNING id", name, message)[0][0]
        self.send(201, {"id": entry_id, "name": name, "message": message})


if __name__ == "__main__":
    wait_for_the_store()
    print(f"Guestbook {VERSION} on :8080", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8080), Guestbook).serve_forever()
