"""Small, tested helpers for the MNIST CNN course notebooks.

Importing this package changes nothing: every helper acts only when called.
Modules: ``config`` (mode, paths, seeds), ``data`` (fetch and verify MNIST),
``models`` (model builders), ``training`` (histories), ``plots`` and
``evaluation`` (figures), ``environment`` (version checks),
``runner`` (execute notebooks).
"""

__all__ = ["config", "data", "environment", "evaluation", "models", "plots", "runner", "training"]
