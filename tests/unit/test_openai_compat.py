"""OpenAI's protocol over jobs, without HTTP: fields read as options, errors naming the field, stream events."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from grabadora.errors import PayloadTooLarge
from grabadora.models import JobEvent
from grabadora.services.openai_compat import OpenAIError, read_request, sse_for


def test_openai_fields_become_options() -> None:
    wanted = read_request(FormData([("model", "grabadora-precise"), ("prompt", "Grabadora"), ("language", "es"),
                                    ("timestamp_granularities[]", "word"), ("response_format", "verbose_json")]), "transcribe")
    assert wanted.options.profile.value == "precise" and wanted.options.initial_prompt == "Grabadora"
    assert wanted.options.language == "es" and wanted.words and not wanted.stream
    assert read_request(FormData([("model", "whisper-1")]), "transcribe").options.profile.value == "balanced"
    # A translation's language is the speech's own, detected: OpenAI's translations take none.
    assert read_request(FormData([("model", "whisper-1"), ("language", "es")]), "translate").options.language is None


@pytest.mark.parametrize(("fields", "param"), [
    ([], "model"),
    ([("model", "whisper-1"), ("response_format", "docx")], "response_format"),
    ([("model", "whisper-1"), ("stream", "true"), ("response_format", "srt")], "stream"),
    ([("model", "whisper-1"), ("timestamp_granularities[]", "letter")], "timestamp_granularities"),
    ([("model", "whisper-1"), ("temperature", "hot")], "temperature"),
])
def test_a_wrong_field_is_a_400_that_names_it(fields, param) -> None:
    with pytest.raises(OpenAIError) as caught:
        read_request(FormData(fields), "transcribe")
    assert caught.value.status == 400 and caught.value.param == param
    assert caught.value.body()["error"]["param"] == param


def test_grabadora_errors_keep_their_status_in_openai_s_shape() -> None:
    error = OpenAIError.from_grabadora(PayloadTooLarge("file: over the 25 MB limit"))
    assert error.status == 413 and error.body()["error"]["message"] == "file: over the 25 MB limit"


def test_deltas_then_done_with_the_whole_text_and_the_seconds() -> None:
    text: list[str] = []
    events = [JobEvent(job_id="j", seq=0, type="delta", data={"text": " Hola"}),
              JobEvent(job_id="j", seq=1, type="progress", data={"progress": 0.5}),
              JobEvent(job_id="j", seq=2, type="delta", data={"text": " mundo."}),
              JobEvent(job_id="j", seq=3, type="completed", data={"duration": 2.2})]
    chunks = [sse_for(e, text) for e in events]
    assert chunks[1] is None
    assert '"delta":"Hola"' in chunks[0] and '"delta":" mundo."' in chunks[2]
    assert '"text":"Hola mundo."' in chunks[3] and '"seconds":3' in chunks[3]
