"""TFLite converters taught in notebook 11, and the plumbing to compare a model's forms.

A Keras model can be shipped as a ``.keras`` file, a TensorFlow SavedModel (a folder, for
TensorFlow Serving) or a TFLite flat buffer (a single file, for phones and small boards),
in float32, float16 or full-integer int8. The three converters (``float32_converter``,
``float16_converter``, ``int8_converter``) and ``representative_dataset``, the calibration
data of int8, are written in notebook 11's cells, each with the reason for its settings,
and copied into the generated block below: edit them there.

The rest is plumbing the notebook does not teach:

- ``convert_to_tflite``: SavedModel folder -> TFLite bytes, one of ``QUANTIZATIONS`` by
  name, arguments checked and the converter's native log hidden;
- ``load_interpreter``: a ready TFLite interpreter, from LiteRT (``ai_edge_litert``) when it
  is installed, else from ``tf.lite`` (which TF 2.21 says is deprecated);
- ``tflite_predict`` / ``saved_model_predict``: probabilities for a batch of images, with
  int8 inputs quantised and int8 outputs dequantised;
- ``median_latency``: seconds per image, one image at a time; ``path_size``: bytes on disk;
- ``comparison_figure``: bar charts of size, accuracy and latency per form.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from helpers.plots import NotebookFigure

QUANTIZATIONS = ("float32", "float16", "int8")
TFLITE_DEPRECATION = "tf.lite.Interpreter is deprecated"


def path_size(path: str | Path) -> int:
    """Return the size in bytes of the file at ``path``, or of every file under a folder.

    A SavedModel is a folder (graph, variables, assets), so its size is the sum.
    Raises ``FileNotFoundError`` naming ``path`` if it does not exist.
    """
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
    raise FileNotFoundError(f"{path}: no such file or folder; export the model first")


# ------------------------------------------------------------ the converters, from notebook 11


# >>> notebooks/11_export.ipynb (generated: python -m helpers.maintainer.lessons)
def float32_converter(saved_model_dir: str | Path) -> tf.lite.TFLiteConverter:
    """Return a converter that keeps the model as it is: float32 weights and arithmetic."""
    return tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))


def float16_converter(saved_model_dir: str | Path) -> tf.lite.TFLiteConverter:
    """Return a converter that stores the weights as float16 and computes in float32."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    return converter


CALIBRATION_IMAGES = 500  # the int8 converter measures each layer's range on these


def representative_dataset(
    images: np.ndarray, n: int = CALIBRATION_IMAGES
) -> Callable[[], Iterator[list[np.ndarray]]]:
    """Return what ``TFLiteConverter.representative_dataset`` expects, from ``images``.

    A function that yields the first ``n`` images one at a time, each as a list holding one
    float32 array of shape (1, *image_shape). Raises ``ValueError`` if ``images`` is empty
    or ``n`` < 1.
    """
    images = np.asarray(images, dtype=np.float32)
    if len(images) == 0:
        raise ValueError("images: got 0 images; pass some training images for calibration")
    if n < 1:
        raise ValueError(f"n: expected at least 1 calibration image, got {n}")

    def generate() -> Iterator[list[np.ndarray]]:
        for image in images[:n]:
            yield [image[np.newaxis]]

    return generate


def int8_converter(
    saved_model_dir: str | Path, representative_images: np.ndarray
) -> tf.lite.TFLiteConverter:
    """Return a converter to full-integer int8, calibrated on ``representative_images``.

    Weights, activations, input and output are int8; ``representative_images`` are float
    images in [0, 1], scaled like the training data.
    """
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset(representative_images)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter


# <<< notebooks/11_export.ipynb


def convert_to_tflite(
    saved_model_dir: str | Path,
    quantization: str = "float32",
    representative_images: np.ndarray | None = None,
) -> bytes:
    """Convert the SavedModel in ``saved_model_dir`` to TFLite; return the flat buffer.

    ``quantization`` names the converter of notebook 11: ``"float32"``, ``"float16"`` or
    ``"int8"`` (calibrated on ``representative_images``, float images in [0, 1]). The
    converter's native log lines (``fully_quantize: 0, ...``) are hidden.
    Raises ``ValueError`` for an unknown ``quantization``, or ``"int8"`` without
    ``representative_images``; ``FileNotFoundError`` if the folder is not a SavedModel.
    """
    from helpers.predict import native_stderr_silenced

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization: expected one of {QUANTIZATIONS}, got {quantization!r}")
    if quantization == "int8" and representative_images is None:
        raise ValueError("representative_images: int8 needs some training images to calibrate on")
    saved_model_dir = Path(saved_model_dir)
    if not (saved_model_dir / "saved_model.pb").exists():
        raise FileNotFoundError(
            f"{saved_model_dir}: not a SavedModel folder (no saved_model.pb); "
            "create it with model.export(path)"
        )
    if quantization == "float32":
        converter = float32_converter(saved_model_dir)
    elif quantization == "float16":
        converter = float16_converter(saved_model_dir)
    else:
        converter = int8_converter(saved_model_dir, representative_images)
    with native_stderr_silenced():
        return converter.convert()


def interpreter_backend() -> str:
    """Return which TFLite runtime ``load_interpreter`` uses, e.g. ``"ai_edge_litert 2.3.0"``."""
    try:
        return f"ai_edge_litert {metadata.version('ai-edge-litert')}"
    except metadata.PackageNotFoundError:
        return "tf.lite.Interpreter (deprecated; install ai-edge-litert)"


def load_interpreter(model: bytes | str | Path, num_threads: int | None = None) -> Any:
    """Return a TFLite interpreter for ``model`` (flat-buffer bytes or a ``.tflite`` path).

    Uses LiteRT's ``ai_edge_litert.interpreter.Interpreter`` when installed. Without it,
    falls back to ``tf.lite.Interpreter``, which works in TF 2.21 but warns that it is
    deprecated in favour of LiteRT: that one warning is caught, since the fix is to install
    ``ai-edge-litert``. The tensors are allocated; the native start-up line is hidden.
    Raises ``FileNotFoundError`` for a missing path, ``ValueError`` for bytes that are not
    a TFLite model.
    """
    from helpers.predict import native_stderr_silenced

    source: dict[str, Any]
    if isinstance(model, bytes | bytearray):
        source = {"model_content": bytes(model)}
    else:
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such TFLite file; convert the model first")
        source = {"model_path": str(path)}
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        Interpreter = tf.lite.Interpreter  # noqa: N806
    with warnings.catch_warnings(), native_stderr_silenced():
        warnings.filterwarnings("ignore", message=f".*{TFLITE_DEPRECATION}")
        interpreter = Interpreter(**source, num_threads=num_threads)
        interpreter.allocate_tensors()
    return interpreter


def quantize(images: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Return float ``images`` as the input tensor described by ``detail`` expects them.

    ``detail`` is one entry of ``interpreter.get_input_details()``. Float inputs are
    returned as float32; integer inputs as ``round(x / scale + zero_point)``, clipped to
    the integer type's range. Raises ``ValueError`` if an integer input has no scale.
    """
    dtype = np.dtype(detail["dtype"])
    if np.issubdtype(dtype, np.floating):
        return np.asarray(images, dtype=dtype)
    scale, zero_point = detail["quantization"]
    if scale == 0:
        raise ValueError(f"input {detail.get('name', '')!r}: integer input without a scale")
    info = np.iinfo(dtype)
    quantized = np.round(np.asarray(images, dtype=np.float64) / scale + zero_point)
    return np.clip(quantized, info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Return an output tensor described by ``detail`` as float32 (``(q - zero_point) * scale``).

    Float outputs are returned as they are, as float32.
    """
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.floating):
        return values.astype(np.float32)
    scale, zero_point = detail["quantization"]
    return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)


def _run(interpreter: Any, batch: np.ndarray) -> np.ndarray:
    input_detail = interpreter.get_input_details()[0]
    output_detail = interpreter.get_output_details()[0]
    if tuple(input_detail["shape"]) != batch.shape:
        interpreter.resize_tensor_input(input_detail["index"], list(batch.shape))
        interpreter.allocate_tensors()
        input_detail = interpreter.get_input_details()[0]
        output_detail = interpreter.get_output_details()[0]
    interpreter.set_tensor(input_detail["index"], quantize(batch, input_detail))
    interpreter.invoke()
    return dequantize(interpreter.get_tensor(output_detail["index"]), output_detail)


def tflite_predict(interpreter: Any, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Return the model's outputs (n, classes) as float32 for float ``images`` in [0, 1].

    Runs ``batch_size`` images per call, resizing the input tensor as needed; int8 inputs
    are quantised and int8 outputs dequantised with the scales stored in the model.
    Raises ``ValueError`` if ``images`` is empty or ``batch_size`` < 1.
    """
    images = np.asarray(images, dtype=np.float32)
    if len(images) == 0:
        raise ValueError("images: got 0 images")
    if batch_size < 1:
        raise ValueError(f"batch_size: expected at least 1, got {batch_size}")
    outputs = [
        _run(interpreter, images[i : i + batch_size]) for i in range(0, len(images), batch_size)
    ]
    return np.concatenate(outputs)


def tflite_predict_one(interpreter: Any) -> Callable[[np.ndarray], np.ndarray]:
    """Return a function that classifies one image (shape (1, 28, 28, 1)) with ``interpreter``.

    The input tensor is resized to one image once, here, so each call only copies the
    image in, runs the model and reads the output: what an app does per picture.
    """
    input_detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(input_detail["index"], [1, *input_detail["shape"][1:]])
    interpreter.allocate_tensors()

    def predict_one(image: np.ndarray) -> np.ndarray:
        return _run(interpreter, np.asarray(image, dtype=np.float32))

    return predict_one


def serving_function(loaded: Any, signature: str = "serving_default") -> Callable:
    """Return a function ``images -> outputs`` (NumPy in and out) for a loaded SavedModel.

    ``loaded`` comes from ``tf.saved_model.load``. Signatures take keyword arguments named
    after the model's input, so the name is looked up here. Raises ``KeyError`` listing the
    signatures the SavedModel has if ``signature`` is not one of them.
    """
    if signature not in loaded.signatures:
        raise KeyError(f"no signature {signature!r}; this SavedModel has {list(loaded.signatures)}")
    function = loaded.signatures[signature]
    (input_name,) = function.structured_input_signature[1]
    (output_name,) = function.structured_outputs

    def serve(images: np.ndarray) -> np.ndarray:
        outputs = function(**{input_name: tf.constant(images, dtype=tf.float32)})
        return outputs[output_name].numpy()

    return serve


def saved_model_predict(
    loaded: Any, images: np.ndarray, batch_size: int = 1000, signature: str = "serving_default"
) -> np.ndarray:
    """Return the outputs of a loaded SavedModel's ``signature`` for ``images``, in batches.

    Raises ``KeyError`` if the signature does not exist (see ``serving_function``).
    """
    serve = serving_function(loaded, signature)
    images = np.asarray(images, dtype=np.float32)
    return np.concatenate(
        [serve(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
    )


def accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    """Return the fraction of rows of ``outputs`` whose largest value is at the true label.

    Raises ``ValueError`` if the lengths differ.
    """
    outputs, labels = np.asarray(outputs), np.asarray(labels)
    if len(outputs) != len(labels):
        raise ValueError(f"got {len(outputs)} outputs for {len(labels)} labels")
    return float(np.mean(outputs.argmax(axis=1) == labels))


def median_latency(
    predict_one: Callable[[np.ndarray], object],
    image: np.ndarray,
    repeats: int = 50,
    warmup: int = 5,
) -> float:
    """Return the median time in seconds of ``predict_one(image)`` over ``repeats`` calls.

    ``warmup`` calls first are not timed (the first call often builds or allocates).
    The median ignores the odd slow call when another program uses the CPU.
    Raises ``ValueError`` if ``repeats`` < 1.
    """
    if repeats < 1:
        raise ValueError(f"repeats: expected at least 1, got {repeats}")
    for _ in range(warmup):
        predict_one(image)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict_one(image)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def comparison_figure(
    forms: Sequence[str],
    size_mb: Sequence[float],
    accuracy_percent: Sequence[float],
    latency_ms: Sequence[float],
) -> Figure:
    """Return three bar charts side by side: file size, test accuracy and latency per form.

    The accuracy axis starts near the lowest value, so small differences stay visible; every
    bar has its value written on it. Raises ``ValueError`` if the lengths differ.
    """
    columns = [
        ("file size (MB)", list(size_mb), "{:.2f}"),
        ("test accuracy (%)", list(accuracy_percent), "{:.2f}"),
        ("latency per image (ms)", list(latency_ms), "{:.3g}"),
    ]
    if any(len(values) != len(forms) for _, values, _ in columns):
        raise ValueError(f"expected {len(forms)} values per chart, one per form")
    fig = NotebookFigure(figsize=(12, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    colours = [f"C{i}" for i in range(len(forms))]
    for ax, (title, values, fmt) in zip(axes, columns, strict=True):
        bars = ax.bar(range(len(forms)), values, color=colours)
        ax.set_xticks(range(len(forms)), forms, rotation=30, ha="right")
        ax.set_title(title)
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=8)
        if title.startswith("test accuracy"):
            low, high = min(values), max(values)
            margin = max(0.5, (high - low) * 0.5)
            ax.set_ylim(max(0.0, low - margin), min(100.0, high + margin))
        else:
            ax.set_ylim(0, max(values) * 1.18 if max(values) > 0 else 1)
    return fig
