"""The ways in: the `momentloop` CLI and (soon) the FastAPI app."""
