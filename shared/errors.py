"""One error type per failure family, each carrying the evidence a person needs to act on it."""

from __future__ import annotations


class MomentLoopError(Exception):
    """Base of every error MomentLoop raises on purpose. `str(err)` is one line a user can read."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint or self.hint

    @property
    def reason(self) -> str:
        return str(self)


class PicklesWhole(Exception):
    """Base (beside MomentLoopError) of errors whose constructors take keyword-only arguments, which pickling
    cannot replay: they are rebuilt from their message and attributes instead, so one raised in a Modal
    container arrives whole in the pipeline's process."""

    def __reduce__(self) -> tuple[object, ...]:
        return (restore_error, (type(self), self.args, dict(self.__dict__)))


def restore_error(cls: type[BaseException], args: tuple[object, ...], state: dict[str, object]) -> BaseException:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class InputError(MomentLoopError):
    """The user's input cannot be used (exit code 2 in the CLI, a 4xx over HTTP)."""


class PhotoError(InputError):
    """One photo cannot be used; the job goes on without it."""

    def __init__(self, message: str, *, name: str, hint: str = "") -> None:
        super().__init__(f"{name}: {message}", hint=hint)
        self.name = name


class MusicError(InputError):
    """The music file cannot be read or is too short to use."""


class NoUsablePhotosError(InputError):
    """Every photo given was rejected."""

    def __init__(self, rejections: list[tuple[str, str]]) -> None:
        # A photo's reason may already start with its name (PhotoError's message does): named once here.
        detail = "; ".join(f"{name}: {why.removeprefix(f'{name}: ')}" for name, why in rejections[:5])
        more = f" (+{len(rejections) - 5} more)" if len(rejections) > 5 else ""
        super().__init__(
            f"no usable photo among {len(rejections)} given" + (f" ({detail}{more})" if detail else ""),
            hint="give at least one JPEG, PNG, HEIC, WebP or AVIF photo",
        )
        self.rejections = rejections


class OptionError(InputError):
    """An option value is out of range or unknown."""


class MissingDependencyError(MomentLoopError):
    """A package MomentLoop uses here is not installed. Carries the module that failed to import, the
    package that provides it and the extra (`pip install 'momentloop[extra]'`) that installs it, if any."""

    def __init__(self, *, module: str, distribution: str, extra: str | None) -> None:
        install = f"pip install 'momentloop[{extra}]'" if extra else f"pip install {distribution}"
        super().__init__(f"{distribution} is not installed (no module named {module!r})", hint=install)
        self.module = module
        self.distribution = distribution
        self.extra = extra


class FFmpegError(MomentLoopError):
    """ffmpeg failed. Carries the command line and the tail of its stderr."""

    def __init__(self, message: str, *, cmd: list[str], stderr: str) -> None:
        tail = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
        super().__init__(f"{message}: {tail}")
        self.cmd = cmd
        self.stderr = stderr


class StoreError(MomentLoopError):
    """An artifact could not be read or written."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(f"{message}: {key}")
        self.key = key


class StageError(MomentLoopError):
    """A stage failed for one item; other items of the job are not affected."""

    def __init__(self, message: str, *, stage: str, item: str | None = None, hint: str = "") -> None:
        where = f"{stage}[{item}]" if item is not None else stage
        super().__init__(f"{where}: {message}", hint=hint)
        self.stage = stage
        self.item = item
