"""The ways in: the `momentloop` CLI (api/cli.py) and the web app (api/app.py: the JSON API, the SSE job
stream and the static web UI)."""
