"""The stages of MomentLoop: plain Python, importable without Modal, GPU libraries or keys."""
