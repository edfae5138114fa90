"""MusicGen on Replicate (`meta/musicgen`, stereo-large): a song from the mood of the brief, converted to
48 kHz stereo WAV and then beat-analysed like any user track (a generated song has no exact grid)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from functions.music.providers.base import GeneratedMusic
from functions.music.synth import pick_mood
from functions.music.user_track import convert_user_track
from shared.errors import MusicError, OptionError
from shared.providers.concurrency import provider_slot
from shared.providers.downloads import check_audio, download_output
from shared.providers.errors import ProviderInputError, ProviderOutputError
from shared.providers.fallback import Usage
from shared.providers.prices import Price
from shared.providers.sdk.imports import preload_sdk
from shared.settings import get_settings

MUSICGEN = "meta/musicgen:671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb"
MAX_SECONDS = 120
"""Longest song asked for in one prediction (the model windows past 30 s; beyond this it gets slow and dear)."""
MARGIN_SECONDS = 4
"""Asked for beyond the video: the edit ends on a downbeat after the video's nominal length."""

MOOD_PROMPTS = {
    "melancholic": "melancholic, nostalgic instrumental with soft piano, warm strings and a slow steady beat",
    "epic": "epic cinematic instrumental with big drums, brass and strings, a strong steady pulse",
    "calm": "calm, relaxed lo-fi instrumental with mellow keys, soft drums and a steady groove",
    "energetic": "energetic dance-pop instrumental, four-on-the-floor kick, bright synths and claps",
    "happy": "happy, sunny instrumental pop with ukulele, handclaps and a bouncy steady beat",
    "uplifting": "uplifting instrumental pop with bright synths, warm pads and a steady driving beat",
}


class ReplicateMusicProvider:
    vendor = "replicate"
    price = Price(per_call=0.01, per_second=0.0025,
                  source="Replicate: meta/musicgen on an A100, about $0.0025 per second of audio (2025)")

    def __init__(self, model: str | None = None) -> None:
        self.model = model or MUSICGEN
        if ":" not in self.model and self.model.startswith("meta/musicgen"):
            raise OptionError("meta/musicgen is a community model: give its version, e.g. " + MUSICGEN)
        self.name = f"replicate:{self.model.split(':')[0]}"
        self.usage: Usage | None = None
        preload_sdk(self.vendor)  # whole, under one lock, before any call: see shared/providers/sdk/imports.py

    def seconds_for(self, *, duration: float) -> int:
        return math.ceil(duration + MARGIN_SECONDS)

    def estimate_usd(self, *, duration: float) -> float:
        return self.price.cost(calls=1, seconds=self.seconds_for(duration=duration))

    def plan(self, *, duration: float, seed: int, mood: str) -> GeneratedMusic | None:
        return None  # only the generated file can say how long it is; its beats come from analysis

    def generate(self, *, duration: float, seed: int, mood: str, path: Path) -> GeneratedMusic:
        from shared.providers.sdk.replicate import output_url, replicate_client, run_prediction

        settings = get_settings()
        seconds = self.seconds_for(duration=duration)
        if seconds > MAX_SECONDS:
            raise ProviderInputError(f"a {seconds} s song is longer than the {MAX_SECONDS} s we ask MusicGen for",
                                     provider=self.name)
        style = pick_mood(mood)
        prompt = MOOD_PROMPTS.get(style.name, MOOD_PROMPTS["uplifting"]) + f", about {style.target_bpm:.0f} BPM"
        client: Any = replicate_client(chosen_for="music")
        with provider_slot(key="music:replicate", limit=settings.music_concurrency):
            prediction = run_prediction(
                client=client, model=self.model, provider=self.name, settings=settings,
                inputs={"prompt": prompt, "duration": seconds, "model_version": "stereo-large",
                        "output_format": "wav", "normalization_strategy": "loudness", "seed": seed % (1 << 31)},
            )
        url = output_url(prediction.output, provider=self.name)
        cost = self.price.cost(calls=1, seconds=seconds)
        with tempfile.TemporaryDirectory(prefix="ml-music-") as tmp:
            raw = Path(tmp) / "song"
            download_output(url=url, dest=raw, provider=self.name, settings=settings)
            try:
                check_audio(path=raw, provider=self.name, min_seconds=duration)
                length = convert_user_track(src=raw, dst=path, name="generated song")
            except (ProviderOutputError, MusicError) as exc:
                err = exc if isinstance(exc, ProviderOutputError) else ProviderOutputError(
                    f"song unusable: {exc}", provider=self.name)
                err.spent_usd = cost
                raise err from None
        self.usage = Usage(provider=self.name, cost_usd=cost)
        return GeneratedMusic(name=f"MusicGen {style.name} ({seconds} s)", duration=length, provider=self.name,
                              cost_usd=cost)
