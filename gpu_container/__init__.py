"""The transcription worker: an SQS poll loop around a pure `process_job`."""
