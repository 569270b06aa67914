"""Typed fields of a TOML table (a model card's, see py/cards.py): each reader returns the field
checked, or raises a CardError that says where the field is and what is wrong with it.
Pure Python: no `js`.
"""

from __future__ import annotations


class CardError(ValueError):
    """A model card is missing a field or has a wrong one."""


def get(table: dict, key: str, kind: type, where: str):
    """table[key], checked to be a `kind` (an int is accepted as a float, a bool never as a number)."""
    if key not in table:
        raise CardError(f"{where}: missing field '{key}'")
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CardError(f"{where}: field '{key}' must be a {kind.__name__}, not {type(value).__name__}")
    return value


def choice(table: dict, key: str, choices: tuple[str, ...], where: str, default: str | None = None) -> str | None:
    if key not in table and default is not None:
        return default
    value = get(table, key, str, where)
    if value not in choices:
        raise CardError(f"{where}: {key} must be one of {', '.join(choices)}, not '{value}'")
    return value


def names(table: dict, key: str, where: str) -> tuple[str, ...]:
    values = get(table, key, list, where)
    if not values or not all(isinstance(v, str) and v for v in values):
        raise CardError(f"{where}: '{key}' must be a non-empty list of names")
    return tuple(values)


def numbers(values, where: str) -> tuple[float, ...]:
    if not isinstance(values, list) or not values:
        raise CardError(f"{where} must be a non-empty list of numbers")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise CardError(f"{where} must hold positive numbers, found {v!r}")
    return tuple(float(v) for v in values)


def feature_map(value, where: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return (value, value)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        return (value[0], value[1])
    raise CardError(f"{where} must be a positive integer or [rows, columns], found {value!r}")


def checksums(table: dict, where: str) -> dict[str, str]:
    """The table's non-empty 'sha256': file name -> lower-case hexadecimal digest."""
    checksums = get(table, "sha256", dict, where)
    if not checksums:
        raise CardError(f"{where}: 'sha256' lists no files")
    for file, sha in checksums.items():
        if "/" in file or file.startswith("."):
            raise CardError(f"{where}: '{file}' must be a plain file name")
        if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha.lower()):
            raise CardError(f"{where}: the sha256 of '{file}' must be 64 hexadecimal digits")
    return {file: sha.lower() for file, sha in checksums.items()}
