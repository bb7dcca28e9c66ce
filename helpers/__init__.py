"""Small, tested helpers for the MNIST CNN course notebooks.

Importing this package changes nothing: every helper acts only when called.

- ``config``: fast or full mode, where data and models live, seeding
- ``data``: fetch, verify and prepare MNIST
- ``models``: the article's CNN, shared by several notebooks
- ``architectures``, ``augment``, ``bench``: other models, augmentation, the benchmark
- ``training``: save and load training histories
- ``saving``: load ``.keras`` models safely, save them atomically
- ``plots`` and ``evaluation``: figures and tables for the notebooks
- ``digits`` and ``predict``: read a photo of a digit the MNIST way, and predict it
- ``environment``: compare installed versions with the pins
- ``export``, ``drawpad``: SavedModel/TFLite export, the drawing pad of notebook 12
- ``distribute``, ``fashion_mnist``: tf.distribute helpers, a verified Fashion-MNIST
- ``links``, ``colab``: Binder/Colab links, and setting up a Colab session
- ``runner``: execute notebooks top to bottom, as ``make course`` does
"""
