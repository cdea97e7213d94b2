"""Restoring a backup never posts a voucher twice (bad input and bad days), on SQLite and PostgreSQL.

Copy the database while a run is *not sent*, send it, restore the copy, send again: the sender notices that the
database went back in time and looks the restored runs' markers up before posting, so Visma holds one voucher per
marker. Runs that arrive after the restore are sent as usual, with one Visma call each.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from sqlmodel import SQLModel

from core import services
from core.db.models import AuditEvent
from tests.support.export import api_calls, marker_counts, reset_stats, setup_company, store_demo_runs


def backup(engine) -> object:
    """What a backup holds: SQLite's online backup of the file; PostgreSQL's rows and sequences (as pg_dump)."""
    if engine.dialect.name == "sqlite":
        copy = sqlite3.connect(":memory:")
        raw = engine.raw_connection()
        try:
            raw.driver_connection.backup(copy)
        finally:
            raw.close()
        return copy
    with engine.connect() as conn:
        rows = {t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))] for t in SQLModel.metadata.sorted_tables}
        sequences = {name: conn.execute(sa.text(f"SELECT last_value, is_called FROM {name}")).one()
                     for name in conn.execute(sa.text("SELECT sequencename FROM pg_sequences")).scalars()}
    return rows, sequences


def restore(engine, saved) -> None:
    engine.dispose()
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            saved.backup(raw.driver_connection)
        finally:
            raw.close()
        return
    rows, sequences = saved
    tables = SQLModel.metadata.sorted_tables
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE"))
        for table in tables:
            if rows[table.name]:
                conn.execute(sa.insert(table), rows[table.name])
        for name, (last_value, is_called) in sequences.items():
            conn.execute(sa.text("SELECT setval(:n, :v, :c)"), {"n": name, "v": last_value, "c": is_called})


def test_a_restored_database_does_not_post_a_second_voucher(rt, sandbox):
    setup = setup_company(rt, periods=(1, 2))
    copy = backup(rt.engine)  # both runs not sent
    first = services.send_run(rt, setup.run_ids[0], actor="t")
    assert first.outcome == "sent"
    restore(rt.engine, copy)  # the run is 'not sent' again; its voucher is in Visma

    summary = services.send_pending(rt, actor="t")
    outcomes = {r.run_id: r.outcome for r in summary.results}
    assert outcomes == {setup.run_ids[0]: "reconciled", setup.run_ids[1]: "sent"}
    assert set(marker_counts(sandbox.url).values()) == {1}  # one voucher per marker
    assert len(marker_counts(sandbox.url)) == 2
    assert services.get_run(rt, setup.run_ids[0]).voucher_number == first.voucher_number
    with rt.engine.connect() as conn:
        events = conn.execute(sa.select(AuditEvent.action).where(AuditEvent.action == "database.restored")).all()
    assert len(events) == 1


def test_runs_after_a_restore_are_sent_with_one_call_each(rt, sandbox):
    setup = setup_company(rt, periods=(1,))
    copy = backup(rt.engine)
    services.send_run(rt, setup.run_ids[0], actor="t")
    restore(rt.engine, copy)
    services.send_pending(rt, actor="t")  # finds the restore, reconciles the restored run
    new_ids = [i for i in store_demo_runs(rt, setup.code, (3, 4)) if i not in setup.run_ids]
    reset_stats(sandbox.url)
    summary = services.send_pending(rt, actor="t")
    assert {r.run_id: r.outcome for r in summary.results} == {i: "sent" for i in new_ids}
    calls = api_calls(sandbox.url)["api_calls"]
    assert calls.get("POST /v2/vouchers") == 2
    assert not any(key.startswith("GET /v2/vouchers") for key in calls)  # no look-ups for runs after the restore


def test_normal_sending_looks_nothing_up(rt, sandbox):
    setup = setup_company(rt, periods=(1, 2, 3))
    reset_stats(sandbox.url)
    services.send_pending(rt, actor="t")
    services.send_pending(rt, actor="t")  # a second round with nothing to do
    calls = api_calls(sandbox.url)["api_calls"]
    assert calls.get("POST /v2/vouchers") == 3
    assert not any(key.startswith("GET /v2/vouchers") for key in calls)
    assert len(setup.run_ids) == 3


def test_the_send_watermark_is_private_like_the_database(rt, sandbox):
    import stat

    setup = setup_company(rt, periods=(1,))
    services.send_run(rt, setup.run_ids[0], actor="t")
    mark = rt.settings.data_dir / "send-watermark.json"
    assert stat.S_IMODE(mark.stat().st_mode) == 0o600
