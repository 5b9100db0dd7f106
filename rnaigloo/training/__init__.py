"""Training a model from labelled transcripts."""
