"""Generic RCS API v1 (`/Rcs/api/v1`): Message, UploadFile, Tag, Agent, Capability."""
