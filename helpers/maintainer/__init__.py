"""Maintainer tools: nothing here is imported by a lesson.

- ``runner``: execute notebooks top to bottom, as ``make course`` does;
- ``bench``: the benchmark behind the README's tables (notebooks 08-10);
- ``lessons``: write the ``# @save`` cells of the notebooks into ``helpers/``;
- ``prose``: check that the figures in the prose are shown by the outputs;
- ``markers``: rewrite the generated parts of the README;
- ``links``: the Binder/Colab links under each notebook's title;
- ``make_sample_images``: the sample photos in ``images/samples/``.
"""
