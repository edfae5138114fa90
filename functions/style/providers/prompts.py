"""What the image models are told for each look. Every prompt keeps the people and the picture: a
restyle that changes who is in the photo, or crops them, is a failed restyle."""

from __future__ import annotations

from functions.style.looks import get_look

LOOK_PROMPTS: dict[str, str] = {
    "ghibli": "a hand-painted Studio Ghibli style anime film still: soft watercolour backgrounds, lush greens and "
              "sky blues, warm natural light, gentle glow and thin clean line art",
    "lego": "a scene built entirely from LEGO bricks and plates, with minifigure-style people, visible round studs, "
            "glossy plastic and real LEGO colours, photographed like a stop-motion set",
    "minecraft": "a Minecraft scene built from textured 16x16 pixel-art voxel blocks, with blocky Minecraft-style "
                 "characters and the game's colour palette",
    "simpsons": "a frame from The Simpsons: flat bright colours, yellow skin, overbite-free friendly faces, thick "
                "black outlines and simple cel shading",
    "comic": "a pop-art comic book panel: primary inks, Ben-Day halftone dots, bold black outlines and dramatic "
             "flat shading",
    "sketch": "a pencil sketch: graphite lines and cross-hatching on warm off-white paper, with soft smudged shadows",
}

KEEP = (
    "Keep exactly the same people with recognisable faces, the same expressions, poses and clothing, and the same "
    "composition, framing, camera angle and background layout. Do not add or remove people or objects, do not "
    "crop or zoom, and add no text, captions, borders or watermarks. Paint the whole canvas edge to edge."
)


def look_prompt(look: str) -> str:
    """The edit instruction for `look` (an OptionError for a look that does not exist)."""
    info = get_look(look)
    style = LOOK_PROMPTS.get(look, info.description)
    return f"Redraw this photo as {style}. {KEEP}"
