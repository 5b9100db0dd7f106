"""Scoring transcripts with a trained model."""
