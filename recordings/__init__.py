"""Call recordings: Asterisk records every answered call; the store keeps the reference.

- ``layout`` (``layout.py``): where a call's recording lives in Asterisk's monitor spool,
  shared by the dialplan generator (the ``MixMonitor`` file name) and the tracker (which reads
  the name back from ``MIXMONITOR_FILENAME``).

MixMonitor starts before ``Queue()`` with option ``b`` (record only while bridged), so an
unanswered call still leaves a file, without audio (a 44-byte WAV; ~2.7 KB of Vorbis headers
for ``ogg``).  Only answered calls get a ``recordings`` row (``controller.tracking``); sweeping
the empty files is for the import step.

Import into storage (size, checksum, duration, transcoding), retention and playback build on
this layout and come later, as modules of their own beside it.
"""

from clinicall.recordings.layout import (
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
