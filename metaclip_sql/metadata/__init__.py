"""The metadata: the entry lists texts are matched against.

`load` reads a list (MetaCLIP's `metadata.json`, gzipped or text; the bundled English list by
default); `lang` holds MetaCLIP 2's per-language lists and the language-id map; `matching` is
the substring rule (`spacing`, the naive oracle, the cached Aho-Corasick `Matcher`); `build`
makes lists from `sources` (numbers, `wordnet`, wordfreq, Wikipedia dumps); `info` inspects one.
"""

from metaclip_sql.metadata.load import BUNDLED_METADATA, MetadataError, load_entries

__all__ = ["BUNDLED_METADATA", "MetadataError", "load_entries"]
