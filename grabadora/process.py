"""Process-wide tuning shared by the long-lived processes (the worker, `grabadora dev`)."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Keep what start-up built (modules, the model's wrappers, in `grabadora dev` also moto's
    emulator, the apps and the service models provisioning loaded) out of the garbage
    collector's full passes.

    A full pass walks every tracked object while holding the GIL. faster-whisper's
    `decode_audio` ends every decode with one (to free PyAV's resampler cycles): in
    `grabadora dev`'s process ~290,000 objects, ~125 ms per job measured, all of it before the
    first word. The interpreter also runs one on its own whenever enough objects have survived
    younger collections: under load on `grabadora dev --no-worker` every few seconds, 130 ms
    each, which set the API's p99 (docs/BENCHMARKS.md). Objects built at start-up live as long
    as the process, so they are frozen out of the walk; later garbage is still collected.
    """
    gc.collect()  # start-up's garbage first: a frozen cycle would never be freed
    gc.freeze()
