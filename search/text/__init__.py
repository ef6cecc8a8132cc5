"""Text analysis, the same for posts and queries: folding, jieba words, pinyin, the lexicon.

Modules: `folding` (NFKC, lower case, 繁→简, with a map back to the original offsets), `segmentation` (jieba word
tokens and postings), `pinyin` (readings of Han characters), `tokenizer` (loading jieba), `lexicon` (jieba's
dictionary in an index file, looked up per text).
"""

# Bump when any change in this subpackage alters the tokens an index holds: an index built under another version
# must be rebuilt.
ANALYSIS_VERSION = 1
