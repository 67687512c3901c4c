"""Call recordings: Asterisk records every answered call; the store keeps the reference.

- ``layout`` (``layout.py``): where a call's recording lives in Asterisk's monitor spool,
  shared by the dialplan generator (the ``MixMonitor`` file name) and the tracker (which reads
  the name back from ``MIXMONITOR_FILENAME``).

Import into storage (size, checksum, duration, transcoding), retention and playback build on
this layout and come later, as modules of their own beside it.
"""

from recordings.layout import (
    FORMATS,
    RecordingFormat,
    RecordingName,
    dialplan_filename,
    parse_recording_path,
    recording_path,
)

__all__ = [
    "FORMATS",
    "RecordingFormat",
    "RecordingName",
    "dialplan_filename",
    "parse_recording_path",
    "recording_path",
]
