"""metaclip-sql: MetaCLIP curation of image-text pairs from Common Crawl, with SQL in DuckDB."""

__version__ = "0.5.0"
