"""Building and parsing single-table key strings.

Models produce their keys through these two functions only, so a key part can
never smuggle a separator into a key (`ASMT#x#y` would read as another item).
"""

SEPARATOR = "#"
META = "#META"  # sort key of an entity's own item in its collection


def join(*parts: str) -> str:
    for part in parts:
        if not part or SEPARATOR in part:
            raise ValueError(f"invalid key part {part!r}: empty or contains {SEPARATOR!r}")
    return SEPARATOR.join(parts)


def prefix(*parts: str) -> str:
    """What every key that starts with these parts begins with (`ASMT#approved#`), for begins_with."""
    return join(*parts) + SEPARATOR


def split(key: str, prefix: str, count: int) -> list[str]:
    """Return the `count` parts after `prefix` in `key`, or raise ValueError."""
    parts = key.split(SEPARATOR)
    if parts[0] != prefix or len(parts) != count + 1:
        raise ValueError(f"{key!r} is not a {prefix} key with {count} parts")
    return parts[1:]
