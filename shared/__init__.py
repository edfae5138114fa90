"""What every side of MomentLoop uses: models, settings, the artifact and job stores, media helpers."""
