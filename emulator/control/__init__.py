"""The /_emulator control API: read and steer the emulator's state."""
