"""The operating system's own faults on the real process: a file-size limit (RLIMIT_FSIZE, as a
disk that fills up mid-run: every write past it fails with EFBIG), then SIGKILL.

The promise under test: a ticket answered 2xx is never lost. Tickets are started until the limit
bites (503s appear), the process is killed, and the next start (without the limit) must know
every ticket that was answered 2xx."""
from __future__ import annotations

import resource

import requests

LIMIT = 32 * 1024  # bytes any one file of the bot may grow to
MAX_TICKETS = 3000
REFUSALS_WANTED = 30


def limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_tickets_answered_2xx_on_a_filling_disk_survive_a_sigkill(make_bot):
    bot, _ = make_bot(flush=1)
    bot.limits = limit_file_size
    bot.start()
    answered, refused, other = [], 0, []
    for n in range(MAX_TICKETS):
        ticket_id = f"FULL-{n}"
        answer = requests.post(f"{bot.url}/tickets", json={"ticket_id": ticket_id, "title": "x" * 200}, timeout=10)
        if answer.status_code in (200, 202):
            answered.append(ticket_id)
        elif answer.status_code == 503:
            assert answer.headers.get("Retry-After") and "journal" in answer.json()["error"], answer.text
            refused += 1
            if refused >= REFUSALS_WANTED:
                break
        else:
            other.append((ticket_id, answer.status_code, answer.text))
    health = requests.get(f"{bot.url}/healthz", timeout=10)
    bot.kill()

    assert other == [], other[:3]
    assert refused >= REFUSALS_WANTED, f"the limit never bit after {len(answered)} tickets\n{bot.log_tail()}"
    assert health.status_code == 503
    bot.limits = None
    bot.start()
    lost = [t for t in answered if requests.get(f"{bot.url}/tickets/{t}", timeout=10).status_code != 200]
    print(f"\nRLIMIT_FSIZE {LIMIT} B: {len(answered)} tickets answered 2xx, {refused} refused with 503, "
          f"{len(lost)} lost after SIGKILL")
    assert lost == []
