"""Fill empty entries of a .po catalog from a Python dict file: fill_catalog.py CATALOG.po DICT.py

A helper for translators: write the new translations as ``SV = {"English": "Svenska"}`` in a scratch file
and merge them; existing translations are kept unless the dict gives another. A plural entry is keyed by
its singular and takes a tuple ``("en artikel", "%(num)d artiklar")``.
"""

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

catalog_path, dict_path = Path(sys.argv[1]), sys.argv[2]
translations = next(v for k, v in runpy.run_path(dict_path).items() if k.isupper())
with catalog_path.open("rb") as fh:
    catalog = read_po(fh)
missing = []
for message in catalog:
    if not message.id:
        continue
    key = message.id[0] if isinstance(message.id, tuple) else message.id  # plural entries: the singular
    if key in translations:
        message.string = translations[key]  # a tuple (singular, plural) for plural entries
        message.flags.discard("fuzzy")
    elif not (all(message.string) if isinstance(message.string, tuple) else message.string):
        missing.append(key)
with catalog_path.open("wb") as fh:
    write_po(fh, catalog, width=110)
for message_id in missing:
    print(f"untranslated: {message_id}")
