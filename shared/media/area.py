"""Shrinking a picture that arrives as bands of rows, top to bottom, without ever holding it whole.

`AreaShrink` gives what `cv2.resize(..., interpolation=cv2.INTER_AREA)` gives for the whole picture: every
output pixel is the mean of the input area it covers, partial rows and columns weighted by how much of
them it covers. It only keeps the output and the one or two output rows still open between two bands."""

from __future__ import annotations

import cv2
import numpy as np

# An input row's share of an output row below this is rounding noise, not a contribution.
_EPS = 1e-9


def working_size(*, width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled so the long side is at most `max_side`, aspect kept; never enlarged."""
    long_side = max(width, height)
    if long_side <= max_side:
        return width, height
    scale = max_side / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


class AreaShrink:
    """Area-average bands of a `width` x `height` picture (each H x width x channels, any dtype) into
    `size`; `result()` is size[1] x size[0] x channels of `dtype` (uint8: rounded and clipped)."""

    def __init__(self, *, width: int, height: int, size: tuple[int, int], channels: int,
                 dtype: type[np.uint8] | type[np.float32]) -> None:
        out_w, out_h = size
        if out_w > width or out_h > height:
            raise ValueError(f"AreaShrink only shrinks: {width}x{height} -> {out_w}x{out_h}")
        self.width, self.height, self.size, self.channels = width, height, size, channels
        self._scale = height / out_h
        self._out = np.empty((out_h, out_w, channels), dtype)
        self._open = np.zeros((0, out_w, channels), np.float32)  # output rows from _done on, not yet complete
        self._done = 0
        self._y = 0

    def add(self, band: np.ndarray) -> None:
        band = band.reshape(band.shape[0], self.width, self.channels)
        n = band.shape[0]
        if self._y + n > self.height:
            raise ValueError(f"more rows than the {self.height} announced")
        out_w, out_h = self.size
        if (out_w, out_h) == (self.width, self.height):
            self._out[self._y:self._y + n] = band
            self._y += n
            self._done = self._y
            return
        if n == self.height:  # the whole picture at once: OpenCV alone, at its own (SIMD) speed
            self._out[...] = cv2.resize(band, (out_w, out_h), interpolation=cv2.INTER_AREA).reshape(self._out.shape)
            self._y, self._done = n, out_h
            return
        # Across: OpenCV's own area resampling, row by row (rows are independent), kept in float.
        rows = cv2.resize(band.astype(np.float32, copy=False), (out_w, n), interpolation=cv2.INTER_AREA)
        rows = rows.reshape(n, out_w, self.channels)
        acc = self._down(rows)
        self._y += n
        if self._y == self.height:
            complete = len(acc)
        else:
            ends = (np.arange(self._done, self._done + len(acc)) + 1) * self._scale
            complete = int(np.count_nonzero(ends <= self._y + _EPS))
        self._emit(acc[:complete])
        self._open = acc[complete:].copy()

    def _down(self, rows: np.ndarray) -> np.ndarray:
        """The open output rows with `rows` (the band's next input rows, at the output width) added.

        Input row i covers [i, i+1), output row j covers [j*s, (j+1)*s) with s >= 1: row i falls in output
        row floor(i/s) and at most spills into the next one."""
        n, out_h, s = len(rows), self.size[1], self._scale
        i = np.arange(self._y, self._y + n, dtype=np.float64)
        j = np.clip(np.floor(i / s).astype(np.int64), self._done, out_h - 1)
        end = (j + 1) * s
        own = ((np.minimum(end, i + 1) - i) / s).astype(np.float32)
        spill = ((i + 1 - end) / s).astype(np.float32)
        spilled = np.flatnonzero((spill > _EPS) & (j + 1 < out_h))
        # (output row, input row, weight) grouped by output row; the k-th contributions of all output rows
        # are added in one step (their output rows differ, so the fancy-indexed += adds each once).
        target = np.concatenate([j, j[spilled] + 1])
        source = np.concatenate([np.arange(n), spilled])
        weight = np.concatenate([own, spill[spilled]])
        order = np.argsort(target, kind="stable")
        target, source, weight = target[order], source[order], weight[order]
        starts = np.flatnonzero(np.r_[True, target[1:] != target[:-1]])
        rank = np.arange(len(target)) - np.repeat(starts, np.diff(np.r_[starts, len(target)]))
        acc = np.zeros((int(target[-1]) - self._done + 1, self.size[0], self.channels), np.float32)
        acc[:len(self._open)] = self._open
        for k in range(int(rank.max()) + 1):
            pick = rank == k
            acc[target[pick] - self._done] += rows[source[pick]] * weight[pick, None, None]
        return acc

    def _emit(self, rows: np.ndarray) -> None:
        if self._out.dtype == np.uint8:
            np.clip(np.rint(rows, out=rows), 0, 255, out=rows)
        self._out[self._done:self._done + len(rows)] = rows
        self._done += len(rows)

    def result(self) -> np.ndarray:
        if self._y != self.height or self._done != self.size[1]:
            raise ValueError(f"only {self._y} of {self.height} rows were given")
        return self._out
