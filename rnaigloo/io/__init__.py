"""Reading and writing files: FASTA input, labelled sets, safe outputs."""
