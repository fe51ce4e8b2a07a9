"""Accounts are found by their address's identity key, and look-alike addresses are told
apart by skeleton; successful logins are kept, making an address known to an account.

Until now an account's ``email_key`` was its address lower-cased, so fullwidth
letters, a decomposed accent or U+017F LATIN SMALL LETTER LONG S gave a second
account for one address, and Cyrillic letters one that looked the same.
The key is now the address's identity key (NFKC, case-folded:
``simdock.domain.identity``), and ``email_skeleton`` the digest of what the address
looks like (UTS #39), unique, so that a new account cannot look like an existing one.

Existing accounts whose addresses now share a key are all kept, and keep working:
the one whose stored key already is the identity key (else the oldest) takes it,
and the others keep the key they had, which login still tries first with the
address as typed (``simdock.domain.identity.lookup_keys``): each owner logs in
with the spelling they registered. Of accounts that look alike, one holds the
skeleton (the oldest of those that took their identity key) and the others have
none: a new look-alike of any of them is refused all the same, since it looks
like that one too. Each such account is logged
(ids only) for operators to review. An address whose identity key would be longer
than the 320 characters a key has keeps its stored key too.

Downgrading puts the lower-cased addresses back as keys.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

from simdock.domain.identity import MAX_LENGTH, identity_key, skeleton_digest

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
log = logging.getLogger("simdock.migrations")

_users = sa.table("users", sa.column("number", sa.Integer), sa.column("id", sa.String),
                  sa.column("email", sa.String), sa.column("email_key", sa.String),
                  sa.column("email_skeleton", sa.String))


class Account(NamedTuple):
    number: int
    id: str
    email: str
    key: str  # as stored before this revision


def upgrade() -> None:
    op.add_column("users", sa.Column("email_skeleton", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_users_email_skeleton"), "users", ["email_skeleton"],
                    unique=True)
    op.create_table(
        "login_successes",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_login_successes")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_login_successes_key_at"), "login_successes", ["key", "at"])
    bind = op.get_bind()
    accounts = [Account(*row) for row in bind.execute(
        sa.select(_users.c.number, _users.c.id, _users.c.email, _users.c.email_key)
        .order_by(_users.c.number))]
    _store(bind, accounts, identities(accounts))


def downgrade() -> None:
    bind = op.get_bind()
    accounts = [Account(*row) for row in bind.execute(
        sa.select(_users.c.number, _users.c.id, _users.c.email, _users.c.email_key)
        .order_by(_users.c.number))]
    op.drop_index(op.f("ix_login_successes_key_at"), table_name="login_successes")
    op.drop_table("login_successes")
    op.drop_index(op.f("ix_users_email_skeleton"), table_name="users")
    # Not in batch mode: rebuilding a table on SQLite would cascade deletes into its children.
    op.drop_column("users", "email_skeleton")
    _store(bind, accounts, {a.id: (a.email.lower(), None) for a in accounts}, skeletons=False)


def identities(accounts: Sequence[Account]) -> dict[str, tuple[str, str | None]]:
    """Each account's new key and skeleton (``accounts`` oldest first)."""
    by_key: dict[str, list[Account]] = defaultdict(list)
    for account in accounts:
        by_key[identity_key(account.email)].append(account)
    keys: dict[str, str] = {}
    others: list[Account] = []
    for key, sharing in by_key.items():
        holder = next((a for a in sharing if a.key == key), sharing[0])
        keys[holder.id] = key if len(key) <= MAX_LENGTH else holder.key
        others += [a for a in sharing if a is not holder]
        if len(sharing) > 1:
            log.warning("accounts %s share one email identity: %s takes its key, the "
                        "others keep their earlier keys", ", ".join(a.id for a in sharing),
                        holder.id)
    taken = set(keys.values())
    for account in sorted(others, key=lambda a: a.number):
        # An earlier key is no identity key of another account; should one ever be:
        keys[account.id] = account.key if account.key not in taken \
            else f"{account.key}#{account.number}"
        taken.add(keys[account.id])
    holders = {a.id for a in accounts if keys[a.id] == identity_key(a.email)}
    held: dict[str, str] = {}
    result: dict[str, tuple[str, str | None]] = {}
    # Accounts holding their identity key first, each group oldest first.
    for account in sorted(accounts, key=lambda a: (a.id not in holders, a.number)):
        skeleton = skeleton_digest(identity_key(account.email))
        if skeleton in held:
            log.warning("account %s looks like account %s: both are kept", account.id,
                        held[skeleton])
            result[account.id] = (keys[account.id], None)
        else:
            held[skeleton] = account.id
            result[account.id] = (keys[account.id], skeleton)
    return result


def _store(bind: sa.Connection, accounts: Sequence[Account],
           identities: dict[str, tuple[str, str | None]], skeletons: bool = True) -> None:
    """Write the new keys (and skeletons), moving changed keys out of the way first so that
    no two rows hold one key at any moment."""
    changed = [a for a in accounts if identities[a.id][0] != a.key]
    update = _users.update().where(_users.c.id == sa.bindparam("match_id"))
    if changed:
        bind.execute(update.values(email_key=sa.bindparam("new_key")),
                     [{"match_id": a.id, "new_key": f"\x01moving {a.id}"} for a in changed])
        bind.execute(update.values(email_key=sa.bindparam("new_key")),
                     [{"match_id": a.id, "new_key": identities[a.id][0]} for a in changed])
    if skeletons and accounts:
        bind.execute(update.values(email_skeleton=sa.bindparam("new_skeleton")),
                     [{"match_id": a.id, "new_skeleton": identities[a.id][1]}
                      for a in accounts])
