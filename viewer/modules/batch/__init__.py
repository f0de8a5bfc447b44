"""Archive-scale batch classification (``slicewise batch``), Qt-free.

sources (SOURCE -> streamed series) -> work (read + preprocess, worker processes) ->
infer (one model, batched) -> outputs (journal, Parquet/CSV, summary); engines: engine_local
(process pool), engine_ray (Ray Data, optional ``[cluster]`` extra); pipeline.run_batch ties them.
"""
