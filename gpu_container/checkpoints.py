"""Checkpoints of a long transcription, so a retry goes on where the last attempt stopped.

After each piece of a long-form run (`gpu_container.long_form`) its segments are stored as one
object, `checkpoints/<user>/<job>/<end in ms>.json`, together with the language the run chose.
A later attempt of the same job (a worker killed, the message redelivered) reads them back and
resumes decoding at the last piece's end, so at most the piece in flight is decoded again.
The objects go when the job ends (completed, failed or deleted).
"""

from __future__ import annotations

from grabadora.adapters.object_store import ObjectStore
from grabadora.errors import NotFound
from grabadora.models import JobMessage, Segment
from gpu_container.long_form import Piece
from gpu_container.transcriber import LanguageChoice, Resume


def checkpoint_prefix(user_id: str, job_id: str) -> str:
    return f"checkpoints/{user_id}/{job_id}/"


class Checkpoints:
    def __init__(self, store: ObjectStore, job: JobMessage) -> None:
        self._store = store
        self._prefix = checkpoint_prefix(job.user_id, job.job_id)

    def save(self, piece: Piece, segments: list[Segment], language: LanguageChoice, next_id: int) -> None:
        self._store.put_json(
            f"{self._prefix}{round(piece.end_s * 1000):012d}.json",
            {
                "end_s": piece.end_s,
                "next_width": piece.next_width,
                "next_id": next_id,
                "language": {
                    "language": language.language,
                    "probability": language.probability,
                    "source": language.source,
                    "unsure": language.unsure,
                },
                "segments": [s.model_dump(mode="json") for s in segments],
            },
        )

    def load(self) -> tuple[Resume | None, list[Segment]]:
        """Where to resume and the segments decoded before it (None and [] without checkpoints)."""
        documents = []
        for key in self._store.keys_under(self._prefix):
            try:
                documents.append(self._store.get_json(key))
            except NotFound:
                continue  # deleted meanwhile by the attempt that completed the job
        if not documents:
            return None, []
        last = documents[-1]
        segments = [Segment.model_validate(s) for d in documents for s in d["segments"]]
        language = LanguageChoice(**last["language"])
        resume = Resume(start_s=last["end_s"], first_id=last["next_id"], language=language, width=last["next_width"])
        return resume, segments

    def forget(self) -> None:
        self._store.delete_prefix(self._prefix)
