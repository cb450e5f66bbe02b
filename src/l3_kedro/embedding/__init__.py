"""Embedding audio with any model: one contract, one streaming engine, input fingerprints.

- :mod:`~l3_kedro.embedding.embedders`: the embedder contract (the
  ``WindowEmbedder`` and ``ClipEmbedder`` protocols), the registry of kinds
  (``embed.models.<name>.kind``) and the hop rule;
- :mod:`~l3_kedro.embedding.stream`: :class:`~l3_kedro.embedding.stream.ClipEmbeddingStream`,
  which decodes clips, packs their windows into batches and hands out
  chunks for a store (the ``embed`` pipeline, ``api.process_audio_file``,
  the command line);
- :mod:`~l3_kedro.embedding.fingerprint`: what a store was made from, so an
  unchanged store is reused.
"""
