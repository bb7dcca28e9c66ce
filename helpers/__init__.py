"""Small, tested helpers for the MNIST CNN course notebooks.

Importing this package changes nothing: every helper acts only when called. Each module's
first line names the notebook that introduces it. A function a lesson teaches is written
in that notebook's cell, marked ``# @save helpers.<module>``, and copied into the module by
``python -m helpers.maintainer.lessons``; the rest is plumbing.

Lessons (generated from notebook cells, plus the plumbing next to them):

- ``models`` (03, 04), ``training`` (04), ``evaluation`` (05), ``plots`` (01-06),
  ``augment`` (07), ``architectures`` (08), ``best_model`` (09), ``speed_run`` (10),
  ``export`` (11), ``digits`` and ``drawpad`` (12), ``distribute`` (13).

Plumbing the notebooks call:

- ``config``: fast or full mode, where data and models live, seeding;
- ``data``, ``fashion_mnist``: fetch and verify the datasets;
- ``saving``: load ``.keras`` models safely, save them atomically;
- ``environment``: the installed versions against the pins, and this machine;
- ``colab``: set up a Colab session; ``predict``: the command-line predictor.

Maintainer tools, never imported by a lesson, are in ``helpers.maintainer``.
"""
