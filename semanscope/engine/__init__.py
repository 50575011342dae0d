"""Scale-out engine: Semantic Affinity and retrieval from mergeable per-shard statistics.

* :mod:`~semanscope.engine.stats` - per-shard sufficient statistics of SA and their exact merge (numpy);
* :mod:`~semanscope.engine.ranks` - retrieval counts (above / tied per query) as sums of per-stripe counts (numpy);
* :mod:`~semanscope.engine.results` - the single-process result objects from merged statistics;
* :mod:`~semanscope.engine.shards` - the Parquet files the engine writes (pyarrow); its input, concept
  shards, is :mod:`semanscope.data.concept_shards`;
* :mod:`~semanscope.engine.ray_engine` - the Ray plumbing (the only module that imports ``ray``).
"""
