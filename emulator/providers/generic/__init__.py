"""Generic RCS API v1 (`/Rcs/api/v1`): Message, UploadFile, Tag, Agent, Capability."""

from .messages import NAME
from .routes import mount

__all__ = ["NAME", "mount"]
