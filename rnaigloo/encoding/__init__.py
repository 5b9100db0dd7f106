"""Turning transcripts into the network's inputs (NumPy only, never TensorFlow)."""
