"""Embedding audio with any model: one contract, one streaming engine.

- :mod:`~l3_kedro.embedding.embedders`: the embedder contract (the
  ``WindowEmbedder`` and ``ClipEmbedder`` protocols), the registry of kinds
  (``embed.models.<name>.kind``) and the hop rule;
- :mod:`~l3_kedro.embedding.stream`: :class:`~l3_kedro.embedding.stream.ClipEmbeddingStream`,
  which decodes clips, packs their windows into batches and hands out
  chunks for a store (the ``embed`` pipeline, ``api.process_audio_file``,
  the command line).

What a store was made from (to reuse an unchanged one) is fingerprinted by
the store dataset while saving: :mod:`l3_kedro.datasets.fingerprint`.
"""
