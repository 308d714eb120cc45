"""Ledgers (补贴核算): a class's uploaded check-in files and employment lists, and the two
signatures of its ledger (经办, then 复核 by another account), each written in the transaction
of its evidence record; a void ends every standing signature of the class at once."""

from __future__ import annotations

import sqlite3
from typing import Any

from video_audit.store.db import Database

INPUT_KINDS = ("checkins", "employment")
ROLES = ("first", "second")


class SignatureConflict(Exception):
    """The signature cannot stand: the role is taken, or the first was made by the same account
    or on another ledger (args: a reason code and its details)."""


class Ledgers(Database):
    """What ledgers are built from, and their signatures."""

    def add_ledger_input(
        self,
        class_id: int,
        kind: str,
        by: str,
        at: str,
        *,
        file: str | None = None,
        name: str | None = None,
        sha256: str | None = None,
        employed: int | None = None,
    ) -> int:
        """Record an uploaded check-in file or employment list (file relative to the workspace)
        or an entered number of employed; the newest of each kind is the one in use."""
        if kind not in INPUT_KINDS:
            raise ValueError(kind)

        def insert(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO ledger_inputs (class_id, kind, file, name, sha256, employed, "
                "uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (class_id, kind, file, name, sha256, employed, by, at),
            )
            return int(cur.lastrowid or 0)

        return self.write(insert)

    def latest_done_audit(self, class_id: int) -> sqlite3.Row | None:
        """The class's newest finished audit: the one its ledger is built from."""
        return self.read_one(
            "SELECT * FROM audits WHERE class_id = ? AND state = 'done' ORDER BY id DESC LIMIT 1",
            (class_id,),
        )

    def ledger_input(self, class_id: int, kind: str) -> sqlite3.Row | None:
        """The newest input of KIND for the class (None when none was given)."""
        return self.read_one(
            "SELECT * FROM ledger_inputs WHERE class_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
            (class_id, kind),
        )

    def ledger_input_by_id(self, input_id: int) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM ledger_inputs WHERE id = ?", (input_id,))

    def ledger_signatures(self, class_id: int, standing: bool = True) -> list[sqlite3.Row]:
        """The class's signatures, oldest first (only those not voided unless STANDING is False)."""
        where = " AND voided_at IS NULL" if standing else ""
        return self.read(
            f"SELECT * FROM ledger_signatures WHERE class_id = ?{where} ORDER BY id", (class_id,)
        )

    def ledger_signature(self, signature_id: int) -> sqlite3.Row | None:
        return self.read_one("SELECT * FROM ledger_signatures WHERE id = ?", (signature_id,))

    def awaiting_signature(self) -> list[sqlite3.Row]:
        """Classes with check-ins whose ledger lacks a standing second signature (class_id, and
        first_by: the standing first signer, NULL when none): for the nightly summary."""
        return self.read(
            "SELECT DISTINCT i.class_id, (SELECT s.signed_by FROM ledger_signatures s "
            "WHERE s.class_id = i.class_id AND s.role = 'first' AND s.voided_at IS NULL) "
            "AS first_by FROM ledger_inputs i WHERE i.kind = 'checkins' AND NOT EXISTS "
            "(SELECT 1 FROM ledger_signatures t WHERE t.class_id = i.class_id "
            "AND t.role = 'second' AND t.voided_at IS NULL) ORDER BY i.class_id"
        )


def insert_signature(conn: sqlite3.Connection, fields: dict[str, Any]) -> int:
    """In the evidence record's transaction: the signature row, after checking under the write
    lock what the reader saw (SignatureConflict: the role is taken, the first signature is by
    the same account, or it signed another basis)."""
    standing = {
        r["role"]: r
        for r in conn.execute(
            "SELECT * FROM ledger_signatures WHERE class_id = ? AND voided_at IS NULL",
            (fields["class_id"],),
        )
    }
    role = fields["role"]
    if role in standing:
        raise SignatureConflict("taken", standing[role]["signed_by"])
    if role == "second":
        first = standing.get("first")
        if first is None:
            raise SignatureConflict("no_first", "")
        if int(first["user_id"]) == int(fields["user_id"]):
            raise SignatureConflict("same_account", first["signed_by"])
        if first["basis"] != fields["basis"]:
            raise SignatureConflict("changed", first["signed_by"])
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    cur = conn.execute(
        f"INSERT INTO ledger_signatures ({columns}) VALUES ({marks})", tuple(fields.values())
    )
    return int(cur.lastrowid or 0)


def void_signatures(
    conn: sqlite3.Connection, ids: list[int], by: str, at: str, reason: str, seq: int
) -> int:
    """In the evidence record's transaction: void these signatures (those still standing);
    how many were."""
    marks = ", ".join("?" for _ in ids)
    cur = conn.execute(
        "UPDATE ledger_signatures SET voided_at = ?, voided_by = ?, void_reason = ?, "
        f"void_seq = ? WHERE id IN ({marks}) AND voided_at IS NULL",
        (at, by, reason, seq, *ids),
    )
    return int(cur.rowcount)
