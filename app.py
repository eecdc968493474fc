"""WSGI entry point (`app`); `python app.py` serves it locally."""
import signal
import sys

from rcabot.config import Settings
from rcabot.web import create_app

app = create_app()

if __name__ == "__main__":
    settings = Settings.from_env()
    # Local mode has no authentication of its own: it listens on this machine only.
    host = "127.0.0.1" if settings.local else "0.0.0.0"
    print(f"\nRCA Bot console: http://localhost:{settings.port}/console\n"
          f"Start a ticket:  curl -X POST http://localhost:{settings.port}/tickets "
          f"-H 'Content-Type: application/json' -d '{{\"ticket_id\": \"RCA-1\", \"title\": \"Checkout latency\"}}'\n",
          flush=True)
    # SIGTERM (a service manager's stop) ends the process through the normal exit, so the
    # shutdown flush runs; gunicorn does the same for its workers. A second SIGTERM (a shell and
    # its child both passing one on) must not interrupt that exit.
    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    app.run(host=host, port=settings.port, threaded=True, use_reloader=False)
