"""Model builders taught in notebook 08 (used by 07, 09, 10 and the benchmark), for 28x28 digits.

Notebook 08 writes them in its cells, marked ``# @save helpers.architectures``: edit those
cells, then run ``python -m helpers.maintainer.lessons``. Each builder returns an
uncompiled ``keras.Model`` that ends in a softmax over ``num_classes``; the article's own
CNN is ``helpers.models.build_article_cnn`` (notebook 03).

- ``one_cycle``: the learning-rate schedule that notebooks 08-10 train with;
- ``build_two_block_cnn``: the Keras example, two conv + pool blocks (also trained in 07);
- ``conv_bn_relu``, ``vgg_block``, ``build_vgg_cnn``: stacks of 3x3 convolutions with BatchNorm;
- ``residual_block``, ``build_small_resnet``: residual blocks;
- ``separable_block``, ``build_mobilenet_cnn``: depthwise-separable convolutions;
- ``inception_block``, ``build_inception_cnn``: parallel 1x1 / 3x3 / 5x5 / pool branches;
- ``comparison_builders``, ``fit_and_time``, ``compare_models``: the six models of 08's
  comparison and the loop that trains and times them, which ``helpers.maintainer.bench``
  reruns.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

import keras
import numpy as np
from keras import layers

from helpers import augment, config, models


# >>> notebooks/08_architectures.ipynb (generated: python -m helpers.maintainer.lessons)
def one_cycle(peak_lr: float, total_steps: int, warmup_fraction: float = 0.2):
    """Return a one-cycle learning-rate schedule: linear warm-up to ``peak_lr``, cosine to 0.

    It starts at ``peak_lr / 10``, rises for ``warmup_fraction`` of ``total_steps``, then
    decays along a cosine. Raises ``ValueError`` if ``total_steps`` < 2 or the fraction is
    not in (0, 1).
    """
    if total_steps < 2:
        raise ValueError(f"total_steps must be at least 2, got {total_steps}")
    if not 0 < warmup_fraction < 1:
        raise ValueError(f"warmup_fraction must be between 0 and 1, got {warmup_fraction}")
    warmup_steps = max(1, int(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_lr / 10,
        decay_steps=total_steps - warmup_steps,
        warmup_target=peak_lr,
        warmup_steps=warmup_steps,
    )


def build_two_block_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10
) -> keras.Model:
    """Return the Keras example CNN: two conv + max-pool blocks, dropout, softmax (34,826 params).

    Conv(32, 3x3) -> MaxPool -> Conv(64, 3x3) -> MaxPool -> Flatten -> Dropout(0.5) -> Dense.
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dropout(0.5, name="dropout"),
            layers.Dense(num_classes, activation="softmax", name="predictions"),
        ],
        name="two_block_cnn",
    )


BN_MOMENTUM = 0.9  # Keras' default is 0.99; 0.9 lets the running averages settle sooner


def conv_bn_relu(x, filters: int, kernel_size: int = 3, strides: int = 1, name: str = ""):
    """Return ``x`` after Conv2D (no bias, "same" padding) -> BatchNorm -> ReLU."""
    x = layers.Conv2D(
        filters, kernel_size, strides=strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def vgg_block(x, filters: int, name: str = ""):
    """Return ``x`` after two 3x3 conv-BN-ReLU units and 2x2 max pooling (a VGG block)."""
    x = conv_bn_relu(x, filters, name=f"{name}a")
    x = conv_bn_relu(x, filters, name=f"{name}b")
    return layers.MaxPooling2D(2, name=f"{name}_pool")(x)


def build_vgg_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 10,
    widths: tuple[int, ...] = (32, 64),
) -> keras.Model:
    """Return a VGG-style net: one VGG block per width, then Dropout(0.5) and a softmax.

    With the default widths (32, 64) a 28x28 input is pooled to 7x7x64 (96,938 params).
    """
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for block, width in enumerate(widths, start=1):
        x = vgg_block(x, width, name=f"block{block}")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="vgg_cnn")


def residual_block(x, filters: int, strides: int = 1, name: str = ""):
    """Return ``relu(F(x) + shortcut(x))`` with F = two 3x3 conv-BN layers.

    The shortcut is the identity, or a strided 1x1 conv + BN when the shape changes.
    """
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(
            filters, 1, strides=strides, use_bias=False, name=f"{name}_proj_conv"
        )(x)
        shortcut = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_proj_bn")(shortcut)
    y = conv_bn_relu(x, filters, strides=strides, name=f"{name}_1")
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_2_bn")(y)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_out")(y)


def build_small_resnet(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 10,
    widths: tuple[int, ...] = (32, 64, 128),
) -> keras.Model:
    """Return a small ResNet: a 3x3 stem, one strided residual block per width, global pooling.

    With the default widths a 28x28 input goes 28 -> 14 -> 7 -> 4 pixels (310,570 params).
    """
    inputs = keras.Input(shape=input_shape)
    x = conv_bn_relu(inputs, widths[0], name="stem")
    for block, width in enumerate(widths, start=1):
        x = residual_block(x, width, strides=2, name=f"res{block}")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="small_resnet")


def separable_block(x, filters: int, strides: int = 1, name: str = ""):
    """Return ``x`` after a MobileNet block: depthwise 3x3-BN-ReLU, then pointwise 1x1-BN-ReLU."""
    x = layers.DepthwiseConv2D(
        3, strides=strides, padding="same", use_bias=False, name=f"{name}_dw"
    )(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(name=f"{name}_dw_relu")(x)
    return conv_bn_relu(x, filters, kernel_size=1, name=f"{name}_pw")


def build_mobilenet_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10
) -> keras.Model:
    """Return a MobileNet-style net: a 3x3 stem then depthwise-separable blocks (69,258 params).

    Stem 32 -> separable 64 (stride 2) -> 128 (stride 2) -> 128 -> 256 (stride 2) -> global
    pooling -> Dense softmax: 28 -> 14 -> 7 -> 4 pixels.
    """
    inputs = keras.Input(shape=input_shape)
    x = conv_bn_relu(inputs, 32, name="stem")
    for block, (filters, strides) in enumerate([(64, 2), (128, 2), (128, 1), (256, 2)], start=1):
        x = separable_block(x, filters, strides=strides, name=f"sep{block}")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="mobilenet_cnn")


def inception_block(x, branch_filters: tuple[int, int, int, int], name: str = ""):
    """Return the concatenation of four parallel branches over ``x`` (an Inception block).

    Branches: 1x1; 1x1 -> 3x3; 1x1 -> 5x5 (two 3x3s); 3x3 max pool -> 1x1. The 1x1 convs
    before the larger ones halve the channels they see. ``branch_filters`` gives each
    branch's output channels.
    """
    f1, f3, f5, fpool = branch_filters
    b1 = conv_bn_relu(x, f1, kernel_size=1, name=f"{name}_1x1")
    b3 = conv_bn_relu(x, max(f3 // 2, 1), kernel_size=1, name=f"{name}_3x3_reduce")
    b3 = conv_bn_relu(b3, f3, name=f"{name}_3x3")
    b5 = conv_bn_relu(x, max(f5 // 2, 1), kernel_size=1, name=f"{name}_5x5_reduce")
    b5 = conv_bn_relu(b5, f5, name=f"{name}_5x5a")
    b5 = conv_bn_relu(b5, f5, name=f"{name}_5x5b")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_branch_pool")(x)
    bp = conv_bn_relu(bp, fpool, kernel_size=1, name=f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def build_inception_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10
) -> keras.Model:
    """Return an Inception-style net: a 3x3 stem, two Inception blocks, global pooling.

    Stem 32 -> pool -> Inception (16, 32, 16, 16 = 80 channels) -> pool -> Inception
    (32, 64, 32, 32 = 160 channels) -> global pooling -> Dense softmax; 28 -> 14 -> 7 pixels.
    """
    inputs = keras.Input(shape=input_shape)
    x = conv_bn_relu(inputs, 32, name="stem")
    x = layers.MaxPooling2D(2, name="stem_pool")(x)
    x = inception_block(x, (16, 32, 16, 16), name="inc1")
    x = layers.MaxPooling2D(2, name="inc1_pool")(x)
    x = inception_block(x, (32, 64, 32, 32), name="inc2")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="inception_cnn")


def comparison_builders() -> dict[str, Callable[[], keras.Model]]:
    """Return the six builders that notebook 08 compares, by display name, in table order."""
    return {
        "article CNN": models.build_article_cnn,
        "two-block CNN (Keras example)": build_two_block_cnn,
        "VGG-style (3x3 convs + BatchNorm)": build_vgg_cnn,
        "small ResNet": build_small_resnet,
        "MobileNet-style (separable convs)": build_mobilenet_cnn,
        "Inception-style": build_inception_cnn,
    }


def fit_and_time(model: keras.Model, batches, epochs: int, optimizer) -> float:
    """Compile ``model`` for integer labels, train it quietly on ``batches``; return the seconds."""
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(batches, epochs=epochs, shuffle=False, verbose=0)  # the pipeline shuffles
    return time.perf_counter() - start


def compare_models(
    builders: Mapping[str, Callable[[], keras.Model]],
    train: tuple[np.ndarray, np.ndarray],
    scored: Mapping[str, tuple[np.ndarray, np.ndarray]],
    epochs: int,
    batch_size: int = 128,
    peak_lr: float = 2e-3,
    seed: int = config.DEFAULT_SEED,
) -> tuple[list[dict], dict[str, keras.Model]]:
    """Train every model on equal terms; return one row per model, and the trained models.

    Same seed, data, epochs, batch size and one-cycle Adam for each; the training images
    (uint8 or float, see ``augment.augmented_dataset``) come through notebook 07's pipeline,
    without augmentation. A row holds the name, parameters, seconds per epoch, and an
    accuracy for each set in ``scored``: ``{"test": (x_test, y_test)}`` gives a "test
    accuracy" column.
    """
    x_train, y_train = train
    steps = epochs * math.ceil(len(x_train) / batch_size)
    rows, trained = [], {}
    for name, build in builders.items():
        config.set_seed(seed, deterministic=False)
        model = build()
        optimizer = keras.optimizers.Adam(learning_rate=one_cycle(peak_lr, steps))
        batches = augment.augmented_dataset(x_train, y_train, batch_size, seed=seed)
        seconds = fit_and_time(model, batches, epochs, optimizer)
        row = {
            "model": name,
            "parameters": model.count_params(),
            "seconds per epoch": seconds / epochs,
        }
        for split, (x, y) in scored.items():
            row[f"{split} accuracy"] = model.evaluate(x, y, batch_size=256, verbose=0)[1]
        rows.append(row)
        trained[name] = model
        scores = "  ".join(f"{split} {row[f'{split} accuracy']:.2%}" for split in scored)
        print(f"{name:<36} {seconds / epochs:6.1f} s/epoch  {scores}")
    return rows, trained


# <<< notebooks/08_architectures.ipynb
