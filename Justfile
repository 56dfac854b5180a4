# metaclip-sql tasks. `just` lists them.

default:
    @just --list

# Install the package with the dev extras into the active environment.
setup:
    pip install -e ".[dev]"

# End to end on the bundled sample: build a sample WARC, extract, balance.
demo:
    metaclip-sql demo

# The whole test suite.
test *ARGS:
    pytest {{ARGS}}

# Lint and format check.
lint:
    ruff check .
    ruff format --check .

# Format the code.
fmt:
    ruff format .
    ruff check --fix .

# Benchmarks (not tests): extract against its floor, balance against numpy and the copy floor.
bench-extract *ARGS:
    python bench/extract.py {{ARGS}}

bench-balance *ARGS:
    python bench/balance.py {{ARGS}}

# Rebuild the bundled metadata list (numbers, WordNet 3.0, wordfreq 'large' English) and say
# whether it is byte-identical to the committed one. Needs wordnet-base and the metadata extra.
metadata-default wordnet="/usr/share/wordnet":
    metaclip-sql metadata build --out metaclip_sql/data/metadata_en.json.gz --wordnet {{wordnet}} --wordfreq --lang en --size 500000
    @test -z "$(git status --porcelain -- metaclip_sql/data)" && echo "byte-identical to the committed list" || echo "not the committed list: see git status metaclip_sql/data"
