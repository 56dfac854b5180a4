"""The metadata: the entry lists texts are matched against.

`load` reads a list (MetaCLIP's `metadata.json`, gzipped or text; the bundled English list by
default); `lang` holds MetaCLIP 2's per-language lists and the language-id map; `matching` is
the substring rule (`spacing`, the naive oracle, the cached Aho-Corasick `Matcher`); `build`
makes lists from `sources` (numbers, `wordnet`, wordfreq, Wikipedia dumps); `info` inspects one.
`worldwide` builds one list per language at once (wordfreq's 42, WordNet for English, a folder
of per-language Wikipedia dumps) with `variants` of wordfreq's casefolded words, and writes the
folder's `lang_map.json`; `languages` knows the list codes, lid.176 labels and scripts;
`folder_info` reports on a folder of lists (and a pool's match share per language).
"""

from metaclip_sql.metadata.load import BUNDLED_METADATA, MetadataError, load_entries

__all__ = ["BUNDLED_METADATA", "MetadataError", "load_entries"]
