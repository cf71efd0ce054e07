"""One package per provider, each with the same file names (see design.md), and REGISTRY: the
one place that names them. A new provider is its package plus one line here."""

from .generic.provider import PROVIDER as GENERIC
from .registry import Provider, Registry
from .serwersms.provider import PROVIDER as SERWERSMS

REGISTRY = Registry(GENERIC, SERWERSMS)

__all__ = ["REGISTRY", "Provider", "Registry"]
