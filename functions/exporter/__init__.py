"""The exporter Lambda: delivers transcripts to Notion, Trello and webhooks from the SQS `exports` queue."""
