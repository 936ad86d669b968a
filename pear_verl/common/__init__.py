"""What every stage shares: atomic output files and parquet metadata (`io`), strict value checks with
one-line errors (`checks`), records of the settings and inputs behind an output (`provenance`), and
data-parallel shards over a Ray cluster (`parallel`).
"""
