"""Accounts of the web service and their login sessions."""

from __future__ import annotations

import sqlite3

from video_audit.store.base import now
from video_audit.store.db import Database

ROLES = ("inspector", "institution", "admin")


class Accounts(Database):
    """Users (inspector, institution, admin) and sessions, in the workspace database."""

    def add_user(self, name: str, role: str, institution: str | None, password_hash: str) -> int:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
        if role == "institution" and not institution:
            raise ValueError("an institution account needs --institution")

        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO users (name, role, institution, password_hash, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, role, institution, password_hash, now()),
            )
            return int(cur.lastrowid or 0)

        try:
            return self.write(insert)
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"账号 {name!r} 已存在 / user {name!r} already exists") from exc

    def set_password(self, user_id: int, password_hash: str) -> None:
        self.write(
            lambda c: c.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )
        )

    def user_by_name(self, name: str) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM users WHERE name = ?", (name,))

    def users(self) -> list[sqlite3.Row]:
        return self.read("SELECT id, name, role, institution, created FROM users ORDER BY name")

    def add_session(
        self, token_hash: str, user_id: int, kind: str, csrf: str, expires: str
    ) -> None:
        """A new login; expired ones are dropped on the way."""

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sessions WHERE expires <= ?", (now(),))
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, kind, csrf, created, expires) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token_hash, user_id, kind, csrf, now(), expires),
            )

        self.write(insert)

    def session(self, token_hash: str, kind: str) -> sqlite3.Row | None:
        """The live session (with its user's fields) for a token hash, or None."""
        return self.read_one(
            "SELECT s.csrf, s.expires, u.id, u.name, u.role, u.institution FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.kind = ? "
            "AND s.expires > ?",
            (token_hash, kind, now()),
        )

    def drop_session(self, token_hash: str) -> None:
        """Revoke one session or bearer token (logout)."""
        self.write(lambda c: c.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,)))

    def drop_sessions(self, user_id: int) -> int:
        """Revoke every session and bearer token of a user; how many there were."""
        return self.write(
            lambda c: c.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount
        )

    def change_password(self, user_id: int, password_hash: str) -> int:
        """A new password, and every session and token of the old one revoked (one write)."""

        def change(conn: sqlite3.Connection) -> int:
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )
            return conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount

        return self.write(change)
