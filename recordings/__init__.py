"""Call recordings: import from the PBX spool, transcoding, checksums, storage layout, retention,
complaint cases and the access audit (to come: see the recordings issue).

Where each engine writes a call's recording is the engine adapter's business
(``clinicall.controller.asterisk.recording_layout`` for MixMonitor); the account hands this
package only neutral ``RecordingStarted`` facts and ``recordings`` rows.
"""
