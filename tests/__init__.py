"""The test suite; its folders mirror the package's, helpers live in `tests/helpers/`."""
