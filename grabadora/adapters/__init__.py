"""One module per AWS boundary. Only these import boto3; they raise `grabadora.errors` types."""
