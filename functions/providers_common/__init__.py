"""What the cloud providers of every stage share at the job level: cost estimates, the job's ledger
(budget and spend), the up-front key check and the dry run."""
