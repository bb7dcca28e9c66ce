# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 11 · Export the model
#
# Save the trained CNN in the forms it is shipped in (a `.keras` file, a TensorFlow
# SavedModel, and TFLite files in float32, float16 and int8) and measure what each form
# costs in file size, accuracy and speed.
#
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mnist-cnn-course/mnist-cnn-course/main?urlpath=lab/tree/notebooks/11_export.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-cnn-course/mnist-cnn-course/blob/main/notebooks/11_export.ipynb)
#
# [Previous: 10 · Speed run](10_speed_run.ipynb) · [Next: 12 · Read your own digit](12_your_own_digit.ipynb)

# %% [markdown]
# ## What you will learn
#
# - how to save a model as a `.keras` file and load it back safely (`safe_mode=True`), and
#   how to check that the reloaded model predicts exactly the same;
# - how `model.export` writes a SavedModel for TensorFlow Serving, and how to call its
#   serving signature;
# - how to convert to TFLite for phones and small boards with `tf.lite.TFLiteConverter`,
#   and which settings make float16 and full-integer int8 models (`optimizations`,
#   `target_spec`, a `representative_dataset`, `inference_input_type`);
# - what those forms do to size, accuracy and speed;
# - how to run an int8 model with the LiteRT interpreter, feeding it int8 pixels.
#
# ## Before you start
#
# This notebook needs a trained model. It uses the best one saved so far:
# `best_model.keras` from notebook 09 if it exists, else `article_cnn.keras` from notebook
# 04. If neither has been run it trains the article's CNN for a short while itself and says
# so. Everything it writes goes to `models/export/` (`models/fast/export/` in fast mode):
# `digits.keras`, the `saved_model/` folder and three `.tflite` files. In full mode it takes
# under a minute on a laptop CPU (plus 3 epochs of training if no saved model is found).

# %% [markdown]
# ## Setup
#
# Besides TensorFlow, the TFLite models run in LiteRT (`ai_edge_litert`), the new home of
# the TFLite interpreter; the setup cell prints which one `helpers.export` found.

# %% [markdown]
# *Only on Colab*: the next cell fetches the course (its `helpers` package and pins) and
# installs what Colab lacks. Anywhere else it does nothing at all.

# %% cellView="form" jupyter={"source_hidden": true}
# @title Only on Colab: fetch the course, install what Colab lacks (elsewhere: nothing)
import sys

if "google.colab" in sys.modules:  # on Colab only: fetch the course, then set it up
    import os
    import subprocess

    course_dir = "/content/mnist-cnn-course"
    if not os.path.isdir(course_dir):
        url = "https://github.com/mnist-cnn-course/mnist-cnn-course"
        subprocess.run(["git", "clone", "--depth", "1", url, course_dir], check=True)
    sys.path.insert(0, course_dir)
    from helpers import colab

    colab.setup(course_dir)

# %% cellView="form" jupyter={"source_hidden": true}
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up log

import json
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from IPython.display import Markdown, display

from helpers import config, data, export, models, plots, predict, saving

tf.get_logger().setLevel("WARNING")  # in Jupyter, TensorFlow also prints its INFO lines
config.set_seed()
FAST = config.fast_mode()
print(config.describe_mode())
print("TensorFlow", tf.__version__, "| Keras", keras.__version__)
print("TFLite runtime:", export.interpreter_backend())

# %% [markdown]
# ## Load the data
#
# Every form of the model is measured on all 10,000 test images. The training images serve
# twice: to calibrate the int8 model, and to train a short model if no saved one exists
# (fast mode keeps 6,000 of them). They stay bytes (uint8), as in notebook 07, a quarter of
# the memory of float32; each use scales the images it takes (`data.scale_images`).

# %%
n_train = 6_000 if FAST else None
(x_train, y_train), (x_val, y_val), (x_test, y_test) = data.prepare_mnist(
    n_train=n_train, scale=False
)
x_val, x_test = data.scale_images(x_val), data.scale_images(x_test)
print(f"training images: {x_train.shape} {x_train.dtype}")

# %%
# NBVAL_CHECK_OUTPUT
print("test:", x_test.shape, x_test.dtype, "| labels", y_test.shape, y_test.dtype)

# %% [markdown]
# ## Find the trained model
#
# `saving.load_course_model()` loads the best model the course has saved so far, best first
# (read it in `helpers/saving.py`).

# %%
found = saving.load_course_model()
if found is not None:
    model, model_path, model_description = found
    print(f"using {model_description}: {model_path.name}")
else:
    model = None
    print("no saved model: run notebook 04 (or 09) first, or let the next cell train one")

# %% [markdown]
# Without a saved model, train the article's CNN here as notebook 04 does, only shorter:
# 3 epochs on all training images in full mode, 1 epoch on 6,000 in fast mode. It trains
# for far less time than the real one, but everything below works the same.

# %%
if model is None:
    epochs = 1 if FAST else 3
    batch_size = 128
    model_description = f"the article's CNN, trained here for {epochs} epoch(s)"
    print(f"training {model_description} on {len(x_train):,} images")
    model, _ = models.train_article_cnn(
        data.scale_images(x_train),
        y_train,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=batch_size,
    )
print(f"model: {model.name}, {model.count_params():,} parameters")

# %% [markdown]
# The probabilities of the model in memory on the test set are the reference: every
# exported form should give (almost) the same.

# %%
keras_probs = model.predict(x_test, batch_size=500, verbose=0)
keras_accuracy = export.accuracy(keras_probs, y_test)
print(f"test accuracy of the model in memory: {keras_accuracy:.2%}")

# %% [markdown]
# ## Save and reload a `.keras` file
#
# A `.keras` file is a zip archive holding the model's architecture (JSON), its weights
# and the optimizer's state. It is the format to keep a model in while you work with Keras.
# `saving.save_model_atomically` writes it under a temporary name and renames it when
# complete, so a crash never leaves half a file where a model is expected.

# %%
export_dir = config.models_dir() / "export"
keras_path = saving.save_model_atomically(model, export_dir / "digits.keras")
with zipfile.ZipFile(keras_path) as archive:
    print(f"{keras_path.name}: {keras_path.stat().st_size / 1e6:.2f} MB, holds", archive.namelist())

# %% [markdown]
# Load it back with `safe_mode=True` (the default, written out here so it is visible):
# Keras rebuilds the layers from the JSON and refuses to run any Python code stored in the
# file, such as a `Lambda` layer's function, so a model file from someone else cannot
# execute anything on your machine.

# %%
reloaded = keras.saving.load_model(keras_path, safe_mode=True)
reloaded_probs = reloaded.predict(x_test, batch_size=500, verbose=0)
max_difference = np.abs(reloaded_probs - keras_probs).max()
print(f"largest difference in any probability: {max_difference:.1e}")

# %% [markdown]
# Same weights and same operations give the same numbers: `np.testing` stops the notebook
# if the two differ by more than rounding.

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(reloaded_probs, keras_probs, rtol=0, atol=1e-6)
np.testing.assert_array_equal(reloaded_probs.argmax(axis=1), keras_probs.argmax(axis=1))
print(f"the reloaded model gives the same probabilities on all {len(x_test):,} test images")

# %% [markdown]
# > **Note: the article** installs `h5py` "to save the model", the way Keras 2 wrote models:
# > `model.save("model.h5")`. In Keras 3 an `.h5` file is a legacy format (Keras warns when
# > you write one), and `safe_mode` does not protect you when loading one. Save with
# > `model.save("model.keras")` and load with `keras.saving.load_model(path)`, as above.
# > Never load a model with `pickle`: unpickling runs whatever code the file contains.

# %% [markdown]
# ## Export a SavedModel
#
# TensorFlow Serving, TensorFlow.js and many cloud services take a *SavedModel*: a folder
# with the computation graph and the weights, which needs TensorFlow but not Keras or your
# Python code. `model.export` writes one with a serving endpoint that takes a batch of
# 28x28x1 images and returns 10 probabilities per image.

# %%
saved_model_dir = export_dir / "saved_model"
shutil.rmtree(saved_model_dir, ignore_errors=True)  # start from an empty folder
model.export(saved_model_dir, verbose=False)
for path in sorted(saved_model_dir.rglob("*")):
    size = f"{path.stat().st_size:>10,} bytes" if path.is_file() else "    (folder)"
    print(f"{size}  {path.relative_to(saved_model_dir)}")

# %% [markdown]
# Load it with plain TensorFlow, as a server would. The serving signature takes keyword
# arguments named after the model's input; `export.serving_function` looks the name up and
# wraps the call.

# %%
loaded = tf.saved_model.load(str(saved_model_dir))
signature = loaded.signatures["serving_default"]
print("signatures:", list(loaded.signatures))
print("input: ", signature.structured_input_signature[1])
print("output:", signature.structured_outputs)

# %%
saved_model_probs = export.saved_model_predict(loaded, x_test)
print(f"largest difference from Keras: {np.abs(saved_model_probs - keras_probs).max():.1e}")
np.testing.assert_allclose(saved_model_probs, keras_probs, rtol=0, atol=1e-5)

# %% [markdown]
# ## Convert to TFLite
#
# TFLite (now LiteRT) runs models on phones, microcontrollers and in browsers: one small
# file, a small runtime, no TensorFlow. `tf.lite.TFLiteConverter` reads the SavedModel and
# writes a flat buffer in one of three forms:
#
# - **float32**: the weights as they are, 4 bytes each;
# - **float16**: the weights stored in 2 bytes each, computed in float32;
# - **int8** (full-integer quantisation): weights *and* activations as 8-bit integers, one
#   byte per weight, and integer arithmetic, which small chips do fast. Each tensor gets a
#   scale and a zero point, $\text{real} = (\text{int8} - \text{zero point}) \times
#   \text{scale}$.
#
# Each form is a converter with a few settings, written below as one short function each.
# The cells marked `# @save helpers.export` are also the code of `helpers/export.py`
# (`python -m helpers.maintainer.lessons` copies them there), where the tests use them.
#
# Float32 needs no settings: the converter turns the SavedModel's graph into TFLite
# operations and keeps the weights as they are. (`TFLiteConverter.from_keras_model(model)`
# starts from the model in memory instead; it writes a SavedModel to a temporary folder
# first, so we start from the one we have.)


# %%
# @save helpers.export
def float32_converter(saved_model_dir: str | Path) -> tf.lite.TFLiteConverter:
    """Return a converter that keeps the model as it is: float32 weights and arithmetic."""
    return tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))


# %% [markdown]
# Float16 takes two settings. `optimizations = [tf.lite.Optimize.DEFAULT]` allows the
# converter to quantise, and `target_spec.supported_types = [tf.float16]` says to which
# type: the weights are stored as 16-bit floats, half the bytes. On a CPU they are turned
# back into float32 when the model is loaded, so the arithmetic stays float32 and only the
# weights' rounding changes (a GPU delegate can compute in float16 directly).


# %%
# @save helpers.export
def float16_converter(saved_model_dir: str | Path) -> tf.lite.TFLiteConverter:
    """Return a converter that stores the weights as float16 and computes in float32."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    return converter


# %% [markdown]
# Int8 needs more: the scale of each weight tensor follows from the weights, but the scale
# of each *activation* depends on the inputs. So the converter runs some representative
# inputs through the float model and records every tensor's range.
# `representative_dataset` is a function that yields them, one at a time, each as a list
# holding one array per input of the model (ours has one), shaped like a batch of one
# image. We take the first `CALIBRATION_IMAGES` training images, scaled like the training
# data: enough to cover every digit many times, and never test images, which must stay
# unseen until the model is measured.

# %%
# @save helpers.export
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


# %% [markdown]
# With the calibration data, three more settings make the model integer from end to end:
#
# - `target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]` allows only int8
#   operations, so that the conversion fails, rather than quietly keeping a layer in
#   float, if some layer cannot be quantised;
# - `inference_input_type = tf.int8` and `inference_output_type = tf.int8` make the
#   model's input and output int8 too. Without them they stay float32, with a conversion
#   at each end, which a chip that only does integer arithmetic cannot run.


# %%
# @save helpers.export
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


# %% [markdown]
# Convert the SavedModel three times and write the files. `converter.convert()` returns the
# flat buffer as bytes; its native log lines (`fully_quantize: 0, ...`) are hidden.

# %%
converters = {
    "float32": float32_converter(saved_model_dir),
    "float16": float16_converter(saved_model_dir),
    "int8": int8_converter(saved_model_dir, data.scale_images(x_train[:CALIBRATION_IMAGES])),
}
tflite_paths = {}
for quantization, converter in converters.items():
    with predict.native_stderr_silenced():
        content = converter.convert()
    tflite_paths[quantization] = export_dir / f"digits_{quantization}.tflite"
    tflite_paths[quantization].write_bytes(content)
    print(f"{tflite_paths[quantization].name}: {len(content) / 1e6:.2f} MB")

# %% [markdown]
# > **Note: TFLite is now LiteRT.** Older tutorials run `.tflite` files with
# > `tf.lite.Interpreter`. In TensorFlow 2.21 it still works, but creating one prints a
# > warning that it is deprecated and scheduled for deletion: the interpreter has moved to
# > the `ai-edge-litert` package, with the same API:
# > `from ai_edge_litert.interpreter import Interpreter`. This course installs it, and
# > `export.load_interpreter` uses it (it falls back to `tf.lite.Interpreter`, with that
# > warning caught, only where LiteRT is missing). The converter, `tf.lite.TFLiteConverter`,
# > is still part of TensorFlow 2.21 and shows no warning; the `.tflite` files it writes
# > are exactly what LiteRT reads.

# %% [markdown]
# ## Look at the int8 model's input and output
#
# The int8 model takes int8 pixels and returns int8 scores; the scales stored in the model
# say how to convert. For the input, calibration found pixels from 0 to 1, so the scale is
# 1/255 and the zero point -128: a pixel of value *p*/255 is fed as the integer *p* - 128.

# %%
int8_interpreter = export.load_interpreter(tflite_paths["int8"])
int8_input = int8_interpreter.get_input_details()[0]
int8_output = int8_interpreter.get_output_details()[0]

# %%
# NBVAL_CHECK_OUTPUT
input_scale, input_zero_point = int8_input["quantization"]
print("input: ", int8_input["dtype"].__name__, int8_input["shape"].tolist())
print(f"        scale 1/{1 / input_scale:.0f}, zero point {input_zero_point}")
print("output:", int8_output["dtype"].__name__, int8_output["shape"].tolist())

# %% [markdown]
# ## Compare the forms
#
# For each form: the file size on disk, the accuracy on all 10,000 test images, and the
# latency: the median time to classify *one* image, as an app does, on this CPU. The TFLite
# models run in batches for the accuracy (`export.tflite_predict` quantises the inputs and
# dequantises the outputs for int8) and one image at a time for the latency.

# %%
repeats = 50 if FAST else 200
one_image = x_test[:1]
forms = {
    "Keras (.keras)": (keras_path, keras_probs, model.predict_on_batch),
    "SavedModel": (saved_model_dir, saved_model_probs, export.serving_function(loaded)),
}
for quantization, path in tflite_paths.items():
    interpreter = export.load_interpreter(path)
    probs = export.tflite_predict(interpreter, x_test)
    forms[f"TFLite {quantization}"] = (path, probs, export.tflite_predict_one(interpreter))

rows = []
for form, (path, probs, predict_one) in forms.items():
    rows.append(
        {
            "form": form,
            "file": path.name,
            "size (MB)": export.path_size(path) / 1e6,
            "test accuracy (%)": 100 * export.accuracy(probs, y_test),
            "agrees with Keras (%)": 100 * np.mean(probs.argmax(1) == keras_probs.argmax(1)),
            "latency (ms)": 1000 * export.median_latency(predict_one, one_image, repeats),
        }
    )
comparison = pd.DataFrame(rows).set_index("form")
del forms, interpreter, predict_one  # the three interpreters go; the table keeps their numbers
comparison.round(3)

# %% [markdown]
# The same numbers as bars. Latencies depend on this machine and on what else it is doing,
# so expect other values on yours; the sizes and accuracies do not depend on the machine.

# %%
export.comparison_figure(
    list(comparison.index),
    comparison["size (MB)"],
    comparison["test accuracy (%)"],
    comparison["latency (ms)"],
)

# %% [markdown]
# What the table says, computed from it:

# %%
sizes, accuracies = comparison["size (MB)"], comparison["test accuracy (%)"]
latencies = comparison["latency (ms)"]
float32, float16, int8 = "TFLite float32", "TFLite float16", "TFLite int8"


def change(form: str) -> str:
    points = accuracies[form] - accuracies[float32]
    return (
        "test accuracy unchanged" if abs(points) < 0.005 else f"test accuracy {points:+.2f} points"
    )


fastest = latencies.idxmin()
int8_speed = latencies[float32] / latencies[int8]
int8_speed_words = (
    f"{int8_speed:.1f} times faster" if int8_speed >= 1 else f"{1 / int8_speed:.1f} times slower"
)
display(
    Markdown(
        f"The `.keras` file is {sizes['Keras (.keras)'] / sizes[float32]:.1f} times the size of "
        f"the float32 TFLite file, the SavedModel {sizes['SavedModel'] / sizes[float32]:.1f} "
        f"times. Float16 makes the TFLite file {sizes[float16] / sizes[float32]:.2f} of the "
        f"float32 size ({change(float16)}), int8 {sizes[int8] / sizes[float32]:.2f} "
        f"({change(int8)}). The fastest form per image on this machine is {fastest}, at "
        f"{latencies[fastest]:.3f} ms; int8 is {int8_speed_words} than float32."
    )
)

# %% [markdown]
# Why the sizes differ: a `.keras` file of a compiled model also holds the optimizer's
# state (Adam keeps two numbers per weight). The SavedModel holds the graph
# (`saved_model.pb`, listed above) and, as Keras writes it, every variable twice: under
# `variables/` and under `_all_variables/`. Count what its variables file stores:

# %%
checkpoint = str(saved_model_dir / "variables" / "variables")
stored = sum(
    int(np.prod(shape)) for name, shape in tf.train.list_variables(checkpoint) if "/" in name
)
print(f"numbers in the SavedModel's variables: {stored:,}")
print(f"parameters of the model:               {model.count_params():,}")
print(f"numbers stored per parameter:          {stored / model.count_params():.1f}")

# %% [markdown]
# The TFLite files hold each weight once: 4, 2 or 1 bytes of it, plus the graph and, for
# int8, the scales. The graph is the same in all three, so the quantised files come out
# somewhat more than exactly a half and a quarter of the float32 one.

# %% [markdown]
# ## Check the int8 model
#
# A quantised model is worth shipping if it is much smaller and barely less accurate. Our
# targets: at most a third of the float32 file, and at most 0.2 percentage points less test
# accuracy. In fast mode the model is trained for a moment only, so the checks are printed
# but not enforced.

# %%
size_ratio = (
    comparison.loc["TFLite int8", "size (MB)"] / comparison.loc["TFLite float32", "size (MB)"]
)
accuracy_drop = (
    comparison.loc["TFLite float32", "test accuracy (%)"]
    - comparison.loc["TFLite int8", "test accuracy (%)"]
)
max_size_ratio, max_accuracy_drop = 1 / 3, 0.2
size_ok, accuracy_ok = size_ratio <= max_size_ratio, accuracy_drop <= max_accuracy_drop
print(
    f"int8 size / float32 size: {size_ratio:.3f} (target at most {max_size_ratio:.3f}): "
    f"{'ok' if size_ok else 'MISSED'}"
)
print(
    f"accuracy lost by int8: {accuracy_drop:+.2f} points (target at most {max_accuracy_drop} "
    f"points): {'ok' if accuracy_ok else 'MISSED'}"
)
if not FAST:
    assert size_ok and accuracy_ok, "the int8 model misses a target: see the two lines above"

# %% [markdown]
# ## Run the int8 model on a few digits
#
# This is what an app does with the `.tflite` file, step by step: convert the pixels to
# int8 with the input's scale and zero point, copy them into the input tensor, run, read the
# int8 output and convert it back to probabilities.

# %%
digits_to_show = x_test[:12]
int8_interpreter.resize_tensor_input(int8_input["index"], list(digits_to_show.shape))
int8_interpreter.allocate_tensors()
int8_input = int8_interpreter.get_input_details()[0]
int8_output = int8_interpreter.get_output_details()[0]

pixels_int8 = np.round(digits_to_show / input_scale + input_zero_point).astype(np.int8)
int8_interpreter.set_tensor(int8_input["index"], pixels_int8)
int8_interpreter.invoke()
scores_int8 = int8_interpreter.get_tensor(int8_output["index"])
output_scale, output_zero_point = int8_output["quantization"]
int8_probs = (scores_int8.astype(np.float32) - output_zero_point) * output_scale

print("first image, raw int8 output:", scores_int8[0].tolist())
print("as probabilities:            ", np.round(int8_probs[0], 3).tolist())

# %% [markdown]
# The twelve digits with the int8 model's answer and its probability, and the true label:

# %%
predicted = int8_probs.argmax(axis=1)
titles = [
    f"{p} ({int8_probs[i, p]:.0%})" + ("" if p == y else f"\ntrue {y}")
    for i, (p, y) in enumerate(zip(predicted, y_test[:12], strict=True))
]
plots.image_grid(digits_to_show, titles=titles, ncols=6, title="int8 TFLite predictions")

# %% [markdown]
# ## Summary
#
# - Keep models as `.keras` files; load them with `keras.saving.load_model(path,
#   safe_mode=True)` and check the reloaded model predicts the same (`np.testing`).
# - `model.export(path)` writes a SavedModel for TensorFlow Serving; `tf.saved_model.load`
#   and its `serving_default` signature run it without Keras.
# - `tf.lite.TFLiteConverter.from_saved_model` makes TFLite files. Float16:
#   `optimizations = [tf.lite.Optimize.DEFAULT]` and `target_spec.supported_types =
#   [tf.float16]`, 2 bytes per weight. Full-integer int8: a `representative_dataset` of
#   training images to calibrate on, `supported_ops = [TFLITE_BUILTINS_INT8]` and int8
#   `inference_input_type` and `inference_output_type`, 1 byte per weight, with inputs and
#   outputs that need the stored scale and zero point. What each costs in accuracy is
#   measured, on the test set, not assumed: the table above.
# - Run `.tflite` files with LiteRT's `Interpreter` (`ai_edge_litert`), not the deprecated
#   `tf.lite.Interpreter`.
#
# Next, notebook 12 feeds the model photos of handwritten digits, and digits you draw.

# %% [markdown]
# ## Exercises
#
# 1. *Dynamic-range* quantisation stores the weights as int8 but keeps float inputs,
#    outputs and activations, and needs no representative data: set only
#    `converter.optimizations = [tf.lite.Optimize.DEFAULT]` on `float32_converter`'s
#    converter. Convert the SavedModel that way and compare its size and test accuracy with
#    the float32 and int8 files.
# 2. Latency per image is not throughput. Time the float32 and int8 TFLite models on the
#    whole test set in batches of 1, 32 and 500 images and compute the time per image. Is
#    it lower in large batches, and by how much? What could make the difference?
# 3. Open `digits.keras` with `zipfile` and read its `config.json`: list the class name and
#    the name of each layer, and find the file that holds the weights.

# %% [markdown]
# **Solution to exercise 1**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
converter = float32_converter(saved_model_dir)
converter.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative data: weights only
with predict.native_stderr_silenced():  # hide the converter's native log lines
    dynamic_content = converter.convert()
dynamic_interpreter = export.load_interpreter(dynamic_content)
dynamic_accuracy = 100 * export.accuracy(export.tflite_predict(dynamic_interpreter, x_test), y_test)
print("input type:", dynamic_interpreter.get_input_details()[0]["dtype"].__name__)
print(f"dynamic range: {len(dynamic_content) / 1e6:.2f} MB, test accuracy {dynamic_accuracy:.2f}%")
print(
    comparison.loc[["TFLite float32", "TFLite int8"], ["size (MB)", "test accuracy (%)"]].round(2)
)
# The weights are int8, as in the int8 file, but the input, output and activations stay
# float: no help on chips that only do integer arithmetic.

# %% [markdown]
# **Solution to exercise 2**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
for quantization in ["float32", "int8"]:
    interpreter = export.load_interpreter(tflite_paths[quantization])
    for batch in [1, 32, 500]:
        images = x_test[:2_000] if batch == 1 else x_test
        start = time.perf_counter()
        export.tflite_predict(interpreter, images, batch_size=batch)
        per_image = (time.perf_counter() - start) / len(images)
        print(f"{quantization:>7}, batches of {batch:>3}: {1e6 * per_image:7.1f} µs per image")
# Each call has a fixed cost (Python, copying in, starting the kernels) that a batch shares
# among its images; how much that saves depends on how it compares with the arithmetic per
# image. Very large batches can gain nothing more, or be slower per image, once the
# activations no longer fit in the CPU's cache: compare the three lines above.

# %% [markdown]
# **Solution to exercise 3**

# %% cellView="form" jupyter={"source_hidden": true}
# @title Solution
with zipfile.ZipFile(keras_path) as archive:
    keras_config = json.loads(archive.read("config.json"))
    print("files:", {info.filename: info.file_size for info in archive.infolist()})
print("class:", keras_config["class_name"])
for layer in keras_config["config"]["layers"]:
    print(f"  {layer['class_name']:<20} {layer['config']['name']}")
# The weights are in model.weights.h5: an HDF5 file inside the zip, holding numbers only.
