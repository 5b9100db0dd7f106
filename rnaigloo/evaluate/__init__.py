"""Measuring a model on labelled transcripts: metrics and plots."""
