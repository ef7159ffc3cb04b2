"""cgi.parse_header, which encoder.py and data_utils.py of aws/sagemaker-xgboost-container v3.0-5 call: the standard
library's (Python 3.10 Lib/cgi.py), here because the cgi module is deprecated and gone from Python 3.13. The main
value keeps its case; parameter names are lower-cased and quoted values unquoted."""

from __future__ import annotations


def _parseparam(s):
    while s[:1] == ";":
        s = s[1:]
        end = s.find(";")
        while end > 0 and (s.count('"', 0, end) - s.count('\\"', 0, end)) % 2:
            end = s.find(";", end + 1)
        if end < 0:
            end = len(s)
        f = s[:end]
        yield f.strip()
        s = s[end:]


def parse_header(line):
    """'text/csv; label_size=1' -> ('text/csv', {'label_size': '1'})."""
    parts = _parseparam(";" + line)
    key = parts.__next__()
    pdict = {}
    for p in parts:
        i = p.find("=")
        if i >= 0:
            name = p[:i].strip().lower()
            value = p[i + 1 :].strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
                value = value.replace("\\\\", "\\").replace('\\"', '"')
            pdict[name] = value
    return key, pdict
