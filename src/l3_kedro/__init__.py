"""l3_kedro: learn and evaluate L3-Net deep audio embeddings as a Kedro project."""

__version__ = "0.1.0"
