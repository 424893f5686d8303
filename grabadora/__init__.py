"""Grabadora: speech to text while you watch, on AWS serverless or on one machine."""

import os

__version__ = "0.1.0"

# numpy's OpenBLAS keeps a thread per core that busy-waits after each call. Our numpy work is
# small (the mel filterbank of each Whisper window, ~10 ms), but a live session calls it several
# times a second, and the waiting threads then burn the cores the decoder needs: on 2 cores a
# replayed live session used 0.57-0.63 CPU-seconds per audio second with them and 0.48-0.52
# without, and they are the likely cause of 7.5 on a 16-core GPU host (docs/BENCHMARKS.md). One thread, set before anything imports numpy (every
# Grabadora process imports this package first); an operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
