"""Reading and writing files: FASTA input, labelled sets, annotations (GTF/GFF3), the indexed genome, safe outputs."""
