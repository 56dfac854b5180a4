"""What several test modules share: pool generators, a loopback crawl site, WARC mutants,
online-curation fixtures, the shared test data's paths."""
