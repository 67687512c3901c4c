"""A SIP caller for the real-Asterisk tests: SIPp places one call, presses keys as RFC 4733
events (the pcaps SIPp ships), and waits for the PBX to hang up.

The scenario is written per call, so the keys and pauses are plain Python; SIPp's exit code
says whether every step happened (0: the call went as scripted).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from clinicall.sandbox.ports import free_port_run

PCAPS = Path("/usr/share/sip-tester")
_KEY_PCAP = {**{str(d): f"dtmf_2833_{d}.pcap" for d in range(10)},
             "*": "dtmf_2833_star.pcap", "#": "dtmf_2833_pound.pcap"}


def free_media_port(host: str = "127.0.0.1") -> int:
    """An even UDP port with the next three free too (SIPp's audio, RTCP and video), claimed
    like the engines' ports so a parallel worker is never handed the same ones."""
    return free_port_run(4, kind=socket.SOCK_DGRAM, host=host)


def available() -> str | None:
    """Why SIPp cannot run here, or None."""
    if shutil.which("sipp") is None:
        return "sipp is missing (apt-get install sip-tester)"
    if not (PCAPS / _KEY_PCAP["1"]).is_file():
        return f"SIPp's RFC 4733 pcaps are missing from {PCAPS}"
    return None


_INVITE = """INVITE sip:[service]@[remote_ip]:[remote_port]{params} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Patient" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
{auth}Content-Type: application/sdp
Content-Length: [len]

v=0
o=patient 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=sendrecv
"""
_ACK = """ACK sip:[service]@[remote_ip]:[remote_port]{params} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Patient" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: {cseq} ACK
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

"""
_OK_TO_BYE = """SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

"""


def scenario(*, caller: str, keys: str, first_key_ms: int, between_ms: int,
             password: str | None = None, uri_params: str = "") -> str:
    """The call's SIPp XML: INVITE, ACK, keys, then the PBX's BYE (within a minute) answered.

    ``password``: the caller is a phone that logs in: the first INVITE is challenged (401)
    and sent again with its digest answer, as user ``caller``.  ``uri_params`` end the
    request URI (a provider's ``;line=…`` calling back on a registered line).

    A key may be pressed once per call: each pcap carries fixed RTP timestamps, and a second
    event with the same timestamp is, by RFC 4733, the same key press (Asterisk drops it).
    """
    if len(set(keys)) != len(keys):
        raise ValueError(f"each key once per call (RFC 4733 timestamps repeat): {keys!r}")
    def cdata(text: str, cseq: int = 1, auth: str = "") -> str:
        return "<![CDATA[\n" + text.format(caller=caller, cseq=cseq, auth=auth,
                                            params=uri_params) + "]]>"
    steps = [f'<send retrans="500">{cdata(_INVITE)}</send>',
             '<recv response="100" optional="true"/>']
    cseq = 1
    if password is not None:
        answer = f"[authentication username={caller} password={password}]\n"
        steps += ['<recv response="401" auth="true"/>', f"<send>{cdata(_ACK)}</send>",
                  f'<send retrans="500">{cdata(_INVITE, 2, answer)}</send>',
                  '<recv response="100" optional="true"/>']
        cseq = 2
    steps += ['<recv response="180" optional="true"/>',
              '<recv response="183" optional="true"/>', '<recv response="200" rrs="true"/>',
              f"<send>{cdata(_ACK, cseq)}</send>", f'<pause milliseconds="{first_key_ms}"/>']
    for i, key in enumerate(keys):
        if i:
            steps.append(f'<pause milliseconds="{between_ms}"/>')
        steps.append('<nop><action><exec play_pcap_audio="'
                     f'{PCAPS / _KEY_PCAP[key]}"/></action></nop>')
    steps += ['<recv request="BYE" timeout="60000"/>', f"<send>{cdata(_OK_TO_BYE)}</send>"]
    return ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<scenario name="patient">\n'
            + "\n".join(steps) + "\n</scenario>\n")


@dataclass(frozen=True)
class SipCall:
    """One SIPp call from ``local_ip`` to ``number`` at the PBX's ``pbx_port``."""

    local_ip: str
    local_port: int
    media_port: int
    pbx_port: int
    number: str
    caller: str = "380501112233"
    password: str | None = None  # a phone that logs in (its user name is ``caller``)
    uri_params: str = ""  # after the request URI's host and port, e.g. ";line=abc"

    async def run(self, folder: Path, *, keys: str = "", first_key_ms: int = 2500,
                  between_ms: int = 1500, limit_s: float = 90.0) -> tuple[int, str]:
        """SIPp's exit code (0: every step happened) and its output."""
        xml = folder / f"call-{self.local_ip}-{self.local_port}.xml"
        xml.write_text(scenario(caller=self.caller, keys=keys, first_key_ms=first_key_ms,
                                between_ms=between_ms, password=self.password,
                                uri_params=self.uri_params))
        proc = await asyncio.create_subprocess_exec(
            "sipp", f"127.0.0.1:{self.pbx_port}", "-sf", str(xml), "-s", self.number,
            "-i", self.local_ip, "-p", str(self.local_port), "-mi", self.local_ip,
            "-mp", str(self.media_port), "-m", "1", "-l", "1", "-aa", "-nostdin",
            "-timeout", str(int(limit_s)), "-trace_err", "-error_file",
            str(folder / f"sipp-{self.local_port}.err"),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, cwd=folder)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), limit_s + 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode is not None
        errors = folder / f"sipp-{self.local_port}.err"
        detail = errors.read_text(errors="replace") if errors.exists() else ""
        return proc.returncode, out.decode(errors="replace")[-2000:] + detail[-2000:]
