"""`python app.py`: RCA Bot and its web server, as `make run` and the Procfile start it (see
rcabot/serve.py; `python app.py --help` lists the settings)."""
import sys

from rcabot.serve import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
