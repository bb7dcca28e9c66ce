# Kernel settings for the course's environment; `make setup` copies this file to
# .venv/etc/ipython/ (Binder's postBuild does the same for its environment).
# TensorFlow's C++ start-up log (oneDNN, "could not find cuda drivers", cuInit) is written
# to the process's stderr, below Python. By default the kernel copies that into the cell
# output, where it looks like an error to a learner; this keeps it in the terminal.
c = get_config()  # noqa: F821 (provided by IPython when it reads this file)
c.IPKernelApp.capture_fd_output = False
