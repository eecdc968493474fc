"""The outgoing store (outgoing.jsonl) and the hook deliveries file read back whatever a crash or a
hand left in them: generated cuts and garbage never stop a start, and every whole line counts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

from rcabot.inbound.deliveries import Deliveries
from rcabot.outgoing import PINGED, HookEvent, event_id
from rcabot.outgoing.store import FILE, Store

AT = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
EVENTS = [HookEvent(event_id(f"RCA-{n}", "c", PINGED, AT), PINGED, AT, f"RCA-{n}", title="Ça 🚀 \ud83d")
          for n in range(3)]


def written(folder) -> bytes:
    store = Store(folder)
    store.add([(event, ["https://a.example/hook"]) for event in EVENTS])
    store.mark(EVENTS[0].id, "https://a.example/hook")  # the first is delivered
    return (folder / FILE).read_bytes()


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(min_value=0, max_value=2000), garbage=st.binary(max_size=80))
def test_a_store_cut_anywhere_and_followed_by_garbage_loads_every_whole_line(tmp_path_factory, cut, garbage):
    folder = tmp_path_factory.mktemp("store")
    whole = written(folder)
    kept = whole[:cut]
    (folder / FILE).write_bytes(kept + garbage)

    loaded = [event.id for event, _ in Store(folder).load()]  # never raises

    complete = kept[:kept.rfind(b"\n") + 1].decode("ascii").splitlines()
    owed = [e.id for e in EVENTS[1:] if any(e.id in line and '"event"' in line for line in complete)]
    assert set(owed) <= set(loaded) <= {e.id for e in EVENTS}
    if '"done"' in "".join(complete):
        assert EVENTS[0].id not in loaded


@settings(max_examples=100, deadline=None)
@given(garbage=st.binary(max_size=200))
def test_a_deliveries_file_with_garbage_keeps_the_ids_before_it(tmp_path_factory, garbage):
    folder = tmp_path_factory.mktemp("deliveries")
    Deliveries(folder).first("github:d-1", AT)
    with open(folder / "deliveries.jsonl", "ab") as f:
        f.write(garbage)

    again = Deliveries(folder)  # never raises
    assert not again.first("github:d-1", AT + timedelta(minutes=1))
