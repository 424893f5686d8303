"""Grabadora: speech to text while you watch, on AWS serverless or on one machine."""

__version__ = "0.1.0"
