"""The Task List API: GET/POST /api/tasks stored in PostgreSQL, plus /api/health and /api/version.

Python's standard library and psycopg2 only (both from apt), so the image builds with no PyPI either.
"""

import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg2

VERSION = Path(__file__).with_name("VERSION").read_text(encoding="utf-8").strip()
FIRST_TASK = "Learn Docker"
MAX_TITLE = 200


def connect():
    return psycopg2.connect(host=os.environ["DB_HOST"], dbname=os.environ["DB_NAME"],
                            user=os.environ["DB_USER"], password=os.environ["DB_PASSWORD"], connect_timeout=3)


# Any constant of our own: the hosts that start at once on a new database (the scaled layout) take
# turns creating the schema. CREATE TABLE IF NOT EXISTS alone is not safe when two run together:
# one of them fails on PostgreSQL's catalog (a duplicate key in pg_type).
SCHEMA_LOCK = 74_617_379


def create_schema(attempts=60):
    """Create the table and the first task once, whichever host comes first; retried while the
    database is not up yet."""
    for attempt in range(attempts):
        try:
            with connect() as db, db.cursor() as cursor:  # one transaction: the lock ends with it
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                cursor.execute("CREATE TABLE IF NOT EXISTS tasks ("
                               " id serial PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false)")
                cursor.execute("INSERT INTO tasks (title) SELECT %s WHERE NOT EXISTS (SELECT 1 FROM tasks)",
                               (FIRST_TASK,))
            return
        except psycopg2.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


class Handler(BaseHTTPRequestHandler):
    server_version = f"tasklist/{VERSION}"

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/api/tasks":
            with connect() as db, db.cursor() as cursor:
                cursor.execute("SELECT id, title, done FROM tasks ORDER BY id")
                rows = cursor.fetchall()
            self.reply(200, [{"id": i, "title": title, "done": done} for i, title, done in rows])
        elif self.path == "/api/health":
            with connect() as db, db.cursor() as cursor:
                cursor.execute("SELECT 1")
            self.reply(200, {"status": "ok"})
        elif self.path == "/api/version":
            self.reply(200, {"version": VERSION})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/api/tasks":
            self.reply(404, {"error": "not found"})
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            title = str(body["title"]).strip()
        except (ValueError, KeyError, TypeError):
            self.reply(400, {"error": 'send JSON like {"title": "..."}'})
            return
        if not 0 < len(title) <= MAX_TITLE:
            self.reply(400, {"error": f"title must be 1 to {MAX_TITLE} characters"})
            return
        with connect() as db, db.cursor() as cursor:
            cursor.execute("INSERT INTO tasks (title) VALUES (%s) RETURNING id, done", (title,))
            task_id, done = cursor.fetchone()
        self.reply(201, {"id": task_id, "title": title, "done": done})


if __name__ == "__main__":
    create_schema()
    print(f"Task List API {VERSION} on :8000", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
