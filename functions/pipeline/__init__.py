"""The orchestrator and its executors."""
