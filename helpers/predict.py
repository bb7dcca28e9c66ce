"""Predict digits in photos from the command line, with notebook 12's preprocessing.

    python -m helpers.predict models/article_cnn.keras photo.jpg scan.png
    photo.jpg: 7 (98.1%), runner-up 1 (1.2%)
    scan.png: 3 (87.0%), runner-up 5 (9.9%)

Each picture is turned into a 28x28 MNIST-style image by ``helpers.digits.to_mnist``.
``--top K`` lists the K most likely digits; ``--json`` prints a JSON list with one object
per picture: ``file``, ``digit``, ``probability``, ``runner_up``,
``runner_up_probability`` and ``top`` (a list of ``{"digit", "probability"}``), or
``file`` and ``error`` when that picture could not be read.

Exit codes: 0 all pictures read; 1 at least one picture failed (the others are still
read); 2 the model could not be loaded, or bad arguments.

Only Keras 3 ``.keras`` files are loaded, with ``safe_mode=True``: a ``.keras`` file is a
zip of JSON and weights, while ``.h5``, ``.pkl`` and other pickles can run code when
opened, so they are refused without being opened.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from helpers import data, digits, saving

if TYPE_CHECKING:
    import keras

EXIT_OK = 0
EXIT_IMAGE_ERROR = 1
EXIT_MODEL_ERROR = 2
NUM_CLASSES = 10
INPUT_PIXELS = digits.MNIST_SIZE * digits.MNIST_SIZE


ModelFileError = saving.ModelFileError  # missing, not .keras, unsafe, or not for 28x28 digits


@dataclass(frozen=True)
class Prediction:
    """What the model read in one picture: ``top`` is (digit, probability), best first.

    ``error`` is set instead (and ``top`` is empty) when the picture could not be read.
    """

    file: str
    top: list[tuple[int, float]] = field(default_factory=list)
    error: str | None = None

    @property
    def digit(self) -> int | None:
        """The most likely digit, or None if the picture failed."""
        return self.top[0][0] if self.top else None

    @property
    def probability(self) -> float | None:
        """The probability of ``digit``, or None if the picture failed."""
        return self.top[0][1] if self.top else None

    def to_dict(self, top: int = 2) -> dict[str, object]:
        """Return the JSON-ready form: ``file`` and ``error``, or the digit and runner-up.

        ``top`` is how many (digit, probability) pairs the ``top`` list holds.
        """
        if self.error is not None:
            return {"file": self.file, "error": self.error}
        return {
            "file": self.file,
            "digit": self.top[0][0],
            "probability": self.top[0][1],
            "runner_up": self.top[1][0],
            "runner_up_probability": self.top[1][1],
            "top": [{"digit": d, "probability": p} for d, p in self.top[:top]],
        }


def load_model(path: str | os.PathLike) -> keras.Model:
    """Load a Keras 3 ``.keras`` model with ``safe_mode=True``, for inference only.

    Raises ``ModelFileError`` with a one-line reason if ``path`` is missing, is not a
    ``.keras`` zip archive (a ``.h5``, a pickle or a text file is never opened as a
    model), is unsafe or cannot be loaded (see ``helpers.saving.load_keras_model``), or
    does not take 28x28 images and give 10 classes.
    """
    model = saving.load_keras_model(path, compile=False)
    check_model(model, str(path))
    return model


def input_shape_for_digits(model: keras.Model, name: str = "model") -> tuple[int, ...]:
    """Return the shape (without the batch) in which ``model`` takes one 28x28 digit.

    A model with one input of 784 values in any layout, or with open sizes that a
    (28, 28, 1) image fills, qualifies. Raises ``ModelFileError`` naming ``name`` otherwise
    (several inputs, another size).
    """
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1:
        raise ModelFileError(f"{name}: takes {len(inputs)} inputs, not one image")
    shape = tuple(inputs[0].shape)[1:]
    if None not in shape:
        if int(np.prod(shape)) != INPUT_PIXELS:
            raise ModelFileError(f"{name}: takes inputs of shape {shape}, not 28x28 digits")
        return shape
    mnist = (digits.MNIST_SIZE, digits.MNIST_SIZE, 1)
    if len(shape) == 3 and all(d is None or d == m for d, m in zip(shape, mnist, strict=True)):
        return mnist
    raise ModelFileError(f"{name}: takes inputs of shape {shape}, which 28x28 digits do not fit")


def check_model(model: keras.Model, name: str = "model") -> None:
    """Check that ``model`` takes one 28x28 digit and gives 10 finite probabilities.

    The model is run on one blank image, before any picture is read. Raises
    ``ModelFileError`` naming ``name`` and what is wrong: the inputs, the output shape,
    NaN or infinite outputs (broken weights), or outputs that are not probabilities.
    """
    shape = input_shape_for_digits(model, name)
    output_shape = tuple(getattr(model, "output_shape", ()) or ())
    if output_shape[-1:] != (NUM_CLASSES,):
        raise ModelFileError(f"{name}: gives outputs of shape {output_shape}, not 10 classes")
    try:
        probe = np.asarray(model.predict(np.zeros((1, *shape), np.float32), verbose=0))
    except Exception as exc:  # a model that cannot run on one image is not usable at all
        raise ModelFileError(f"{name}: fails on a 28x28 image ({type(exc).__name__})") from exc
    check_probabilities(probe, name)


def check_probabilities(outputs: np.ndarray, name: str = "model") -> np.ndarray:
    """Return ``outputs`` (n, 10) as float64 if they are finite probabilities summing to 1.

    Raises ``ModelFileError`` naming ``name`` if any is NaN or infinite, or if they are not
    probabilities (a model should end in a softmax).
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim != 2 or outputs.shape[1] != NUM_CLASSES:
        raise ModelFileError(f"{name}: gives outputs of shape {outputs.shape}, not (n, 10)")
    if not np.all(np.isfinite(outputs)):
        raise ModelFileError(f"{name}: gives NaN or infinite outputs; its weights are broken")
    if np.any(outputs < 0) or not np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        raise ModelFileError(
            f"{name}: its outputs are not probabilities (they should end in a softmax)"
        )
    return outputs


def as_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Return ``outputs`` (n, 10) as probabilities: unchanged if they already are, else softmax."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if np.all(outputs >= 0) and np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def top_k(probabilities: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Return the ``k`` most likely (digit, probability) pairs of one row, best first."""
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [(int(d), round(float(probabilities[d]), 6)) for d in order]


def _without_name(message: str, name: str) -> str:
    prefix = f"{name}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def predict_images(
    model: keras.Model,
    sources: Sequence[digits.ImageSource],
    top: int = 2,
    max_pixels: int = digits.MAX_PIXELS,
) -> list[Prediction]:
    """Preprocess each picture with ``digits.to_mnist`` and classify them in one batch.

    Returns one ``Prediction`` per source, in order, with the ``max(top, 2)`` most likely
    digits; a picture that cannot be read gets ``error`` (why) instead, and never stops
    the others.
    """
    names = [digits.source_name(source) for source in sources]
    shape = input_shape_for_digits(model)
    images: dict[int, np.ndarray] = {}
    errors: dict[int, str] = {}
    for index, source in enumerate(sources):
        try:
            images[index] = digits.to_mnist(source, max_pixels=max_pixels)
        except digits.DigitImageError as exc:
            errors[index] = _without_name(str(exc), names[index])
        except Exception as exc:  # one bad picture never stops the others
            errors[index] = f"cannot be read ({type(exc).__name__}: {exc})".splitlines()[0]
    ranked: dict[int, list[tuple[int, float]]] = {}
    if images:
        batch = data.scale_images(np.stack(list(images.values())))
        batch = batch.reshape((len(images), *shape))
        probabilities = check_probabilities(model.predict(batch, verbose=0))
        for index, row in zip(images, probabilities, strict=True):
            ranked[index] = top_k(row, max(top, 2))
    return [
        Prediction(file=name, top=ranked.get(index, []), error=errors.get(index))
        for index, name in enumerate(names)
    ]


def format_prediction(prediction: Prediction, top: int = 2) -> str:
    """Return one line, e.g. ``photo.jpg: 7 (98.1%), runner-up 1 (1.2%)``.

    ``top=1`` leaves out the runner-up; ``top`` above 2 adds ``then 4 (0.3%), ...``.
    Failed pictures give ``photo.jpg: error: <why>``.
    """
    if prediction.error is not None:
        return f"{prediction.file}: error: {prediction.error}"
    shown = [f"{digit} ({probability:.1%})" for digit, probability in prediction.top[:top]]
    line = f"{prediction.file}: {shown[0]}"
    if len(shown) > 1:
        line += f", runner-up {shown[1]}"
    if len(shown) > 2:
        line += ", then " + ", ".join(shown[2:])
    return line


@contextlib.contextmanager
def native_stderr_silenced(enabled: bool = True) -> Iterator[None]:
    """Send file descriptor 2 to the null device while TensorFlow starts and runs.

    TensorFlow 2.21's C++ start-up lines (oneDNN, CUDA drivers) ignore
    ``TF_CPP_MIN_LOG_LEVEL``, so only redirecting the descriptor hides them.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no real descriptor (some embedded consoles): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def top_count(text: str) -> int:
    """Parse ``--top``: an integer from 1 to 10 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= NUM_CLASSES:
        raise argparse.ArgumentTypeError(f"expected 1 to {NUM_CLASSES}, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of ``python -m helpers.predict``."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.predict",
        description="Read the handwritten digit in each picture with a trained .keras model.",
        epilog="Exit codes: 0 all read, 1 some picture failed, 2 bad model or arguments.",
    )
    parser.add_argument("model", help="a Keras 3 .keras file, e.g. models/article_cnn.keras")
    parser.add_argument("images", nargs="+", metavar="image", help="PNG, JPEG, BMP or GIF files")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of lines")
    parser.add_argument(
        "--top",
        type=top_count,
        default=2,
        metavar="K",
        help="how many likely digits to show (1-10, default 2: the digit and runner-up)",
    )
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's own start-up log")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0, 1 or 2, see the module docstring)."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
    with native_stderr_silenced(not args.verbose):
        try:
            model = load_model(args.model)
        except ModelFileError as exc:
            model, model_error = None, str(exc)
        if model is not None:
            try:
                predictions = predict_images(model, args.images, top=args.top)
            except ModelFileError as exc:  # outputs that are not finite probabilities
                model, model_error = None, str(exc)
    if model is None:
        print(f"error: {model_error}", file=sys.stderr)
        return EXIT_MODEL_ERROR
    if args.json:
        print(json.dumps([p.to_dict(top=args.top) for p in predictions], indent=2))
    else:
        for prediction in predictions:
            stream = sys.stderr if prediction.error else sys.stdout
            print(format_prediction(prediction, top=args.top), file=stream, flush=True)
    return EXIT_IMAGE_ERROR if any(p.error for p in predictions) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
