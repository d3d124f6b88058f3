"""Reading hydra-bench's --json results: shared by bench-chart.py and bench-tables.py."""


def get(d, *keys):
    """d[k1][k2]..., or None where a key is missing (a --quick result has fewer)."""
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d
