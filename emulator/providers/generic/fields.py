"""Generic's request field types: the document's limits, enum words matched without regard to
case, and the base model whose property names match case-insensitively (as ASP.NET does)."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MAX_TEXT = 3072
MAX_LABEL = 25
MAX_POSTBACK = 2048
MAX_SUGGESTIONS = 11
MAX_CARD_SUGGESTIONS = 4
MAX_TITLE = 200
MAX_DESCRIPTION = 2000


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def _number(value: Any) -> Any:
    """Coordinates come as numbers or numeric strings ("59.369565", as the document writes
    them); a string is read whole, in ASCII digits (float() would also take " 59.3\n", "1e2",
    "1_0" and Arabic-Indic digits)."""
    if isinstance(value, str):
        if _DECIMAL.fullmatch(value) is None:
            raise ValueError("must be a number written in decimal digits, e.g. 59.369565")
        return float(value)
    return value


Height = Annotated[Literal["SHORT", "MEDIUM", "TALL"], BeforeValidator(_upper)]
Orientation = Annotated[Literal["VERTICAL", "HORIZONTAL"], BeforeValidator(_upper)]
Alignment = Annotated[Literal["LEFT", "RIGHT"], BeforeValidator(_upper)]
CardWidth = Annotated[Literal["SMALL", "MEDIUM"], BeforeValidator(_upper)]
Label = Annotated[str, Field(min_length=1, max_length=MAX_LABEL)]
Postback = Annotated[str, Field(min_length=1, max_length=MAX_POSTBACK)]


class CIModel(BaseModel):
    """A model whose JSON property names match case-insensitively; unknown names are ignored."""

    model_config = ConfigDict(populate_by_name=False, extra="ignore", frozen=True, strict=False)
    _aliases: ClassVar[dict[str, str]]
    _canonical: ClassVar[frozenset[str]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._aliases = {}
        for name, info in cls.model_fields.items():
            for key in (info.alias or name, *getattr(cls, "_extra_aliases", {}).get(name, ())):
                cls._aliases[key.lower()] = info.alias or name
        cls._canonical = frozenset(info.alias or name for name, info in cls.model_fields.items())

    @model_validator(mode="before")
    @classmethod
    def _fold_case(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if cls._canonical.issuperset(data):
            return data  # the usual case: the client spelt every name as the document does
        folded: dict[str, Any] = {}
        for key, value in data.items():
            alias = cls._aliases.get(key.lower()) if isinstance(key, str) else None
            if alias is not None:
                folded[alias] = value
        return folded
