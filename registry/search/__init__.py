"""Search: Chinese words people type (jieba, pinyin, synonyms) over an index kept in step with
publication. `tokens` makes words, `index` keeps the index, `query` answers, `vocabulary` holds
synonyms and topics, `misses` counts what people could not find."""
