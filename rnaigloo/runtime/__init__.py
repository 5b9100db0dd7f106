"""What a run needs of the process it runs in, kept out of the import path of ``rnaigloo --help``.

``signals`` (Ctrl-C and SIGTERM, workers that die with their parent), ``resources`` (the
CPUs this process may use, NumPy's threads, glibc's reuse of freed memory),
``tensorflow_start`` (a quiet TensorFlow with its thread pools set) and ``dependencies``
(one line for a package this install lacks).
"""
