"""Who said what: speaker labels for a finished transcription.

The speaker model is Resemblyzer's voice encoder (GE2E d-vectors: a 3-layer LSTM over 40 mel
bands, 256-dimensional embeddings; Apache-2.0), whose weights ship inside the `resemblyzer`
wheel (`resemblyzer/pretrained.pt`, 17 MB). Nothing is downloaded at run time. Only the weights
file is used: the network is rebuilt here with torch and the mel spectrogram is computed with
numpy exactly as librosa does it, so neither librosa, webrtcvad nor scipy is needed
(`pip install torch==2.13.0` and `pip install --no-deps resemblyzer==0.1.4`).

How a transcript is diarized (`assign_speakers`):

1. Speech regions come from the word timings: consecutive words closer than `MERGE_GAP_S`
   form one region (a segment without words counts as one word spanning the segment).
2. Each region is cut into windows of `WINDOW_S` seconds every `STEP_S` seconds (a region
   shorter than a window is one window), and every window gets one embedding.
3. The windows are clustered by average-linkage agglomerative clustering on cosine distance.
   Merging stops at `THRESHOLD` (the distance was tuned on real recordings, see
   docs/DIARIZATION.md), then the count is clamped into [min_speakers, max_speakers].
4. Every word takes the label of the window of its region whose centre is nearest the
   word's midpoint; labels are renamed S1, S2, ... by first appearance.
5. Turns follow the words (`speaker_turns`): one-word flips are smoothed and boundary words
   go with the nearer pause (`smooth_labels`), then a segment whose words belong to more than
   one speaker is split where the speaker changes (as WhisperX does), so every segment has one
   speaker; segments are renumbered 0..n-1. This happens before the transcript is stored, so
   corrections (which name segments by id) only ever see the split ids.

Everything is deterministic: no sampling, ties broken by index.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grabadora.errors import GrabadoraError
from grabadora.models import Segment

__all__ = [
    "DiarizationUnavailable",
    "Diarizer",
    "agglomerative_labels",
    "assign_speakers",
    "label_words",
    "number_by_first_appearance",
    "smooth_labels",
    "speaker_turns",
    "split_turns",
]

SAMPLE_RATE = 16000
# Resemblyzer's front end (resemblyzer/hparams.py): 25 ms Hann windows every 10 ms, 40 mel bands.
_N_FFT = 400
_HOP = 160
_N_MELS = 40
_TARGET_DBFS = -30.0  # volume normalisation, increase only, as resemblyzer.audio.preprocess_wav

MERGE_GAP_S = 0.5  # words closer than this belong to one speech region
WINDOW_S = 1.5  # embedding window (the encoder was trained on 1.6 s partials)
STEP_S = 0.5  # window hop inside a region
MIN_WINDOW_S = 0.4  # a window shorter than this borrows context on both sides
MAX_WINDOWS = 2500  # longer recordings get a longer hop (up to a whole window) to bound clustering's n^2 memory
THRESHOLD = 0.45  # cosine distance at which merging stops (average linkage), tuned in docs/DIARIZATION.md
# Turn smoothing (`smooth_labels`), see docs/DIARIZATION.md.
KEEP_ALONE_GAP_S = MERGE_GAP_S  # a one-word turn with pauses at least this long on both sides is kept
BOUNDARY_SHIFT_WORDS = 2  # a turn boundary may move by up to this many words ...
BOUNDARY_MIN_PAUSE_S = 0.15  # ... onto a pause at least this long ...
BOUNDARY_MARGIN_S = 0.1  # ... and this much longer than the gap where the labels change
_INSTALL_HINT = "pip install torch==2.13.0 && pip install --no-deps resemblyzer==0.1.4"


class DiarizationUnavailable(GrabadoraError):
    """The optional speaker model (torch + resemblyzer's weights) is not installed."""


def _weights_path() -> Path | None:
    spec = importlib.util.find_spec("resemblyzer")  # finds the package without importing it (librosa)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    return path if path.is_file() else None


# --------------------------------------------------------------------------- front end (numpy)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, htk=False)."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = hz / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.asarray(mels, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(mels >= min_log_mel, min_log_hz * np.exp(logstep * (mels - min_log_mel)), freqs)


def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = _N_FFT, n_mels: int = _N_MELS) -> np.ndarray:
    """librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels) (Slaney scale and area norm)."""
    fftfreqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


_MEL_FB = mel_filterbank()
_HANN = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_N_FFT) / _N_FFT)).astype(np.float32)  # periodic


def mel_power_frames(audio: np.ndarray) -> np.ndarray:
    """librosa.feature.melspectrogram(y, sr=16000, n_fft=400, hop_length=160, n_mels=40).T:
    centred frames (zero padding), power spectrum, not logarithmic; frame f is at f * 10 ms."""
    padded = np.pad(audio.astype(np.float32, copy=False), (_N_FFT // 2, _N_FFT // 2))
    n_frames = 1 + (padded.size - _N_FFT) // _HOP
    frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT)[::_HOP][:n_frames]
    out = np.empty((n_frames, _N_MELS), dtype=np.float32)
    block = 8192
    for start in range(0, n_frames, block):
        spec = np.fft.rfft(frames[start : start + block] * _HANN, axis=1)
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        out[start : start + block] = power @ _MEL_FB.T
    return out


# --------------------------------------------------------------------------- clustering (numpy)


def agglomerative_labels(
    embeddings: np.ndarray,
    threshold: float = THRESHOLD,
    min_clusters: int | None = None,
    max_clusters: int | None = None,
) -> np.ndarray:
    """Average-linkage agglomerative clustering on cosine distance.

    Merges the closest pair of clusters while their distance is at most `threshold`; the number
    of clusters is then clamped into [min_clusters, max_clusters] (merging further, or stopping
    earlier, along the same merge order). Returns one label per row, 0..k-1, numbered by first
    row of each cluster. Deterministic: ties go to the lowest indices.
    """
    x = np.asarray(embeddings, dtype=np.float32)
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.zeros(1, dtype=int)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    dist = np.clip(1.0 - x @ x.T, 0.0, 2.0).astype(np.float32)
    np.fill_diagonal(dist, np.inf)
    sizes = np.ones(n)
    active = np.ones(n, dtype=bool)
    merges: list[tuple[int, int, float]] = []
    lo = max(1, min_clusters or 1)
    # Nearest neighbour of each row, kept up to date (rows pointing at a merged cluster are redone).
    nn = np.argmin(dist, axis=1)
    nn_d = dist[np.arange(n), nn]
    for _ in range(n - 1):
        i = int(np.argmin(nn_d))
        j = int(nn[i])
        d = float(nn_d[i])
        if not np.isfinite(d):
            break
        a, b = min(i, j), max(i, j)  # keep the lower index as the merged cluster's id
        merges.append((a, b, d))
        new = (sizes[a] * dist[a] + sizes[b] * dist[b]) / (sizes[a] + sizes[b])  # Lance-Williams, average
        sizes[a] += sizes[b]
        active[b] = False
        new[~active] = np.inf
        new[a] = np.inf
        dist[a, :] = new
        dist[:, a] = new
        dist[b, :] = np.inf
        dist[:, b] = np.inf
        nn_d[b] = np.inf
        stale = np.flatnonzero(active & ((nn == a) | (nn == b)))
        stale = np.union1d(stale, [a])
        for r in stale:
            nn[r] = int(np.argmin(dist[r]))
            nn_d[r] = dist[r, nn[r]]
        # Rows whose distance to the new cluster beats their current nearest neighbour.
        better = active & (new < nn_d)
        nn[better] = a
        nn_d[better] = new[better]
    n_by_threshold = n - sum(1 for _, _, d in merges if d <= threshold)
    k = max(n_by_threshold, lo)
    if max_clusters is not None:
        k = min(k, max(1, max_clusters))
    k = min(max(k, 1), n)
    parent = list(range(n))

    def find(u: int) -> int:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for a, b, _ in merges[: n - k]:
        parent[find(b)] = find(a)
    roots = [find(u) for u in range(n)]
    order: dict[int, int] = {}
    return np.array([order.setdefault(r, len(order)) for r in roots], dtype=int)


# --------------------------------------------------------------------------- words and windows


@dataclass(frozen=True)
class _Unit:
    """A word (or a segment without words) to label: where it is and where it came from."""

    seg: int
    word: int | None
    t0: float
    t1: float

    @property
    def mid(self) -> float:
        return (self.t0 + self.t1) / 2


def _units(segments: list[Segment]) -> list[_Unit]:
    units: list[_Unit] = []
    for si, seg in enumerate(segments):
        if seg.words:
            units.extend(_Unit(si, wi, w.t0, max(w.t1, w.t0)) for wi, w in enumerate(seg.words))
        else:
            units.append(_Unit(si, None, seg.t0, max(seg.t1, seg.t0)))
    return sorted(units, key=lambda u: (u.t0, u.t1, u.seg, -1 if u.word is None else u.word))


def speech_regions(units: list[_Unit], merge_gap: float = MERGE_GAP_S) -> list[tuple[float, float]]:
    regions: list[list[float]] = []
    for u in units:
        if regions and u.t0 - regions[-1][1] <= merge_gap:
            regions[-1][1] = max(regions[-1][1], u.t1)
        else:
            regions.append([u.t0, u.t1])
    return [(a, b) for a, b in regions]


def region_windows(
    regions: list[tuple[float, float]], window: float = WINDOW_S, step: float = STEP_S
) -> list[tuple[int, float, float]]:
    """(region index, t0, t1) of the embedding windows; the last window of a region ends at its end."""
    out: list[tuple[int, float, float]] = []
    for ri, (a, b) in enumerate(regions):
        if b - a <= window:
            out.append((ri, a, b))
            continue
        starts = list(np.arange(a, b - window, step))
        starts.append(b - window)
        for s in starts:
            out.append((ri, float(s), float(s) + window))
    return out


def label_words(
    unit_mids: list[float],
    unit_regions: list[int],
    windows: list[tuple[int, float, float]],
    window_labels: list[int] | np.ndarray,
) -> list[int]:
    """Each unit takes the label of the window of its region whose centre is nearest its midpoint."""
    by_region: dict[int, list[int]] = {}
    for wi, (ri, _, _) in enumerate(windows):
        by_region.setdefault(ri, []).append(wi)
    labels = []
    for mid, ri in zip(unit_mids, unit_regions):
        candidates = by_region.get(ri) or list(range(len(windows)))
        best = min(candidates, key=lambda w: (abs((windows[w][1] + windows[w][2]) / 2 - mid), w))
        labels.append(int(window_labels[best]))
    return labels


def number_by_first_appearance(labels: list[Any]) -> list[str]:
    """Raw cluster labels in reading order to 'S1', 'S2', ... by first appearance."""
    names: dict[Any, str] = {}
    return [names.setdefault(label, f"S{len(names) + 1}") for label in labels]


def _majority(speakers: list[str]) -> str | None:
    if not speakers:
        return None
    counts = Counter(speakers)
    top = max(counts.values())
    return next(s for s in speakers if counts[s] == top)  # ties: heard first in the segment


# --------------------------------------------------------------------------- the model


class Diarizer:
    """Resemblyzer's voice encoder, loaded once (lazily, thread-safe) and reused across jobs."""

    def __init__(
        self,
        threshold: float = THRESHOLD,
        window_s: float = WINDOW_S,
        step_s: float = STEP_S,
        merge_gap_s: float = MERGE_GAP_S,
        torch_threads: int | None = None,
    ) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self.step_s = step_s
        self.merge_gap_s = merge_gap_s
        self._torch_threads = torch_threads
        self._model: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        """Whether torch and resemblyzer's weights are installed (imports nothing heavy)."""
        return importlib.util.find_spec("torch") is not None and _weights_path() is not None

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._build()
            return self._model

    def _build(self) -> Any:
        weights = _weights_path()
        try:
            import torch
            from torch import nn
        except ImportError as e:
            raise DiarizationUnavailable(f"speaker diarization needs torch; {_INSTALL_HINT}") from e
        if weights is None:
            raise DiarizationUnavailable(f"speaker diarization needs resemblyzer's weights; {_INSTALL_HINT}")
        if self._torch_threads:
            torch.set_num_threads(self._torch_threads)

        class _Encoder(nn.Module):  # resemblyzer.VoiceEncoder's network
            def __init__(self) -> None:
                super().__init__()
                self.lstm = nn.LSTM(_N_MELS, 256, 3, batch_first=True)
                self.linear = nn.Linear(256, 256)

            def forward(self, mels: Any) -> Any:
                _, (hidden, _) = self.lstm(mels)
                raw = torch.relu(self.linear(hidden[-1]))
                return raw / torch.clamp(torch.norm(raw, dim=1, keepdim=True), min=1e-12)

        model = _Encoder()
        state = torch.load(weights, map_location="cpu", weights_only=True)["model_state"]
        model.load_state_dict({k: v for k, v in state.items() if not k.startswith("similarity_")})
        model.eval()
        with torch.inference_mode():  # the first forward pass is slow (~1 s): pay it here, once
            model(torch.zeros((1, 150, _N_MELS)))
        return model

    def embed(self, audio: np.ndarray, spans: list[tuple[float, float]], voiced: list[tuple[float, float]] | None = None) -> np.ndarray:
        """One L2-normalised 256-d embedding per (t0, t1) span of `audio` (16 kHz mono)."""
        import torch

        model = self.load()
        if not spans:
            return np.zeros((0, 256), dtype=np.float32)
        audio = _normalise_volume(audio, voiced)
        mels = mel_power_frames(audio)
        n_frames = mels.shape[0]
        min_frames = int(round(MIN_WINDOW_S * 100))
        slices = []
        for t0, t1 in spans:
            f0, f1 = int(round(t0 * 100)), int(round(t1 * 100))
            if f1 - f0 < min_frames:  # too short to say much: borrow context on both sides
                centre = (f0 + f1) // 2
                f0, f1 = centre - min_frames // 2, centre + min_frames - min_frames // 2
            f0, f1 = max(0, f0), min(n_frames, f1)
            if f1 <= f0:
                f0, f1 = max(0, n_frames - 1), n_frames
            slices.append((f0, f1))
        out = np.zeros((len(spans), 256), dtype=np.float32)
        by_len: dict[int, list[int]] = {}
        for i, (f0, f1) in enumerate(slices):
            by_len.setdefault(f1 - f0, []).append(i)
        with torch.inference_mode():
            for length, idx in sorted(by_len.items()):
                for start in range(0, len(idx), 64):
                    chunk = idx[start : start + 64]
                    batch = np.stack([mels[slices[i][0] : slices[i][1]] for i in chunk])
                    out[chunk] = model(torch.from_numpy(batch)).numpy()
        return out

    def assign_speakers(
        self,
        audio: np.ndarray,
        segments: list[Segment],
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> list[Segment]:
        """New segments whose words (and the segments themselves) carry speaker labels S1, S2, ...:
        `label_words_only`, then `speaker_turns` (smoothed, one speaker per segment, renumbered)."""
        return speaker_turns(self.label_words_only(audio, segments, min_speakers, max_speakers))

    def label_words_only(
        self,
        audio: np.ndarray,
        segments: list[Segment],
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> list[Segment]:
        """Words labelled by their windows' clusters, each segment taking its words' majority
        label; Whisper's segments kept as they are (the diarizer's raw output)."""
        if not segments:
            return []
        units = _units(segments)
        regions = speech_regions(units, self.merge_gap_s)
        unit_regions = []
        ri = 0
        for u in units:  # units and regions are both in time order
            while ri + 1 < len(regions) and u.t0 > regions[ri][1] + 1e-9:
                ri += 1
            unit_regions.append(ri)
        windows = region_windows(regions, self.window_s, self.step_s)
        if len(windows) > MAX_WINDOWS:
            step = min(self.window_s, self.step_s * len(windows) / MAX_WINDOWS)
            windows = region_windows(regions, self.window_s, step)
        embeddings = self.embed(audio, [(a, b) for _, a, b in windows], voiced=regions)
        window_labels = agglomerative_labels(embeddings, self.threshold, min_speakers, max_speakers)
        unit_labels = label_words([u.mid for u in units], unit_regions, windows, window_labels)
        names = number_by_first_appearance(unit_labels)
        return _apply(segments, units, names)


def _apply(segments: list[Segment], units: list[_Unit], names: list[str]) -> list[Segment]:
    word_speaker: dict[tuple[int, int | None], str] = {(u.seg, u.word): n for u, n in zip(units, names)}
    out = []
    for si, seg in enumerate(segments):
        if seg.words:
            words = [w.model_copy(update={"speaker": word_speaker[(si, wi)]}) for wi, w in enumerate(seg.words)]
            speaker = _majority([w.speaker for w in words if w.speaker])
        else:
            words = []
            speaker = word_speaker.get((si, None))
        out.append(seg.model_copy(update={"words": words, "speaker": speaker}))
    return out


# --------------------------------------------------------------------------- turns


def smooth_labels(spans: list[tuple[float, float]], labels: list[str]) -> list[str]:
    """Labels of time-ordered words (`spans` = their (t0, t1)) with speaker flips smoothed.

    1. A single word whose neighbours on both sides belong to one other speaker takes their
       label; a single word between two other speakers takes the label of the neighbour it is
       nearer to in time, the next one's on a tie, as Whisper folds a pause into the start of
       the word after it (a spurious speaker on a turn's first or last word). Unless pauses of
       at least `KEEP_ALONE_GAP_S` set it apart on both sides: then it was embedded on its own
       (a short reply such as "Yes." between two turns).
    2. Where the label changes, the boundary moves by up to `BOUNDARY_SHIFT_WORDS` words onto the
       longest pause nearby, if that pause is at least `BOUNDARY_MIN_PAUSE_S` long and
       `BOUNDARY_MARGIN_S` longer than the gap where the labels change: boundary words go with
       the speaker they are not separated from by a pause (window labels blur a turn boundary
       by up to half a window). Each turn keeps at least one word.
    """
    out = list(labels)
    n = len(out)

    def gap(c: int) -> float:  # the pause before word c
        return spans[c][0] - spans[c - 1][1]

    for i in range(1, n - 1):
        if out[i] != out[i - 1] and out[i] != out[i + 1]:
            if gap(i) >= KEEP_ALONE_GAP_S and gap(i + 1) >= KEEP_ALONE_GAP_S:
                continue
            # Between two runs of one speaker: theirs; between two speakers: the nearer one's, and
            # on a tie the next one's (Whisper's word timings fold a pause into the next word's start).
            out[i] = out[i - 1] if out[i - 1] == out[i + 1] or gap(i) < gap(i + 1) else out[i + 1]
    i = 1
    while i < n:
        if out[i] == out[i - 1]:
            i += 1
            continue
        left = i - 1
        while left > 0 and out[left - 1] == out[i - 1]:
            left -= 1
        right = i
        while right + 1 < n and out[right + 1] == out[i]:
            right += 1
        candidates = range(max(left + 1, i - BOUNDARY_SHIFT_WORDS), min(right, i + BOUNDARY_SHIFT_WORDS) + 1)
        best = max(candidates, key=lambda c: (gap(c), -abs(c - i), -c))
        if best != i and gap(best) >= BOUNDARY_MIN_PAUSE_S and gap(best) >= gap(i) + BOUNDARY_MARGIN_S:
            label = out[i - 1] if best > i else out[i]
            for k in range(min(best, i), max(best, i)):
                out[k] = label
        i = max(i, best) + 1
    return out


def speaker_turns(segments: list[Segment]) -> list[Segment]:
    """Labelled segments with smoothed word labels (`smooth_labels`), renumbered S1, S2, ... by
    first appearance, then split where the speaker changes (`split_turns`)."""
    if not segments:
        return []
    units = _units(segments)
    labels = [
        (segments[u.seg].words[u.word].speaker if u.word is not None else segments[u.seg].speaker) or ""
        for u in units
    ]
    if not any(labels):
        return [s.model_copy() for s in segments]
    smoothed = smooth_labels([(u.t0, u.t1) for u in units], labels)
    return split_turns(_apply(segments, units, number_by_first_appearance(smoothed)))


def split_turns(segments: list[Segment]) -> list[Segment]:
    """Every segment whose words belong to more than one speaker becomes one segment per run of
    words of one speaker (text = the run's words, times = the run's words', the first and last
    piece keeping the segment's own start and end; decoder statistics copied); ids 0..n-1."""
    out: list[Segment] = []
    for seg in segments:
        runs: list[list[Any]] = []
        for w in seg.words:
            if runs and runs[-1][-1].speaker == w.speaker:
                runs[-1].append(w)
            else:
                runs.append([w])
        if len(runs) <= 1:
            out.append(seg.model_copy(update={"id": len(out)}))
            continue
        for k, run in enumerate(runs):
            out.append(
                seg.model_copy(
                    update={
                        "id": len(out),
                        "t0": seg.t0 if k == 0 else run[0].t0,
                        "t1": seg.t1 if k == len(runs) - 1 else run[-1].t1,
                        "text": "".join(w.text for w in run),
                        "words": list(run),
                        "speaker": run[0].speaker,
                    }
                )
            )
    return out


def _normalise_volume(audio: np.ndarray, voiced: list[tuple[float, float]] | None) -> np.ndarray:
    """Raise the level to -30 dBFS (never lower it), measured over the voiced regions."""
    audio = np.asarray(audio, dtype=np.float32)
    if voiced:
        parts = [audio[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b in voiced]
        speech = np.concatenate(parts) if parts else audio
    else:
        speech = audio
    if speech.size == 0:
        return audio
    rms = float(np.sqrt(np.mean(np.square(speech, dtype=np.float64))))
    if rms <= 0:
        return audio
    change_db = _TARGET_DBFS - 20 * np.log10(rms)
    return audio if change_db <= 0 else audio * np.float32(10 ** (change_db / 20))


_default: Diarizer | None = None
_default_lock = threading.Lock()


def default_diarizer() -> Diarizer:
    global _default
    with _default_lock:
        if _default is None:
            _default = Diarizer()
        return _default


def assign_speakers(
    audio: np.ndarray,
    segments: list[Segment],
    min_speakers: int | None = None,
    max_speakers: int | None = None,
) -> list[Segment]:
    """Speaker labels for a finished transcription, with the process-wide `Diarizer` (loaded once).

    Raises `DiarizationUnavailable` when torch or resemblyzer's weights are not installed."""
    return default_diarizer().assign_speakers(audio, segments, min_speakers, max_speakers)
