"""The network: its architecture contract, the IGLOO layer, the Keras builder, the NumPy engine and model files."""
