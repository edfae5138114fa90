"""What a job costs: its estimate before anything is spent (estimate.py), its budget and what it really
spent, item by item (ledger.py), and `--dry-run`, the plan and its estimate with nothing rendered
(dry_run.py). What one provider call costs is the provider's (shared/providers/prices.py)."""
